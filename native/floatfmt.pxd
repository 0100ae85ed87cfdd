"""Doubles to decimal text and back, exactly as repr() and float() do it, for the common
short numbers (prices, measurements: at most 15 significant digits). Anything else returns
0 and the caller takes CPython's own routines (PyOS_double_to_string/PyOS_string_to_double).

Why these are exact: a decimal m / 10**d with m < 10**15 and d <= 22 has both operands exact
as doubles, so one IEEE division (or multiplication) gives the correctly rounded double,
which is what float() of that text gives. For writing, the first d for which round(|x| * 10**d)
/ 10**d == |x| gives the shortest round-tripping digits; below 10**15 at most one decimal of
that length lies within x's rounding interval, so they are the digits repr() picks, and
1e-4 <= |x| < 1e15 is the range repr() writes without an exponent.
"""

cdef extern from *:
    """
    static const double FLOATFMT_POW10[23] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

    /* repr(x) into out (48 bytes) for 1e-4 <= |x| < 1e15 with at most 15 significant
       digits; returns its length, or 0 for any other x (NaN included). */
    static inline int float_repr_short(double x, char *out) {
        double a = x < 0 ? -x : x;
        char digits[16];
        int d, n, len = 0, i;
        if (!(a >= 1e-4 && a < 1e15))
            return 0;
        for (d = 0; d <= 22; d++) {
            double scaled = a * FLOATFMT_POW10[d];
            unsigned long long m;
            if (scaled >= 1e15)
                return 0;
            m = (unsigned long long)(scaled + 0.5);
            if ((double)m / FLOATFMT_POW10[d] != a)
                continue;
            n = 0;
            do {
                digits[n++] = (char)('0' + m % 10);
                m /= 10;
            } while (m);
            if (x < 0)
                out[len++] = '-';
            if (n <= d) {
                out[len++] = '0';
                out[len++] = '.';
                for (i = 0; i < d - n; i++)
                    out[len++] = '0';
            } else {
                while (n > d)
                    out[len++] = digits[--n];
                out[len++] = '.';
                if (d == 0)
                    out[len++] = '0';
            }
            while (n)
                out[len++] = digits[--n];
            return len;
        }
        return 0;
    }

    /* The double mantissa * 10**exponent (mantissa < 10**15), correctly rounded; 0 when
       |exponent| > 22 (the caller parses the text the long way). */
    static inline int float_from_decimal(unsigned long long mantissa, int exponent, double *out) {
        if (exponent < -22 || exponent > 22)
            return 0;
        *out = exponent >= 0 ? (double)mantissa * FLOATFMT_POW10[exponent]
                             : (double)mantissa / FLOATFMT_POW10[-exponent];
        return 1;
    }
    """
    int float_repr_short(double x, char *out) noexcept nogil
    int float_from_decimal(unsigned long long mantissa, int exponent, double *out) noexcept nogil
