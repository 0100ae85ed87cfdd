# cython: language_level=3, boundscheck=False, wraparound=False
"""JSON for the invocation loop, in C: events read from their bytes, results written as bytes.

lambda_runtime.marshal owns the rules (what awslambdaric reads and writes, as json does);
Codec is its fast path for the loop. Events are read from the UTF-8 bytes where they lie
(read_value), results written straight into one byte buffer (write_value), for plain JSON
and the plain types a handler returns (dict with str keys, list, tuple, str, int, float,
bool, None; a float NaN or infinity is written NaN/Infinity/-Infinity, as marshal writes
it). Anything else goes to marshal's own loads/dumps, which decide: on output another
type, a subclass, nesting past MAX_DEPTH, a cycle; on input NaN/Infinity, a number past
18 digits, nesting past MAX_DEPTH, a lone surrogate escape, an error.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.mem cimport PyMem_Free
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH
from libc.math cimport isfinite
from libc.stdint cimport uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, strlen

from asciichars cimport hex_digit
from bytebuf cimport (ByteBuf, buf_adopt, buf_bytes, buf_char, buf_decimal, buf_free, buf_init, buf_put,
                     buf_release, buf_reserve)
from cpython.ref cimport PyObject, Py_INCREF, Py_XDECREF
from lentbytes cimport LEND_MAX, lend, returned
from floatfmt cimport float_from_decimal, float_repr_short
from floatwide cimport float_from_decimal_wide, float_repr_wide
from swar cimport json_escape_copy, json_string_stop

cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    bint PyUnicode_IS_ASCII(object o)
    int PyUnicode_1BYTE_KIND
    int PyUnicode_2BYTE_KIND
    void *PyUnicode_DATA(object o)
    str PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    char *PyOS_double_to_string(double val, char format_code, int precision, int flags, int *ptype) except NULL
    double PyOS_string_to_double(const char *s, char **endptr, void *overflow_exception) except? -1.0
    int PyGC_Disable()
    int PyGC_Enable()
    bint PyDict_Next(object d, Py_ssize_t *pos, PyObject **key, PyObject **value) noexcept
    int Py_DTSF_ADD_DOT_0

DEF MAX_DEPTH = 200         # deeper values go to marshal (which tells a cycle from depth)
DEF GC_PAUSE_MIN = 65536    # documents from this size on are decoded with the collector paused


# -- the encoder ----------------------------------------------------------------------

cdef const char *HEX = b"0123456789abcdef"


cdef inline char *put_hex4(char *w, unsigned int code) noexcept:
    w[0] = b'\\'
    w[1] = b'u'
    w[2] = HEX[(code >> 12) & 15]
    w[3] = HEX[(code >> 8) & 15]
    w[4] = HEX[(code >> 4) & 15]
    w[5] = HEX[code & 15]
    return w + 6


# JSON's two-character escapes: ESCAPED[c] is the letter after the backslash for character
# c (0: none), UNESCAPED[letter] the character it stands for (0: not an escape letter).
cdef unsigned char ESCAPED[128]
cdef unsigned char UNESCAPED[128]


cdef void fill_escape_tables() noexcept:
    cdef const char *letters = b'"\\/bfnrt'
    cdef const char *chars = b'"\\/\b\f\n\r\t'
    cdef int i
    for i in range(128):
        ESCAPED[i] = UNESCAPED[i] = 0
    for i in range(8):
        UNESCAPED[<unsigned char>letters[i]] = <unsigned char>chars[i]
        if letters[i] != b'/':  # json reads "\\/" but writes "/" as it is
            ESCAPED[<unsigned char>chars[i]] = <unsigned char>letters[i]


fill_escape_tables()

DEF MAX_ESCAPE = 12         # a surrogate pair: two \\uXXXX


cdef inline char *put_escape(char *w, unsigned int code) noexcept:
    """One character outside ' '..'~' (or a quote or backslash) at w, as json's ASCII encoder
    writes it: a short escape, else \\uXXXX, a surrogate pair past the BMP. Returns the end."""
    if code < 128 and ESCAPED[code]:
        w[0] = b'\\'
        w[1] = <char>ESCAPED[code]
        return w + 2
    if code >= 0x10000:
        code -= 0x10000
        w = put_hex4(w, 0xd800 | ((code >> 10) & 0x3ff))
        code = 0xdc00 | (code & 0x3ff)
    return put_hex4(w, code)


cdef int write_narrow(ByteBuf *out, const unsigned char *text, Py_ssize_t n) except -1:
    """A one-byte-per-character string (ASCII or Latin-1): the runs between escapes copied
    as they are scanned, many bytes at a time."""
    cdef Py_ssize_t i = 0, run
    cdef char *w
    while True:
        w = buf_reserve(out, n - i)
        run = json_escape_copy(text + i, n - i, <unsigned char *>w)
        out.len += run
        i += run
        if i >= n:
            return 0
        w = buf_reserve(out, MAX_ESCAPE)
        out.len = put_escape(w, text[i]) - out.data
        i += 1


DEF WIDE_BLOCK = 256        # characters per room reservation

ctypedef fused wide_char:
    uint16_t    # Py_UCS2
    uint32_t    # Py_UCS4


cdef inline char *escape_wide(wide_char *text, Py_ssize_t n, char *w) noexcept:
    """text[0:n] at w, ASCII as it is, the rest escaped; returns the end. A loop per
    character size: no size switch per character."""
    cdef Py_ssize_t i
    cdef unsigned int c
    for i in range(n):
        c = text[i]
        if 32 <= c <= 126 and c != 34 and c != 92:
            w[0] = <char>c
            w += 1
        else:
            w = put_escape(w, c)
    return w


cdef int write_wide(ByteBuf *out, int kind, void *data, Py_ssize_t n) except -1:
    """A two- or four-byte-per-character string, into room reserved a block at a time."""
    cdef Py_ssize_t i = 0, size
    cdef char *w
    while i < n:
        size = WIDE_BLOCK if n - i > WIDE_BLOCK else n - i
        w = buf_reserve(out, MAX_ESCAPE * size)
        if kind == PyUnicode_2BYTE_KIND:
            w = escape_wide(<uint16_t *>data + i, size, w)
        else:
            w = escape_wide(<uint32_t *>data + i, size, w)
        out.len = w - out.data
        i += size
    return 0


cdef int write_str(ByteBuf *out, str s) except -1:
    cdef int kind = PyUnicode_KIND(s)
    buf_char(out, b'"')
    if kind == PyUnicode_1BYTE_KIND:
        write_narrow(out, PyUnicode_1BYTE_DATA(s), PyUnicode_GET_LENGTH(s))
    else:
        write_wide(out, kind, PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s))
    return buf_char(out, b'"')


DEF KEY_OUT_SLOTS = 256     # a power of two
DEF KEY_OUT_CHARS = 32      # longer keys are written each time
DEF KEY_OUT_MAX = KEY_OUT_CHARS + 6   # ', "' + key + '": '


cdef struct WrittenKey:
    PyObject *key           # a reference held: no other string can take its address
    Py_ssize_t len
    char text[KEY_OUT_MAX + 2]   # + 2: copied KEY_OUT_MAX at a time from text + 2 too


cdef WrittenKey written_keys[KEY_OUT_SLOTS]


cdef int write_key(ByteBuf *out, PyObject *key, bint first) except -1:
    """A dict key with its separators: ', "key": ' (no comma first). Keys repeat, as the very
    same string objects (the decoder's key cache, a handler's literals): short ASCII ones
    are written once into written_keys, by address, and copied from there."""
    cdef WrittenKey *entry = &written_keys[(<size_t>key >> 4) & (KEY_OUT_SLOTS - 1)]
    cdef Py_ssize_t skip = 2 if first else 0
    cdef char *w
    if entry.key != key and not remember_key(entry, key):
        if not first:
            buf_put(out, b", ", 2)
        write_str(out, <str><object>key)
        return buf_put(out, b": ", 2)
    w = buf_reserve(out, KEY_OUT_MAX)
    memcpy(w, entry.text + skip, KEY_OUT_MAX)   # a constant size: a few vector moves
    out.len += entry.len - skip
    return 0


cdef bint remember_key(WrittenKey *entry, PyObject *key) noexcept:
    """Fills entry with key (replacing what it held) if it is ASCII with nothing to escape
    and at most KEY_OUT_CHARS long; False if not, entry left as it was (still right for the
    key it holds)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(<object>key)
    cdef unsigned char copied[KEY_OUT_CHARS]
    if n > KEY_OUT_CHARS or not PyUnicode_IS_ASCII(<object>key):
        return False
    if <Py_ssize_t>json_escape_copy(PyUnicode_1BYTE_DATA(<object>key), n, copied) != n:
        return False
    Py_INCREF(<object>key)
    Py_XDECREF(entry.key)
    entry.key = key
    memcpy(entry.text, b', "', 3)
    memcpy(entry.text + 3, copied, n)
    memcpy(entry.text + 3 + n, b'": ', 3)
    entry.len = n + 6
    return True


cdef int write_int(ByteBuf *out, object value) except -1:
    cdef int overflow = 0
    cdef long long n = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow:
        text = int.__repr__(value)
        return buf_put(out, <const char *>PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text))
    if n < 0:
        buf_char(out, b'-')
        return buf_decimal(out, <unsigned long long>(-(n + 1)) + 1)
    return buf_decimal(out, <unsigned long long>n)


cdef int write_float(ByteBuf *out, double value) except -1:
    cdef char *text
    cdef char short[48]
    cdef int n = float_repr_short(value, short)
    if not n:
        n = float_repr_wide(value, short)
    if n:
        return buf_put(out, short, n)
    if not isfinite(value):
        if value != value:
            return buf_put(out, b"NaN", 3)
        return buf_put(out, b"Infinity", 8) if value > 0 else buf_put(out, b"-Infinity", 9)
    text = PyOS_double_to_string(value, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
    try:
        buf_put(out, text, strlen(text))
    finally:
        PyMem_Free(text)
    return 0


cdef bint write_value(ByteBuf *out, object value, int depth) except -1:
    """Appends value as JSON; False (with out partly written) for a value left to marshal."""
    cdef type kind = type(value)
    cdef bint first = True
    cdef Py_ssize_t pos = 0
    cdef PyObject *key
    cdef PyObject *member
    if kind is str:
        write_str(out, <str>value)
    elif value is None:
        buf_put(out, b"null", 4)
    elif value is True:
        buf_put(out, b"true", 4)
    elif value is False:
        buf_put(out, b"false", 5)
    elif kind is int:
        write_int(out, value)
    elif kind is float:
        write_float(out, <double>value)
    elif depth >= MAX_DEPTH:
        return False
    elif kind is dict:
        # Borrowed references, no size check per step: nothing here runs Python code that
        # could change the dict.
        buf_char(out, b'{')
        while PyDict_Next(value, &pos, &key, &member):
            if type(<object>key) is not str:
                return False
            write_key(out, key, first)
            first = False
            if not write_value(out, <object>member, depth + 1):
                return False
        buf_char(out, b'}')
    elif kind is list or kind is tuple:
        buf_char(out, b'[')
        for item in value:
            if not first:
                buf_put(out, b", ", 2)
            first = False
            if not write_value(out, item, depth + 1):
                return False
        buf_char(out, b']')
    else:
        return False
    return True


# -- the decoder ----------------------------------------------------------------------
# A JSON text in UTF-8 bytes, read where it lies. Any input it does not take as plain
# JSON (NaN/Infinity, an error, a number past 18 digits, nesting past MAX_DEPTH, a lone
# surrogate escape) raises _LeftToMarshal; loads() then asks marshal, which decides.

class _LeftToMarshal(Exception):
    pass


cdef struct Src:
    const unsigned char *p
    Py_ssize_t n
    Py_ssize_t i


cdef inline void skip_space(Src *s) noexcept:
    while s.i < s.n and (s.p[s.i] == 32 or s.p[s.i] == 10 or s.p[s.i] == 13 or s.p[s.i] == 9):
        s.i += 1


cdef inline int expect(Src *s, const char *word, Py_ssize_t n) except -1:
    if s.n - s.i < n or memcmp(s.p + s.i, word, n) != 0:
        raise _LeftToMarshal()
    s.i += n
    return 0


cdef object read_value(Src *s, int depth):
    cdef unsigned char c
    skip_space(s)
    if s.i >= s.n:
        raise _LeftToMarshal()
    c = s.p[s.i]
    if c == b'"':
        s.i += 1
        return read_string(s)
    if c == b'{':
        return read_object(s, depth)
    if c == b'[':
        return read_array(s, depth)
    if c == b'-' or b'0' <= c <= b'9':
        return read_number(s)
    if c == b't':
        expect(s, b"true", 4)
        return True
    if c == b'f':
        expect(s, b"false", 5)
        return False
    if c == b'n':
        expect(s, b"null", 4)
        return None
    raise _LeftToMarshal()


cdef inline bint at(Src *s, unsigned char c) noexcept:
    return s.i < s.n and s.p[s.i] == c


cdef bint open_container(Src *s, unsigned char close, int depth) except -1:
    """Passes the opening bracket; False for an empty container (its close passed too)."""
    if depth >= MAX_DEPTH:
        raise _LeftToMarshal()
    s.i += 1
    skip_space(s)
    if at(s, close):
        s.i += 1
        return False
    return True


cdef bint next_item(Src *s, unsigned char close) except -1:
    """After an item: True past a comma (another item follows), False past the close."""
    skip_space(s)
    if at(s, b','):
        s.i += 1
        return True
    if at(s, close):
        s.i += 1
        return False
    raise _LeftToMarshal()


cdef dict read_object(Src *s, int depth):
    cdef dict result = {}
    if not open_container(s, b'}', depth):
        return result
    while True:
        skip_space(s)
        if not at(s, b'"'):
            raise _LeftToMarshal()
        s.i += 1
        key = read_key(s)
        skip_space(s)
        if not at(s, b':'):
            raise _LeftToMarshal()
        s.i += 1
        result[key] = read_value(s, depth + 1)
        if not next_item(s, b'}'):
            return result


cdef list read_array(Src *s, int depth):
    cdef list result = []
    if not open_container(s, b']', depth):
        return result
    while True:
        result.append(read_value(s, depth + 1))
        if not next_item(s, b']'):
            return result


cdef inline bint at_digit(Src *s) noexcept:
    return s.i < s.n and b'0' <= s.p[s.i] <= b'9'


cdef object read_number(Src *s):
    """-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?: an int of at most 18 digits, or a float:
    made from its digits when there are at most 19 (floatfmt.pxd, floatwide.pxd), else read by
    the same routine as float() (json's own)."""
    cdef Py_ssize_t start = s.i, digits = 0
    cdef unsigned long long mantissa = 0   # the first 19 significant digits
    cdef int significant = 0, exponent = 0, exp_value = 0
    cdef bint negative = False, is_float = False, exp_negative = False
    cdef unsigned char d
    cdef double value
    cdef char text[64]
    if s.p[s.i] == b'-':
        negative = True
        s.i += 1
    if not at_digit(s):
        raise _LeftToMarshal()  # "-Infinity", or an error
    if s.p[s.i] == b'0':
        s.i += 1
        digits = 1
    else:
        while at_digit(s):
            if significant < 19:
                mantissa = mantissa * 10 + (s.p[s.i] - 48)
            else:
                exponent += 1
            significant += 1
            digits += 1
            s.i += 1
    if s.i < s.n and s.p[s.i] == b'.':
        is_float = True
        s.i += 1
        if not at_digit(s):
            raise _LeftToMarshal()
        while at_digit(s):
            d = s.p[s.i] - 48
            if significant < 19 and (significant > 0 or d != 0):
                mantissa = mantissa * 10 + d
                significant += 1
                exponent -= 1
            elif significant == 0:
                exponent -= 1          # a leading zero of the fraction
            else:
                significant += 1       # past 19 digits: not exact, read the long way
            s.i += 1
    if s.i < s.n and (s.p[s.i] == b'e' or s.p[s.i] == b'E'):
        is_float = True
        s.i += 1
        if s.i < s.n and (s.p[s.i] == b'+' or s.p[s.i] == b'-'):
            exp_negative = s.p[s.i] == b'-'
            s.i += 1
        if not at_digit(s):
            raise _LeftToMarshal()
        while at_digit(s):
            if exp_value < 100000:
                exp_value = exp_value * 10 + (s.p[s.i] - 48)
            s.i += 1
        exponent += -exp_value if exp_negative else exp_value
    if not is_float:
        if digits > 18:
            raise _LeftToMarshal()
        return -<long long>mantissa if negative else <long long>mantissa
    if significant <= 15 and float_from_decimal(mantissa, exponent, &value):
        return -value if negative else value
    if significant <= 19 and float_from_decimal_wide(mantissa, exponent, &value):
        return -value if negative else value
    if s.i - start >= <Py_ssize_t>sizeof(text):
        raise _LeftToMarshal()
    memcpy(text, s.p + start, s.i - start)
    text[s.i - start] = 0
    return PyOS_string_to_double(text, NULL, NULL)


cdef inline str ascii_str(const unsigned char *text, Py_ssize_t n):
    """ASCII bytes as a str: allocated and copied, with no second scan."""
    cdef str result = PyUnicode_New(n, 127)
    memcpy(PyUnicode_1BYTE_DATA(result), text, n)
    return result


cdef str read_string(Src *s):
    """The string whose opening quote was just passed. Without escapes it is made from the
    bytes where they lie (ASCII copied, else decoded as UTF-8); with them, unescaped into a
    copy first. The scan for its end goes a word at a time."""
    cdef Py_ssize_t start = s.i, n
    cdef int high = 0
    n = json_string_stop(s.p + start, s.n - start, &high)
    s.i = start + n
    if s.i >= s.n:
        raise _LeftToMarshal()  # unterminated
    if s.p[s.i] == b'"':
        s.i += 1
        if high:
            return decode_utf8(<const char *>s.p + start, n)
        return ascii_str(s.p + start, n)
    if s.p[s.i] == b'\\':
        return read_escaped_string(s, start, high)
    raise _LeftToMarshal()  # a raw control character: an error in strict JSON


DEF KEY_CACHE_SETS = 256     # a power of two; two keys per set
DEF KEY_CACHE_MAX = 32       # longer keys are not cached
cdef list key_cache = [None] * (2 * KEY_CACHE_SETS)


cdef inline uint64_t load_word(const unsigned char *p) noexcept:
    cdef uint64_t v
    memcpy(&v, p, 8)
    return v


cdef inline unsigned int key_set(const unsigned char *p, Py_ssize_t n) noexcept:
    """A key's set in key_cache: a hash of its length and its first and last 8 bytes (all of
    it, up to 16 bytes)."""
    cdef uint64_t first = 0, last = 0
    cdef Py_ssize_t i
    if n >= 8:
        first = load_word(p)
        last = load_word(p + n - 8)
    else:
        for i in range(n):
            first = first << 8 | p[i]
    return <unsigned int>(((first * 0x9e3779b97f4a7c15ULL) ^ (last * 0xc2b2ae3d27d4eb4fULL) ^ <uint64_t>n)
                          >> 40) & (KEY_CACHE_SETS - 1)


cdef inline bint same_key(object cached, const unsigned char *p, Py_ssize_t n) noexcept:
    return (cached is not None and PyUnicode_GET_LENGTH(cached) == n
            and memcmp(PyUnicode_1BYTE_DATA(cached), p, n) == 0)


cdef str read_key(Src *s):
    """An object key (its opening quote passed). Short ASCII keys without escapes come from
    key_cache (two per set, the newest first): keys repeat within an event and across
    events, and a cached string is neither allocated nor hashed again when it goes into the
    dict."""
    cdef Py_ssize_t start = s.i, n
    cdef int high = 0
    cdef unsigned int way
    cdef const unsigned char *p = s.p + start
    n = json_string_stop(p, s.n - start, &high)
    if n > KEY_CACHE_MAX or high or start + n >= s.n or p[n] != b'"':
        return read_string(s)  # long, non-ASCII, escaped or unterminated: not cached
    s.i = start + n + 1
    way = 2 * key_set(p, n)
    cached = key_cache[way]
    if same_key(cached, p, n):
        return <str>cached
    other = key_cache[way + 1]
    if same_key(other, p, n):
        key_cache[way], key_cache[way + 1] = other, cached
        return <str>other
    key = ascii_str(p, n)
    key_cache[way], key_cache[way + 1] = key, cached
    return key


cdef str decode_utf8(const char *text, Py_ssize_t n):
    try:
        return PyUnicode_DecodeUTF8(text, n, NULL)
    except UnicodeDecodeError:
        raise _LeftToMarshal() from None


cdef int hex4(Src *s) except -1:
    cdef int i, digit, code = 0
    if s.n - s.i < 4:
        raise _LeftToMarshal()
    for i in range(4):
        digit = hex_digit(s.p[s.i + i])
        if digit < 0:
            raise _LeftToMarshal()
        code = code * 16 + digit
    s.i += 4
    return code


cdef int put_utf8(ByteBuf *out, unsigned int code) except -1:
    cdef char b[4]
    if code < 0x80:
        return buf_char(out, <char>code)
    if code < 0x800:
        b[0] = <char>(0xc0 | (code >> 6))
        b[1] = <char>(0x80 | (code & 0x3f))
        return buf_put(out, b, 2)
    if code < 0x10000:
        b[0] = <char>(0xe0 | (code >> 12))
        b[1] = <char>(0x80 | ((code >> 6) & 0x3f))
        b[2] = <char>(0x80 | (code & 0x3f))
        return buf_put(out, b, 3)
    b[0] = <char>(0xf0 | (code >> 18))
    b[1] = <char>(0x80 | ((code >> 12) & 0x3f))
    b[2] = <char>(0x80 | ((code >> 6) & 0x3f))
    b[3] = <char>(0x80 | (code & 0x3f))
    return buf_put(out, b, 4)


cdef int read_escape(Src *s, ByteBuf *out) except -1:
    """The escape after a backslash (s.i past it) appended to out as UTF-8; returns 1 if that
    is not ASCII."""
    cdef unsigned char c
    cdef unsigned int code, low
    if s.i >= s.n:
        raise _LeftToMarshal()
    c = s.p[s.i]
    s.i += 1
    if c < 128 and UNESCAPED[c]:
        buf_char(out, <char>UNESCAPED[c])
        return 0
    if c != b'u':
        raise _LeftToMarshal()
    code = hex4(s)
    if 0xd800 <= code <= 0xdbff and s.n - s.i >= 6 and s.p[s.i] == b'\\' and s.p[s.i + 1] == b'u':
        s.i += 2
        low = hex4(s)
        if not 0xdc00 <= low <= 0xdfff:
            raise _LeftToMarshal()  # json keeps both as they are
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
    elif 0xd800 <= code <= 0xdfff:
        raise _LeftToMarshal()  # a lone surrogate: not UTF-8, json keeps it
    put_utf8(out, code)
    return code >= 0x80


cdef str read_escaped_string(Src *s, Py_ssize_t start, int high):
    """A string with escapes: s.p[start:s.i] is its first run, s.i at a backslash. Runs are
    copied whole, escapes unescaped, into a UTF-8 copy."""
    cdef ByteBuf out
    cdef Py_ssize_t n
    cdef int run_high = 0
    buf_init(&out)
    try:
        buf_put(&out, <const char *>s.p + start, s.i - start)
        while True:
            s.i += 1  # the backslash
            high |= read_escape(s, &out)
            n = json_string_stop(s.p + s.i, s.n - s.i, &run_high)
            high |= run_high
            buf_put(&out, <const char *>s.p + s.i, n)
            s.i += n
            if s.i >= s.n:
                raise _LeftToMarshal()  # unterminated
            if s.p[s.i] == b'"':
                s.i += 1
                if high:
                    return decode_utf8(out.data, out.len)
                return ascii_str(<const unsigned char *>out.data, out.len)
            if s.p[s.i] != b'\\':
                raise _LeftToMarshal()  # a raw control character
    finally:
        buf_free(&out)


cdef class Codec:
    """loads(bytes) -> value and dumps(value) -> bytes, as marshal.loads/dumps would."""
    cdef object slow_loads, slow_dumps
    cdef Py_ssize_t large_hint   # a result past the stack starts this big (see dumps())
    cdef PyObject *spare         # the last large result's buffer, lent (lentbytes.pxd)
    cdef Py_ssize_t spare_cap

    def __dealloc__(self):
        Py_XDECREF(self.spare)

    def __cinit__(self, slow_loads, slow_dumps):
        """slow_loads(bytes) and slow_dumps(value) -> str: the full rules, errors included."""
        self.slow_loads = slow_loads
        self.slow_dumps = slow_dumps

    cpdef object loads(self, bytes data):
        cdef Src src
        cdef bint collecting = False
        src.p = <const unsigned char *>PyBytes_AS_STRING(data)
        src.n = PyBytes_GET_SIZE(data)
        src.i = 0
        if src.n >= GC_PAUSE_MIN:
            # A decoded document holds no cycle: the collector, which would run every few
            # hundred containers (walking older objects too), runs once afterwards.
            collecting = PyGC_Disable()
        try:
            value = read_value(&src, 0)
            skip_space(&src)
            if src.i == src.n:
                return value
        except _LeftToMarshal:
            pass
        finally:
            if collecting:
                PyGC_Enable()
        return self.slow_loads(data)  # the exact value, or marshal's error

    cpdef bytes dumps(self, value):
        cdef ByteBuf out
        cdef Py_ssize_t n
        buf_init(&out)
        # A large result starts at the size of the last one (and a little more): results
        # repeat in size, and one allocation leaves no trail of doubled, freed buffers.
        # When the last one's buffer is free again and of that size, it is that buffer.
        out.heap_start = self.large_hint
        if self.spare != NULL:
            self.take_back_spare(&out)
        try:
            if write_value(&out, value, 0):
                if out.heap == NULL:
                    return buf_bytes(&out)
                self.large_hint = out.len + out.len // 8
                if out.cap > LEND_MAX:
                    return buf_bytes(&out)  # an outlier: shrunk to fit, given for good
                n = out.len
                self.spare_cap = out.cap
                self.spare = buf_release(&out)
                return lend(self.spare, n)  # the buffer it was written in: no copy
        finally:
            buf_free(&out)
        return (<str>self.slow_dumps(value)).encode("utf-8")  # the exact result, or marshal's error

    cdef void take_back_spare(self, ByteBuf *out) noexcept:
        """out starts in the spare buffer if nobody holds its last result any more and it is
        the expected size (no more than about twice it); else the spare goes."""
        cdef PyObject *spare = self.spare
        cdef Py_ssize_t want = self.large_hint
        self.spare = NULL
        if returned(spare) and want <= self.spare_cap <= 2 * want + 65536:
            buf_adopt(out, spare, self.spare_cap)
        else:
            Py_XDECREF(spare)


def _scan(bytes data, Py_ssize_t start, bint escape):
    """Tests only: the scanners of native/swar.pxd on data[start:], read in place (so that
    start moves the scan against the 8-byte boundaries). escape: json_escape_copy ((offset,
    the bytes it copied before it)); else json_string_stop ((offset, non-ASCII seen before it))."""
    cdef const unsigned char *p = <const unsigned char *>PyBytes_AS_STRING(data) + start
    cdef size_t n = PyBytes_GET_SIZE(data) - start
    cdef int high = 0
    cdef bytearray copy
    if not 0 <= start <= PyBytes_GET_SIZE(data):
        raise ValueError("start out of range")
    if escape:
        copy = bytearray(n)
        n = json_escape_copy(p, n, <unsigned char *><char *>copy)
        return n, bytes(copy[:n])
    n = json_string_stop(p, n, &high)
    return n, bool(high)
