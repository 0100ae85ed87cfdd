"""A growable byte buffer that starts on the caller's stack: request heads (runtime.pyx) and
JSON (native/_lambda_json.pyx) are written into one. Inline functions, no module.

    cdef ByteBuf buf
    buf_init(&buf)
    try:
        buf_put(&buf, data, n) ...
    finally:
        buf_free(&buf)
"""

from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cdef enum:
    BYTEBUF_LOCAL = 512     # bytes held on the stack before the buffer moves to the heap


cdef struct ByteBuf:
    char *data
    Py_ssize_t len
    Py_ssize_t cap
    char local[BYTEBUF_LOCAL]


cdef inline void buf_init(ByteBuf *b) noexcept:
    b.data = b.local
    b.len = 0
    b.cap = BYTEBUF_LOCAL


cdef inline void buf_free(ByteBuf *b) noexcept:
    if b.data != b.local:
        free(b.data)


cdef inline int buf_grow(ByteBuf *b, Py_ssize_t n) except -1:
    """Room for n more bytes (the capacity at least doubles)."""
    cdef Py_ssize_t cap = 2 * b.cap
    cdef char *grown
    while cap < b.len + n:
        cap *= 2
    grown = <char *>malloc(cap)
    if grown == NULL:
        raise MemoryError()
    memcpy(grown, b.data, b.len)
    buf_free(b)
    b.data = grown
    b.cap = cap
    return 0


cdef inline int buf_put(ByteBuf *b, const char *s, Py_ssize_t n) except -1:
    if b.len + n > b.cap:
        buf_grow(b, n)
    memcpy(b.data + b.len, s, n)
    b.len += n
    return 0


cdef inline int buf_char(ByteBuf *b, char c) except -1:
    if b.len + 1 > b.cap:
        buf_grow(b, 1)
    b.data[b.len] = c
    b.len += 1
    return 0


cdef inline int buf_decimal(ByteBuf *b, unsigned long long value) except -1:
    """value in decimal digits."""
    cdef char digits[20]
    cdef int i = 20
    while True:
        i -= 1
        digits[i] = <char>(48 + value % 10)
        value //= 10
        if value == 0:
            break
    return buf_put(b, digits + i, 20 - i)
