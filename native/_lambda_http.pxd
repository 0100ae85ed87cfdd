"""C-level surface of _lambda_http: the HTTP/1.1 response parser the runtime loop cimports."""

cdef class ResponseParser:
    cdef char *buf
    cdef Py_ssize_t cap           # allocated bytes
    cdef Py_ssize_t start         # first byte of the message being parsed
    cdef Py_ssize_t end           # one past the last received byte
    cdef Py_ssize_t pos           # read cursor inside [start, end)
    cdef Py_ssize_t head_scan     # where the search for the end of the head resumes
    cdef Py_ssize_t max_head
    cdef Py_ssize_t max_body
    cdef int state

    # The message being parsed (valid once parse() returned 1).
    cdef readonly int status
    cdef readonly dict headers
    cdef readonly bint keep_alive
    cdef Py_ssize_t body_start    # decoded body is buf[body_start:body_start + body_len]
    cdef readonly Py_ssize_t body_len
    cdef Py_ssize_t remaining     # bytes left in the Content-Length body or current chunk
    cdef readonly dict trailers

    cdef void _reset_message(self) noexcept
    cdef bint _parse_head(self) except -1
    cdef int _parse_status_line(self, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _decide_framing(self) except -1
    cdef bint _parse_chunk_size(self) except -1
    cdef bint _move_chunk_data(self) except -1
    cdef bint _parse_trailers(self) except -1

    cdef char *reserve(self, Py_ssize_t n) except NULL
    cdef void commit(self, Py_ssize_t n) noexcept
    cdef int parse(self) except -1
    cdef int finish_at_eof(self) except -1
    cdef const char *body_ptr(self) noexcept
    cdef void consume(self) noexcept
    cdef bint in_message(self) noexcept
    cdef bint skip_stray_bytes(self, Py_ssize_t *dropped) noexcept
