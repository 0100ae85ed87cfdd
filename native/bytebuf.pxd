"""A growable byte buffer that starts on the caller's stack: request heads (runtime.pyx) and
JSON (native/_lambda_json.pyx) are written into one. Inline functions, no module.

    cdef ByteBuf buf
    buf_init(&buf)
    try:
        buf_put(&buf, data, n) ...
        return buf_bytes(&buf)          # or use buf.data[:buf.len]
    finally:
        buf_free(&buf)

Past the stack part the bytes live in a bytes object, grown in place (realloc: for large
sizes the kernel moves pages, no copy), so buf_bytes() hands that very object over: a large
result is written once, where it is sent from.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.ref cimport PyObject, Py_XDECREF
from libc.string cimport memcpy

cdef extern from "Python.h":
    PyObject *PyBytes_FromStringAndSize_raw "PyBytes_FromStringAndSize"(const char *s, Py_ssize_t n) except NULL
    char *PyBytes_AS_STRING_raw "PyBytes_AS_STRING"(PyObject *o) noexcept
    int _PyBytes_Resize(PyObject **o, Py_ssize_t n) except -1

cdef enum:
    BYTEBUF_LOCAL = 512     # bytes held on the stack before the buffer moves to the heap


cdef struct ByteBuf:
    char *data
    Py_ssize_t len
    Py_ssize_t cap
    PyObject *heap          # the bytes object data lies in once off the stack, else NULL
    Py_ssize_t heap_start   # the heap part's first capacity (0: twice the stack's)
    char local[BYTEBUF_LOCAL]


cdef inline void buf_init(ByteBuf *b) noexcept:
    b.data = b.local
    b.len = 0
    b.cap = BYTEBUF_LOCAL
    b.heap = NULL
    b.heap_start = 0


cdef inline void buf_free(ByteBuf *b) noexcept:
    Py_XDECREF(b.heap)
    buf_init(b)


cdef inline int buf_grow(ByteBuf *b, Py_ssize_t n) except -1:
    """Room for n more bytes (the capacity at least doubles)."""
    cdef Py_ssize_t cap = 2 * b.cap
    if b.heap == NULL and b.heap_start > cap:
        cap = b.heap_start
    while cap < b.len + n:
        cap *= 2
    if b.heap == NULL:
        b.heap = PyBytes_FromStringAndSize_raw(NULL, cap)
        memcpy(PyBytes_AS_STRING_raw(b.heap), b.local, b.len)
    else:
        try:
            _PyBytes_Resize(&b.heap, cap)
        except MemoryError:
            b.heap = NULL      # freed by the failed resize
            buf_init(b)
            raise
    b.data = PyBytes_AS_STRING_raw(b.heap)
    b.cap = cap
    return 0


cdef inline char *buf_reserve(ByteBuf *b, Py_ssize_t n) except NULL:
    """Room for n more bytes, written at the returned pointer (b.len is then the caller's)."""
    if b.len + n > b.cap:
        buf_grow(b, n)
    return b.data + b.len


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


cdef inline bytes buf_bytes(ByteBuf *b):
    """The content as bytes; the buffer is left empty. Off the stack, the bytes object it was
    written in (shrunk to fit in place), not a copy."""
    cdef object result
    if b.heap == NULL:
        return PyBytes_FromStringAndSize(b.data, b.len)
    try:
        _PyBytes_Resize(&b.heap, b.len)
    except MemoryError:
        b.heap = NULL          # freed by the failed resize
        buf_init(b)
        raise
    result = <object>b.heap
    buf_free(b)
    return result


cdef inline void buf_adopt(ByteBuf *b, PyObject *heap, Py_ssize_t cap) noexcept:
    """An empty b (buf_init'ed) writes into heap (a bytes object of cap bytes, whose
    reference b takes over) from the start."""
    b.heap = heap
    b.data = PyBytes_AS_STRING_raw(heap)
    b.cap = cap


cdef inline PyObject *buf_release(ByteBuf *b) noexcept:
    """The heap part's bytes object (its reference the caller's), b left empty."""
    cdef PyObject *heap = b.heap
    b.heap = NULL
    buf_init(b)
    return heap


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
