/* The C of native/swar.pxd and native/floatfmt.pxd (included by tests/test_scanners_c.py from
 * the .pxd files) against byte-at-a-time loops: every byte value at every offset (up to 40: both vector and word steps) and 300,000
 * random strings. Exit status 0 when they agree. Built for the host and, where zig and qemu are
 * at hand, for aarch64 (little-endian: the SWAR path) and s390x (big-endian: the fallback). */
#include <stdio.h>
#include <stdlib.h>
static size_t ref_string(const unsigned char *p, size_t n, int *high) { size_t i; int h = 0;
  for (i = 0; i < n; i++) { if (p[i] == 0x22 || p[i] == 0x5c || p[i] < 0x20) break; h |= p[i] >= 0x80; } *high = h; return i; }
static size_t ref_escape(const unsigned char *p, size_t n) { size_t i;
  for (i = 0; i < n; i++) if (p[i] == 0x22 || p[i] == 0x5c || p[i] < 0x20 || p[i] >= 0x7f) break; return i; }
int main(void) {
  unsigned char buf[64]; unsigned long bad = 0, runs = 0; unsigned s = 1;
  for (int lead = 0; lead < 8; lead++) for (int at = 0; at < 40; at++) for (int b = 0; b < 256; b++) for (int tail = 0; tail < 10; tail++) {
    size_t n = at + 1 + tail; memset(buf, 'a', sizeof buf); buf[lead + at] = (unsigned char)b;
    int h1, h2; size_t r1 = json_string_stop(buf + lead, n, &h1), r2 = ref_string(buf + lead, n, &h2);
    if (r1 != r2 || h1 != h2) bad++;
    if (json_escape_stop(buf + lead, n) != ref_escape(buf + lead, n)) bad++;
    runs++;
  }
  for (int t = 0; t < 300000; t++) { size_t n = 0; int lead = 0;
    s = s * 1103515245u + 12345u; n = (s >> 8) % 48; lead = (s >> 20) % 8;
    for (size_t i = 0; i < n + lead; i++) { s = s * 1103515245u + 12345u; unsigned r = (s >> 16) & 0xff; buf[i] = (s >> 27) & 1 ? 'a' + r % 20 : r; }
    int h1, h2; if (json_string_stop(buf + lead, n, &h1) != ref_string(buf + lead, n, &h2) || h1 != h2) bad++;
    if (json_escape_stop(buf + lead, n) != ref_escape(buf + lead, n)) bad++; runs++; }
  char out[48]; double x = 1234.56; int len = float_repr_short(x, out); out[len] = 0;
  printf("runs %lu bad %lu swar %d vector %s repr(1234.56)=%s\n", runs, bad, SWAR_WORDS, SCAN_VECTOR, out);
  return bad != 0;
}
