"""C-level surface of _lambda_http: the HTTP/1.1 response parser the runtime loop cimports."""

# Header names the parser knows without building a dict (ResponseParser.header()).
cdef enum:  # KnownHeader: indexes of KNOWN_HEADER_NAMES
    H_CONTENT_TYPE = 0
    H_CONTENT_LENGTH = 1
    H_DATE = 2
    H_CONNECTION = 3
    H_TRANSFER_ENCODING = 4
    H_REQUEST_ID = 5
    H_DEADLINE_MS = 6
    H_FUNCTION_ARN = 7
    H_TRACE_ID = 8
    H_CLIENT_CONTEXT = 9
    H_COGNITO_IDENTITY = 10
    H_TENANT_ID = 11
    H_EXTENSION_ID = 12
    KNOWN_COUNT = 13


from cpython.ref cimport PyObject


cdef class ResponseParser:
    cdef PyObject *store          # the bytes object buf lies in (see take_body())
    cdef PyObject *lent           # the last large body's buffer, kept for the next one
    cdef Py_ssize_t lent_cap
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
    cdef readonly bint keep_alive
    # Headers: the known names' values as offsets from `start` (-1: absent), found while
    # the head is validated; the dict of all of them only when asked for (headers).
    cdef Py_ssize_t known_at[KNOWN_COUNT]
    cdef Py_ssize_t known_len[KNOWN_COUNT]
    cdef bint known_repeated      # a known name came twice: its value is the joined one
    cdef Py_ssize_t lines_at      # the header lines, as offsets from `start`
    cdef Py_ssize_t lines_end
    cdef dict _headers
    cdef Py_ssize_t body_start    # decoded body is buf[body_start:body_start + body_len]
    cdef readonly Py_ssize_t body_len
    cdef Py_ssize_t remaining     # bytes left in the Content-Length body or current chunk
    cdef readonly dict trailers

    cdef void _reset_message(self) noexcept
    cdef bint _parse_head(self) except -1
    cdef int _parse_status_line(self, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _scan_header_lines(self, Py_ssize_t start, Py_ssize_t end) except -1
    cdef int _decide_framing(self) except -1
    cdef bint _parse_chunk_size(self) except -1
    cdef bint _move_chunk_data(self) except -1
    cdef bint _parse_trailers(self) except -1

    cdef int _new_store(self, Py_ssize_t cap) except -1
    cdef void _shifted(self, Py_ssize_t shift) noexcept
    cdef void _take_back_lent(self, Py_ssize_t n) noexcept
    cdef char *reserve(self, Py_ssize_t n) except NULL
    cdef void commit(self, Py_ssize_t n) noexcept
    cdef int parse(self) except -1
    cdef int finish_at_eof(self) except -1
    cdef const char *body_ptr(self) noexcept
    cpdef bytes take_body(self)
    cdef dict headers_dict(self)
    cdef str header(self, int which)
    cdef bint header_is(self, int which, const char *value, Py_ssize_t n) except -1
    cdef long long header_number(self, int which) except -2
    cdef void consume(self) noexcept
    cdef bint in_message(self) noexcept
    cdef bint skip_stray_bytes(self, Py_ssize_t *dropped) noexcept
