# cython: language_level=3, boundscheck=False, wraparound=False
"""JSON for the invocation loop: the stdlib's C scanner and encoder (_json), driven from C.

lambda_runtime.marshal owns the rules (what awslambdaric reads and writes) and makes the
scanner and the encoder; Codec runs them without the Python-level steps around each call:
UTF-8 decoding by name, whitespace skipped character by character, the encoder's chunks
joined into a str and encoded again. Input off the common path (a BOM, a syntax error, a
value the encoder refuses, a Decimal) goes to marshal's own loads/dumps, which give the
exact result or error.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH
from libc.string cimport memcpy

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)


cdef inline bint is_json_space(Py_UCS4 c) noexcept:
    return c == u' ' or c == u'\t' or c == u'\n' or c == u'\r'


cdef class Codec:
    """loads(bytes) -> value and dumps(value) -> bytes, as marshal.loads/dumps would."""
    cdef object scan_once, encode, slow_loads, slow_dumps

    def __cinit__(self, scan_once, encode, slow_loads, slow_dumps):
        """scan_once(text, index) -> (value, end) and encode(value, 0) -> [str, ...]: _json's;
        slow_loads(bytes) and slow_dumps(value) -> str: the full rules, errors included."""
        self.scan_once = scan_once
        self.encode = encode
        self.slow_loads = slow_loads
        self.slow_dumps = slow_dumps

    cpdef object loads(self, bytes data):
        cdef const char *raw = PyBytes_AS_STRING(data)
        cdef Py_ssize_t size = PyBytes_GET_SIZE(data), start = 0, end, length
        cdef str text
        # JSON whitespace is ASCII: skipped on the bytes, so `start` counts characters too.
        while start < size and is_json_space(raw[start]):
            start += 1
        if start == size or <unsigned char>raw[start] == 0xEF:  # empty, or a UTF-8 BOM
            return self.slow_loads(data)
        try:
            text = PyUnicode_DecodeUTF8(raw, size, NULL)
            value, end = self.scan_once(text, start)
        except Exception:
            return self.slow_loads(data)  # raises marshal's error for it
        length = PyUnicode_GET_LENGTH(text)
        while end < length and is_json_space(text[end]):
            end += 1
        if end != length:
            return self.slow_loads(data)  # "Extra data"
        return value

    cpdef bytes dumps(self, value):
        cdef list chunks
        cdef str chunk
        cdef Py_ssize_t total = 0, at = 0
        cdef bytes out
        try:
            chunks = self.encode(value, 0)
        except Exception:
            return (<str>self.slow_dumps(value)).encode("utf-8")  # or marshal's error
        for chunk in chunks:
            if not PyUnicode_IS_ASCII(chunk):  # never with ASCII escapes; kept exact anyway
                return "".join(chunks).encode("utf-8")
            total += PyUnicode_GET_LENGTH(chunk)
        if len(chunks) == 1:
            return (<str>chunks[0]).encode("ascii")
        out = PyBytes_FromStringAndSize(NULL, total)
        for chunk in chunks:
            memcpy(PyBytes_AS_STRING(out) + at, PyUnicode_1BYTE_DATA(chunk), PyUnicode_GET_LENGTH(chunk))
            at += PyUnicode_GET_LENGTH(chunk)
        return out
