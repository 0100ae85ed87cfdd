"""Byte-class scans for the JSON codec, many bytes at a time.

Sixteen bytes per step with SSE2 (x86_64) or NEON (aarch64), both part of their
architecture's baseline, so no run-time check; then, and on any other machine, eight per
step in portable C (SWAR: SIMD within a register), then one. Every SWAR lane test is exact
per byte (no carry or borrow crosses a lane), so the lowest flagged lane is the first
matching byte: the lowest lane is the first byte on little-endian machines; elsewhere the
scans go one byte at a time. The C is verbatim here (not a header) so that every module
cimporting it builds without an include path. tests/test_scanners_c.py runs all three paths.
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

    /* vec16_string_stops(p, &high): bit k set for each byte k of p[0:16] that stops a string
       (quote, backslash, below 0x20), high: the bytes >= 0x80. vec16_escape_copy(p, dst): the
       bytes json escapes (those, and 0x7f and above), p[0:16] copied to dst on the way. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #define SCAN_VECTOR "sse2"
    static inline unsigned vec16_string_stops(const unsigned char *p, unsigned *high) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(SWAR_QUOTE)),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8(SWAR_BACKSLASH))), control);
        *high = (unsigned)_mm_movemask_epi8(v);
        return (unsigned)_mm_movemask_epi8(stop);
    }
    static inline unsigned vec16_escape_copy(const unsigned char *p, unsigned char *dst) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        _mm_storeu_si128((__m128i *)dst, v);
        __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        __m128i upper = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x7f)), v);
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(SWAR_QUOTE)),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8(SWAR_BACKSLASH))),
                                    _mm_or_si128(control, upper));
        return (unsigned)_mm_movemask_epi8(stop);
    }
    #elif defined(__aarch64__) && defined(__ARM_NEON)
    #include <arm_neon.h>
    #define SCAN_VECTOR "neon"
    static inline unsigned neon_mask(uint8x16_t m) {  /* lane k all ones -> bit k */
        static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
        uint8x16_t b = vandq_u8(m, vld1q_u8(bit));
        return (unsigned)vaddv_u8(vget_low_u8(b)) | ((unsigned)vaddv_u8(vget_high_u8(b)) << 8);
    }
    static inline unsigned vec16_string_stops(const unsigned char *p, unsigned *high) {
        uint8x16_t v = vld1q_u8(p);
        uint8x16_t stop = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(SWAR_QUOTE)), vceqq_u8(v, vdupq_n_u8(SWAR_BACKSLASH))),
                                   vcltq_u8(v, vdupq_n_u8(0x20)));
        *high = neon_mask(vcgeq_u8(v, vdupq_n_u8(0x80)));
        return neon_mask(stop);
    }
    static inline unsigned vec16_escape_copy(const unsigned char *p, unsigned char *dst) {
        uint8x16_t v = vld1q_u8(p);
        vst1q_u8(dst, v);
        uint8x16_t stop = vorrq_u8(vorrq_u8(vceqq_u8(v, vdupq_n_u8(SWAR_QUOTE)), vceqq_u8(v, vdupq_n_u8(SWAR_BACKSLASH))),
                                   vorrq_u8(vcltq_u8(v, vdupq_n_u8(0x20)), vcgeq_u8(v, vdupq_n_u8(0x7f))));
        return neon_mask(stop);
    }
    #else
    #define SCAN_VECTOR "none"
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
    #if defined(__SSE2__) || (defined(__aarch64__) && defined(__ARM_NEON))
        for (; i + 16 <= n; i += 16) {
            unsigned high16, stop = vec16_string_stops(p + i, &high16);
            if (stop) {
                unsigned k = (unsigned)__builtin_ctz(stop);
                seen |= high16 & ((1u << k) - 1);
                *high = seen != 0;
                return i + k;
            }
            seen |= high16;
        }
    #endif
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

    static inline uint64_t swar_escape_stops(uint64_t v) {
        return swar_below(v, 0x20) | swar_at_least_7f(v) | swar_equal(v, SWAR_QUOTE) | swar_equal(v, SWAR_BACKSLASH);
    }

    /* Writing a one-byte-per-character string with ASCII escapes: copies p[0:n] to dst (room
     * for n bytes) up to the first byte json escapes (quote, backslash, below 0x20, 0x7f and
     * above) and returns its offset, or n: one pass, whole blocks loaded and stored (the last
     * one overlapping the one before, whose bytes are plain); bytes past the offset may have
     * been written too, for the caller to overwrite. */
    static inline size_t json_escape_copy(const unsigned char *p, size_t n, unsigned char *dst) {
        size_t i = 0;
    #if defined(__SSE2__) || (defined(__aarch64__) && defined(__ARM_NEON))
        if (n >= 16) {
            unsigned stop;
            for (; i + 16 <= n; i += 16) {
                stop = vec16_escape_copy(p + i, dst + i);
                if (stop)
                    return i + (unsigned)__builtin_ctz(stop);
            }
            if (i == n)
                return n;
            stop = vec16_escape_copy(p + n - 16, dst + n - 16);
            return stop ? n - 16 + (unsigned)__builtin_ctz(stop) : n;
        }
    #endif
    #if SWAR_WORDS
        if (n >= 8) {
            uint64_t v, stop;
            for (; i + 8 <= n; i += 8) {
                v = swar_load(p + i);
                memcpy(dst + i, &v, 8);
                stop = swar_escape_stops(v);
                if (stop)
                    return i + swar_first(stop);
            }
            if (i == n)
                return n;
            v = swar_load(p + n - 8);
            memcpy(dst + n - 8, &v, 8);
            stop = swar_escape_stops(v);
            return stop ? n - 8 + swar_first(stop) : n;
        }
    #endif
        for (; i < n; i++) {
            unsigned char c = p[i];
            if (c == SWAR_QUOTE || c == SWAR_BACKSLASH || c < 0x20 || c >= 0x7f)
                break;
            dst[i] = c;
        }
        return i;
    }
    """
    size_t json_string_stop(const unsigned char *p, size_t n, int *high) noexcept nogil
    size_t json_escape_copy(const unsigned char *p, size_t n, unsigned char *dst) noexcept nogil
