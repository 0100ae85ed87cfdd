"""Byte-class scans for the JSON codec, eight bytes at a time (SWAR: SIMD within a register).

Portable C, no intrinsics: the same code builds for x86_64 and aarch64 (zig cc, gcc,
clang). Every lane test is exact per byte (no carry or borrow crosses a lane), so the
lowest flagged lane is the first matching byte: the lowest lane is the first byte on
little-endian machines; elsewhere the scans go one byte at a time. The C is verbatim here
(not a header) so that every module cimporting it builds without an include path.
"""

cdef extern from *:
    """
    #include <stddef.h>
    #include <stdint.h>
    #include <string.h>

    #define SWAR_ONES 0x0101010101010101ULL
    #define SWAR_LOW7 0x7f7f7f7f7f7f7f7fULL
    #define SWAR_HIGH 0x8080808080808080ULL
    #define SWAR_QUOTE 0x22
    #define SWAR_BACKSLASH 0x5c

    #if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    #define SWAR_WORDS 1
    #else
    #define SWAR_WORDS 0
    #endif

    static inline uint64_t swar_load(const unsigned char *p) {
        uint64_t v;
        memcpy(&v, p, 8);  /* one unaligned load */
        return v;
    }

    /* High bit of each lane whose byte is below n (n <= 0x80). */
    static inline uint64_t swar_below(uint64_t v, unsigned n) {
        return ~(((v & SWAR_LOW7) + (0x80 - n) * SWAR_ONES) | v) & SWAR_HIGH;
    }

    /* High bit of each lane whose byte equals c. */
    static inline uint64_t swar_equal(uint64_t v, unsigned char c) {
        uint64_t x = v ^ (c * SWAR_ONES);
        return ~(((x & SWAR_LOW7) + SWAR_LOW7) | x) & SWAR_HIGH;
    }

    /* High bit of each lane whose byte is 0x7f or above. */
    static inline uint64_t swar_at_least_7f(uint64_t v) {
        return (((v & SWAR_LOW7) + SWAR_ONES) | v) & SWAR_HIGH;
    }

    static inline size_t swar_first(uint64_t mask) {
        return (size_t)__builtin_ctzll(mask) >> 3;
    }

    /* Reading a JSON string: the offset of the first quote, backslash or control byte (< 0x20) in
     * p[0:n], or n. *high is set non-zero when a byte >= 0x80 comes before that offset. */
    static inline size_t json_string_stop(const unsigned char *p, size_t n, int *high) {
        size_t i = 0;
        uint64_t seen = 0;
    #if SWAR_WORDS
        for (; i + 8 <= n; i += 8) {
            uint64_t v = swar_load(p + i);
            uint64_t stop = swar_below(v, 0x20) | swar_equal(v, SWAR_QUOTE) | swar_equal(v, SWAR_BACKSLASH);
            if (stop) {
                size_t k = swar_first(stop);
                seen |= v & SWAR_HIGH & ((1ULL << (8 * k)) - 1);  /* the lanes before the stop */
                *high = seen != 0;
                return i + k;
            }
            seen |= v & SWAR_HIGH;
        }
    #endif
        for (; i < n; i++) {
            unsigned char c = p[i];
            if (c == SWAR_QUOTE || c == SWAR_BACKSLASH || c < 0x20)
                break;
            seen |= c & 0x80;
        }
        *high = seen != 0;
        return i;
    }

    /* Writing a one-byte-per-character string with ASCII escapes: the offset of the first byte
     * json escapes (quote, backslash, below 0x20, 0x7f and above) in p[0:n], or n. */
    static inline size_t json_escape_stop(const unsigned char *p, size_t n) {
        size_t i = 0;
    #if SWAR_WORDS
        for (; i + 8 <= n; i += 8) {
            uint64_t v = swar_load(p + i);
            uint64_t stop = swar_below(v, 0x20) | swar_at_least_7f(v) | swar_equal(v, SWAR_QUOTE) | swar_equal(v, SWAR_BACKSLASH);
            if (stop)
                return i + swar_first(stop);
        }
    #endif
        for (; i < n; i++) {
            unsigned char c = p[i];
            if (c == SWAR_QUOTE || c == SWAR_BACKSLASH || c < 0x20 || c >= 0x7f)
                break;
        }
        return i;
    }
    """
    size_t json_string_stop(const unsigned char *p, size_t n, int *high) noexcept nogil
    size_t json_escape_stop(const unsigned char *p, size_t n) noexcept nogil
