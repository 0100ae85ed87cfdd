"""A large buffer kept across invocations: a bytes object lent out as the event (or the result)
and written again once nobody else holds it. The receive buffer (_lambda_http) and the
result buffer (_lambda_json) reuse their memory so, with no fresh allocation, no page faults
and no copy per large invocation; only buffers up to LEND_MAX are kept, so memory taken by an
outlier goes back with it.

    body = lend(store, n)          # store's first n bytes as bytes: no copy, capacity kept
    ...
    if returned(store): reuse it   # only the lender holds it again
"""

from cpython.ref cimport PyObject

cdef extern from "Python.h":
    ctypedef struct PyBytesObject:
        Py_hash_t ob_shash
    Py_ssize_t Py_REFCNT(PyObject *o)
    void Py_SET_SIZE(PyObject *o, Py_ssize_t n)
    char *_lent_data "PyBytes_AS_STRING"(PyObject *o) noexcept

cdef enum:
    LEND_MAX = 4194304          # larger buffers are handed over for good, not kept


cdef inline bytes lend(PyObject *store, Py_ssize_t n):
    """store (a bytes object whose content starts its buffer) as bytes of its first n bytes,
    a new reference: the lender keeps its own, and the allocation keeps its capacity."""
    Py_SET_SIZE(store, n)
    _lent_data(store)[n] = 0
    (<PyBytesObject *>store).ob_shash = -1   # content new since any hash was taken
    return <bytes>store


cdef inline bint returned(PyObject *store) noexcept:
    """True when nobody but the lender holds store: its memory may be written again."""
    return Py_REFCNT(store) == 1
