/* The C of native/swar.pxd, floatfmt.pxd and floatwide.pxd (included by tests/test_scanners_c.py
 * from the .pxd files): the scanners against byte-at-a-time loops, every byte value at every
 * offset (up to 40: both vector and word steps) and 300,000 random strings; the 128-bit float
 * routines against CPython's answers in the file argv[1] ("r BITS REPR" and "p MANTISSA
 * EXPONENT BITS" lines, hexadecimal bits). Exit status 0 when they agree. Built for the host and,
 * where zig and qemu are at hand, for aarch64 (little-endian: the SWAR path) and s390x
 * (big-endian: the fallback). */
#include <stdio.h>
#include <stdlib.h>
static size_t ref_string(const unsigned char *p, size_t n, int *high) { size_t i; int h = 0;
  for (i = 0; i < n; i++) { if (p[i] == 0x22 || p[i] == 0x5c || p[i] < 0x20) break; h |= p[i] >= 0x80; } *high = h; return i; }
static size_t ref_escape(const unsigned char *p, size_t n) { size_t i;
  for (i = 0; i < n; i++) if (p[i] == 0x22 || p[i] == 0x5c || p[i] < 0x20 || p[i] >= 0x7f) break; return i; }
static int escape_copy_bad(const unsigned char *p, size_t n) {  /* offset and the bytes copied before it */
  unsigned char dst[64]; size_t k = json_escape_copy(p, n, dst);
  return k != ref_escape(p, n) || memcmp(dst, p, k) != 0; }
static unsigned long check_floats(const char *path, unsigned long *runs) {
  char line[128], text[48], out[48]; unsigned long bad = 0; FILE *f = fopen(path, "r");
  unsigned long long bits_in, want; long long mantissa; int exponent; double x;
  if (!f) return 1;
  while (fgets(line, sizeof line, f)) {
    if (sscanf(line, "r %llx %47s", &bits_in, text) == 2) {
      memcpy(&x, &bits_in, 8); int n = float_repr_wide(x, out);
      if (n) { out[n] = 0; bad += strcmp(out, text) != 0; (*runs)++; }
    } else if (sscanf(line, "p %llu %d %llx", (unsigned long long *)&mantissa, &exponent, &want) == 3) {
      if (float_from_decimal_wide((unsigned long long)mantissa, exponent, &x)) {
        memcpy(&bits_in, &x, 8); bad += bits_in != want; (*runs)++; }
    }
  }
  fclose(f);
  return bad;
}
int main(int argc, char **argv) {
  unsigned char buf[64]; unsigned long bad = 0, runs = 0; unsigned s = 1;
  for (int lead = 0; lead < 8; lead++) for (int at = 0; at < 40; at++) for (int b = 0; b < 256; b++) for (int tail = 0; tail < 10; tail++) {
    size_t n = at + 1 + tail; memset(buf, 'a', sizeof buf); buf[lead + at] = (unsigned char)b;
    int h1, h2; size_t r1 = json_string_stop(buf + lead, n, &h1), r2 = ref_string(buf + lead, n, &h2);
    if (r1 != r2 || h1 != h2) bad++;
    if (escape_copy_bad(buf + lead, n)) bad++;
    runs++;
  }
  for (int t = 0; t < 300000; t++) { size_t n = 0; int lead = 0;
    s = s * 1103515245u + 12345u; n = (s >> 8) % 48; lead = (s >> 20) % 8;
    for (size_t i = 0; i < n + lead; i++) { s = s * 1103515245u + 12345u; unsigned r = (s >> 16) & 0xff; buf[i] = (s >> 27) & 1 ? 'a' + r % 20 : r; }
    int h1, h2; if (json_string_stop(buf + lead, n, &h1) != ref_string(buf + lead, n, &h2) || h1 != h2) bad++;
    if (escape_copy_bad(buf + lead, n)) bad++; runs++; }
  unsigned long float_runs = 0;
  if (argc > 1) bad += check_floats(argv[1], &float_runs);
  char out[48]; double x = 1234.56; int len = float_repr_short(x, out); out[len] = 0;
  printf("runs %lu bad %lu swar %d vector %s floats %lu repr(1234.56)=%s\n", runs, bad, SWAR_WORDS, SCAN_VECTOR,
         float_runs, out);
  return bad != 0;
}
