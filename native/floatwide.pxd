"""Doubles to decimal text and back for the numbers floatfmt.pxd leaves (16 to 19 significant
digits: a random fraction, a measurement at full precision), exactly, in 128-bit integers
instead of CPython's arbitrary-precision dtoa. 0 means "not here": the caller takes
CPython's routine.

Reading: mantissa * 10**exponent for a mantissa below 2**64 and |exponent| <= 19 is an exact
integer (a 128-bit product), or an exact quotient taken to 64+ bits with a sticky bit for the
remainder; either is then rounded once to a double (round half to even), as float() rounds.

Writing (1e-4 <= |x| < 1e16, where repr() writes no exponent): x = m * 2**e lies on a grid of
at least 17 significant decimals (x * 10**b, an exact 128-bit integer over 2**t), and every
decimal in x's rounding interval (half the gap to each neighbour, its ends included when m is
even, as float() breaks ties to even) is in reach on that grid. The shortest such decimal, the
closest to x among the shortest (of two as close, the one with an even last digit), is what
repr() writes (David Gay's shortest mode). Left to CPython: a power of two (its lower
neighbour is nearer: a lopsided interval).
"""

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    typedef unsigned __int128 floatwide_u128;

    static const uint64_t FLOATWIDE_POW10[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL, 100000000ULL,
        1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL, 10000000000000000000ULL};

    static inline floatwide_u128 floatwide_pow10(int k) {   /* 10**k, k <= 38 */
        return k <= 19 ? (floatwide_u128)FLOATWIDE_POW10[k]
                       : (floatwide_u128)FLOATWIDE_POW10[19] * FLOATWIDE_POW10[k - 19];
    }

    static inline double floatwide_pow2(int k) {   /* 2**k, -1022 <= k <= 1023 */
        uint64_t bits = (uint64_t)(k + 1023) << 52;
        double d;
        memcpy(&d, &bits, 8);
        return d;
    }

    /* The double nearest mantissa * 10**exponent (|exponent| <= 19), ties to even; 0 when
       exponent is out of that range. */
    static inline int float_from_decimal_wide(uint64_t mantissa, int exponent, double *out) {
        floatwide_u128 num, quotient;
        uint64_t divisor;
        int shift;
        if (exponent < -19 || exponent > 19)
            return 0;
        if (mantissa == 0) {
            *out = 0.0;
            return 1;
        }
        if (exponent >= 0) {
            *out = (double)((floatwide_u128)mantissa * FLOATWIDE_POW10[exponent]);
            return 1;
        }
        divisor = FLOATWIDE_POW10[-exponent];
        shift = 64 + __builtin_clzll(mantissa);      /* the numerator's top bit at bit 127 */
        num = (floatwide_u128)mantissa << shift;
        quotient = num / divisor;                     /* >= 2**63: 64+ bits, then the sticky bit */
        quotient |= quotient * divisor != num;
        *out = (double)quotient * floatwide_pow2(-shift);
        return 1;
    }

    /* repr(x) into out (48 bytes) for 1e-4 <= |x| < 1e16, computed exactly; returns its
       length, or 0 (x out of range, or a power of two). */
    static inline int float_repr_wide(double x, char *out) {
        double a = x < 0 ? -x : x;
        uint64_t bits, m, lo_d, hi_d, c, p10 = 1;
        floatwide_u128 n, half_gap, lo, hi, den, rem;
        int e, t, k, b, j = 0, s, nd = 0, decpt, len = 0, i;
        char digits[24];
        if (!(a >= 1e-4 && a < 1e16))
            return 0;
        memcpy(&bits, &a, 8);
        m = (bits & 0xfffffffffffffULL) | (1ULL << 52);
        e = (int)(bits >> 52) - 1075;                 /* a = m * 2**e */
        if (m == 1ULL << 52)
            return 0;
        /* floor((e + 52) * log10(2)): floor(log10(a)) is k or k + 1 (an arithmetic shift) */
        k = ((e + 52) * 78913) >> 18;
        b = 16 - k;                                   /* the grid: 10**-b, 1 <= b <= 21 */
        t = e < 0 ? -e : 0;
        /* in units of 2**-(t+1): a * 10**b is 2n, half the gap to a neighbour half_gap */
        half_gap = floatwide_pow10(b) << (e > 0 ? e : 0);
        n = half_gap * m;
        lo = 2 * n - half_gap;
        hi = 2 * n + half_gap;
        s = t + 1;
        if ((m & 1) == 0) {                           /* the ends round to x: included */
            lo_d = (uint64_t)((lo + (((floatwide_u128)1 << s) - 1)) >> s);
            hi_d = (uint64_t)(hi >> s);
        } else {
            lo_d = (uint64_t)((lo >> s) + 1);
            hi_d = (uint64_t)((hi - 1) >> s);
        }
        /* [lo_d, hi_d]: the grid's decimals that read back as x; drop digits while one of
           them ends in that many zeros */
        while (hi_d / (p10 * 10) * (p10 * 10) >= lo_d) {
            p10 *= 10;
            j++;
        }
        den = (floatwide_u128)p10 << t;              /* a * 10**(b-j) = n / den */
        c = (uint64_t)(n / den);
        rem = n - (floatwide_u128)c * den;
        if (2 * rem > den || (2 * rem == den && (c & 1)))   /* a tie: the even last digit */
            c++;
        if (c * p10 < lo_d)                          /* the nearest is out: the nearest in */
            c = (lo_d + p10 - 1) / p10;
        else if (c * p10 > hi_d)
            c = hi_d / p10;
        do {
            digits[nd++] = (char)('0' + c % 10);
            c /= 10;
        } while (c);
        decpt = nd + j - b;                           /* digits * 10**(decpt - nd) */
        if (decpt <= -4 || decpt > 16)
            return 0;
        if (x < 0)
            out[len++] = '-';
        if (decpt <= 0) {
            out[len++] = '0';
            out[len++] = '.';
            for (i = 0; i < -decpt; i++)
                out[len++] = '0';
            while (nd)
                out[len++] = digits[--nd];
        } else if (decpt >= nd) {                     /* an integer: digits, zeros, ".0" */
            int zeros = decpt - nd;
            while (nd)
                out[len++] = digits[--nd];
            for (i = 0; i < zeros; i++)
                out[len++] = '0';
            out[len++] = '.';
            out[len++] = '0';
        } else {
            for (i = 0; i < decpt; i++)
                out[len++] = digits[--nd];
            out[len++] = '.';
            while (nd)
                out[len++] = digits[--nd];
        }
        return len;
    }
    """
    int float_from_decimal_wide(unsigned long long mantissa, int exponent, double *out) noexcept nogil
    int float_repr_wide(double x, char *out) noexcept nogil
