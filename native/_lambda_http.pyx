# cython: language_level=3, boundscheck=False, wraparound=False
"""HTTP/1.1 response parser for the Runtime API client. Sans-IO: bytes in, responses out.

Contract: bytes are appended to the parser's buffer (reserve()/commit() from C, feed()
from Python). parse() returns 1 when a whole response is in the buffer, 0 when it needs
more data, or raises HttpProtocolError on input it will not accept. After a response is
used, consume() drops it and parsing starts at the next byte. finish_at_eof() tells the
parser the peer closed: it completes a read-until-close body, else raises
IncompleteResponse if a response was under way.

Body framing, in the order _decide_framing() applies it (RFC 9112 section 6.3 puts 204
and 304 first; here a framing header on them is taken at its word):
  1. 1xx responses carry no body and are skipped.
  2. Transfer-Encoding ending in "chunked" -> chunked (it beats Content-Length).
     Any other Transfer-Encoding is refused.
  3. Content-Length -> that many bytes; repeated or listed values must all agree.
  4. 204 and 304 without either carry none.
  5. Otherwise the body runs until the connection closes.

Chunked bodies are decoded in place: chunk data is moved down over the framing, so the
body ends up contiguous at body_start and no second buffer is needed.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.ref cimport PyObject, Py_XDECREF
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_DecodeLatin1, PyUnicode_GET_LENGTH
from libc.string cimport memchr, memcmp, memcpy, memmove

from asciichars cimport hex_digit
from lentbytes cimport LEND_MAX, lend, returned

cdef extern from "string.h" nogil:
    void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen)

cdef extern from "Python.h":
    PyObject *PyBytes_FromStringAndSize_raw "PyBytes_FromStringAndSize"(const char *s, Py_ssize_t n) except NULL
    char *PyBytes_AS_STRING_raw "PyBytes_AS_STRING"(PyObject *o) noexcept
    int _PyBytes_Resize(PyObject **o, Py_ssize_t n) except -1


class HttpProtocolError(Exception):
    """The peer sent bytes that are not an HTTP/1.1 response we accept."""


class IncompleteResponse(HttpProtocolError):
    """The connection closed in the middle of a response."""


DEF INITIAL_CAPACITY = 65536
DEF HAND_OVER_MIN = 262144          # bodies from this size on are handed over in the buffer: take_body()
DEF MAX_BODY_AT_ONCE = 16777216     # room for a body up to this size is made in one growth
DEF MAX_HEADER_NAME = 256           # longer names are refused
DEF MAX_CHUNK_SIZE_DIGITS = 15      # 16**15 bytes: far past any limit, never overflows

cdef enum State:
    HEAD = 0
    BODY_LENGTH = 1
    CHUNK_SIZE = 2
    CHUNK_DATA = 3
    CHUNK_DATA_END = 4
    TRAILERS = 5
    BODY_UNTIL_CLOSE = 6
    DONE = 7

DEFAULT_MAX_HEAD = 1024 * 1024
DEFAULT_MAX_BODY = 256 * 1024 * 1024


cdef inline Py_ssize_t find_crlf(const char *buf, Py_ssize_t start, Py_ssize_t end) noexcept:
    """Offset of the next CRLF in buf[start:end], or -1."""
    cdef const char *p
    while start < end - 1:
        p = <const char *>memchr(buf + start, b'\r', end - 1 - start)
        if p == NULL:
            return -1
        if p[1] == b'\n':
            return p - buf
        start = p - buf + 1
    return -1


cdef Py_ssize_t parse_content_length(str value, Py_ssize_t max_body) except -2:
    cdef Py_ssize_t result = 0
    cdef Py_ssize_t n
    cdef Py_UCS4 ch
    if 0 < len(value) <= 18:  # the usual single number, without building strings
        for ch in value:
            if not (u'0' <= ch <= u'9'):
                break
            result = result * 10 + (<Py_ssize_t>ch - 48)
        else:
            if result > max_body:
                raise HttpProtocolError("body of %d bytes exceeds the %d byte limit" % (result, max_body))
            return result
    result = -1
    for part in value.split(","):
        part = part.strip(" \t")
        if not part or len(part) > 18 or not part.isdigit() or not part.isascii():
            raise HttpProtocolError("invalid Content-Length %r" % value[:64])
        n = int(part)
        if result != -1 and n != result:
            raise HttpProtocolError("conflicting Content-Length values %r" % value[:64])
        result = n
    if result > max_body:
        raise HttpProtocolError("body of %d bytes exceeds the %d byte limit" % (result, max_body))
    return result


# The names the Runtime API sends, in KnownHeader order (_lambda_http.pxd). The parser
# notes where their values are while it validates the head; header() makes a string of one
# only when asked. Dicts of headers (ResponseParser.headers, trailers) use these very
# (interned, hash-cached) strings as keys.
cdef tuple KNOWN_HEADER_NAMES = (
    "content-type", "content-length", "date", "connection", "transfer-encoding",
    "lambda-runtime-aws-request-id", "lambda-runtime-deadline-ms",
    "lambda-runtime-invoked-function-arn", "lambda-runtime-trace-id",
    "lambda-runtime-client-context", "lambda-runtime-cognito-identity",
    "lambda-runtime-aws-tenant-id", "lambda-extension-identifier",
)
KNOWN_HEADERS = KNOWN_HEADER_NAMES
cdef const char *known_names[KNOWN_COUNT]
cdef Py_ssize_t known_lengths[KNOWN_COUNT]


cdef void index_known_names() noexcept:
    cdef Py_ssize_t i
    for i in range(KNOWN_COUNT):
        known_names[i] = <const char *>PyUnicode_1BYTE_DATA(KNOWN_HEADER_NAMES[i])  # kept alive by the tuple
        known_lengths[i] = PyUnicode_GET_LENGTH(KNOWN_HEADER_NAMES[i])


index_known_names()


cdef inline int known_index(const char *lower, Py_ssize_t n) noexcept:
    """KnownHeader of a lower-case name, or -1."""
    cdef int i
    for i in range(KNOWN_COUNT):
        if known_lengths[i] == n and memcmp(known_names[i], lower, n) == 0:
            return i
    return -1


cdef Py_ssize_t split_header_line(const char *buf, Py_ssize_t start, Py_ssize_t end, char *lower,
                                  Py_ssize_t *name_len, Py_ssize_t *value_start,
                                  Py_ssize_t *value_end) except -1:
    """Validates the header line at buf[start:] (lines end with CRLF; the last one at `end`),
    writes its name in lower case to `lower`, sets the value's bounds (outer SP/HTAB
    stripped) and returns where the line ends."""
    cdef Py_ssize_t line_end, colon, i, v_start, v_end
    cdef const char *c
    cdef unsigned char ch
    line_end = find_crlf(buf, start, end + 2)
    if line_end < 0 or line_end > end:
        line_end = end
    if buf[start] == b' ' or buf[start] == b'\t':
        raise HttpProtocolError("obsolete header line folding")
    c = <const char *>memchr(buf + start, b':', line_end - start)
    if c == NULL or c == buf + start:
        raise HttpProtocolError("malformed header line %r" % buf[start:min(line_end, start + 64)])
    colon = c - buf
    if colon - start > MAX_HEADER_NAME:
        raise HttpProtocolError("header name of %d bytes" % (colon - start))
    for i in range(start, colon):
        ch = buf[i]
        if ch == b' ' or ch == b'\t':
            raise HttpProtocolError("whitespace in header name %r" % buf[start:colon].decode("latin-1")[:64])
        if ch < 33 or ch >= 127:  # other controls, DEL and non-ASCII: not a token
            raise HttpProtocolError("invalid character in header name %r" % buf[start:colon][:64])
        lower[i - start] = <char>(ch + 32 if b'A' <= ch <= b'Z' else ch)
    name_len[0] = colon - start
    v_start = colon + 1
    v_end = line_end
    while v_start < v_end and (buf[v_start] == b' ' or buf[v_start] == b'\t'):
        v_start += 1
    while v_end > v_start and (buf[v_end - 1] == b' ' or buf[v_end - 1] == b'\t'):
        v_end -= 1
    value_start[0] = v_start
    value_end[0] = v_end
    return line_end


cdef dict parse_header_lines(const char *buf, Py_ssize_t start, Py_ssize_t end, dict into):
    """Parses 'name: value' CRLF-terminated lines in buf[start:end] into a dict keyed by
    lower-case name. Repeated names are joined with ', ' (RFC 9110 5.3)."""
    cdef Py_ssize_t line_end, name_len, value_start, value_end
    cdef int known
    cdef char lower[MAX_HEADER_NAME]
    while start < end:
        line_end = split_header_line(buf, start, end, lower, &name_len, &value_start, &value_end)
        known = known_index(lower, name_len)
        if known >= 0:
            name = KNOWN_HEADER_NAMES[known]
        else:
            name = PyUnicode_DecodeLatin1(lower, name_len, NULL)
        value = PyUnicode_DecodeLatin1(buf + value_start, value_end - value_start, NULL)
        previous = into.get(name)
        into[name] = value if previous is None else previous + ", " + value
        start = line_end + 2
    return into


cdef bint contains_ci(const char *value, Py_ssize_t n, const char *token, Py_ssize_t m) noexcept:
    """Whether value holds token (given in lower case), ignoring ASCII case."""
    cdef Py_ssize_t i, j
    cdef unsigned char ch
    for i in range(n - m + 1):
        for j in range(m):
            ch = value[i + j]
            if (ch + 32 if b'A' <= ch <= b'Z' else ch) != <unsigned char>token[j]:
                break
        else:
            return True
    return False


cdef class ResponseParser:

    def __cinit__(self, Py_ssize_t max_head=DEFAULT_MAX_HEAD, Py_ssize_t max_body=DEFAULT_MAX_BODY):
        self._new_store(INITIAL_CAPACITY)
        self.max_head = max_head
        self.max_body = max_body
        self._reset_message()

    def __dealloc__(self):
        Py_XDECREF(self.store)
        Py_XDECREF(self.lent)

    cdef int _new_store(self, Py_ssize_t cap) except -1:
        """An empty buffer of cap bytes (the old one is the caller's)."""
        self.store = NULL
        self.buf = NULL
        self.cap = 0
        self.store = PyBytes_FromStringAndSize_raw(NULL, cap)
        self.buf = PyBytes_AS_STRING_raw(self.store)
        self.cap = cap
        return 0

    cdef void _reset_message(self) noexcept:
        self.state = HEAD
        self.pos = self.start
        self.head_scan = self.start
        self.status = 0
        self.lines_at = self.lines_end = -1
        self._headers = None
        self.trailers = None
        self.keep_alive = True
        self.body_start = 0
        self.body_len = 0
        self.remaining = 0

    # -- buffer ------------------------------------------------------------------

    cdef char *reserve(self, Py_ssize_t n) except NULL:
        """Room for at least n more bytes at buf + end (compacting or growing). Once a
        Content-Length head is in, the room is for the whole body: one growth, not a doubling
        per recv()."""
        cdef Py_ssize_t shift, new_cap
        cdef Py_ssize_t body_rest = self.remaining - (self.end - self.pos) if self.state == BODY_LENGTH else 0
        cdef bint exact = n < body_rest <= MAX_BODY_AT_ONCE
        if exact:
            n = body_rest
            if self.lent != NULL:
                self._take_back_lent(n)
        if self.cap - self.end >= n:
            return self.buf + self.end
        if self.start > 0:
            shift = self.start
            memmove(self.buf, self.buf + shift, self.end - shift)
            self._shifted(shift)
        if self.cap - self.end < n:
            new_cap = self.cap
            while new_cap - self.end < n:
                new_cap *= 2
            if exact:
                new_cap = self.end + n + n // 8  # the slack lets a somewhat larger body reuse it
            try:
                _PyBytes_Resize(&self.store, new_cap)  # realloc: large ones move pages, not bytes
            except MemoryError:
                self._new_store(INITIAL_CAPACITY)    # the failed resize freed the old one
                self.start = self.end = 0
                self._reset_message()
                raise
            self.buf = PyBytes_AS_STRING_raw(self.store)
            self.cap = new_cap
        return self.buf + self.end

    cdef void _shifted(self, Py_ssize_t shift) noexcept:
        """The message's bytes moved down by shift: the offsets follow."""
        self.start -= shift
        self.end -= shift
        self.pos -= shift
        self.head_scan -= shift
        if self.body_start >= shift:
            self.body_start -= shift

    cdef void _take_back_lent(self, Py_ssize_t n) noexcept:
        """Before growing for a large body: the buffer the last large body was lent in
        becomes the buffer again when its event is gone and it fits (not more than about
        twice the need); else it goes."""
        cdef Py_ssize_t held = self.end - self.start
        cdef PyObject *lent = self.lent
        self.lent = NULL
        if returned(lent) and held + n <= self.lent_cap <= 2 * (held + n) + INITIAL_CAPACITY:
            memcpy(PyBytes_AS_STRING_raw(lent), self.buf + self.start, held)
            self._shifted(self.start)
            Py_XDECREF(self.store)
            self.store = lent
            self.buf = PyBytes_AS_STRING_raw(lent)
            self.cap = self.lent_cap
        else:
            Py_XDECREF(lent)

    cdef void commit(self, Py_ssize_t n) noexcept:
        self.end += n

    def feed(self, data):
        """Appends bytes (tests and Python callers; the socket loop uses reserve/commit)."""
        # Not a typed memoryview: Cython's memoryview support imports collections.abc at
        # module load, ~1 ms of every cold start.
        cdef bytes chunk = data if type(data) is bytes else bytes(data)
        cdef Py_ssize_t n = PyBytes_GET_SIZE(chunk)
        if n == 0:
            return
        memcpy(self.reserve(n), PyBytes_AS_STRING(chunk), n)
        self.commit(n)

    # -- parsing -----------------------------------------------------------------

    cdef int parse(self) except -1:
        while True:
            if self.state == HEAD:
                if not self._parse_head():
                    return 0
            elif self.state == BODY_LENGTH:
                if self.end - self.pos < self.remaining:
                    return 0
                self.pos += self.remaining
                self.body_len = self.remaining
                self.state = DONE
            elif self.state == CHUNK_SIZE:
                if not self._parse_chunk_size():
                    return 0
            elif self.state == CHUNK_DATA:
                if not self._move_chunk_data():
                    return 0
            elif self.state == CHUNK_DATA_END:
                if self.end - self.pos < 2:
                    return 0
                if self.buf[self.pos] != b'\r' or self.buf[self.pos + 1] != b'\n':
                    raise HttpProtocolError("chunk data not followed by CRLF")
                self.pos += 2
                self.state = CHUNK_SIZE
            elif self.state == TRAILERS:
                if not self._parse_trailers():
                    return 0
            elif self.state == BODY_UNTIL_CLOSE:
                self.body_len = self.end - self.body_start
                self.pos = self.end
                return 0
            else:  # DONE
                return 1

    cdef bint _parse_head(self) except -1:
        cdef const char *found
        cdef Py_ssize_t head_end, line_end, scan_from
        scan_from = self.head_scan - 3 if self.head_scan - 3 > self.start else self.start
        found = <const char *>memmem(self.buf + scan_from, self.end - scan_from, b"\r\n\r\n", 4)
        if found == NULL:
            if self.end - self.start > self.max_head:
                raise HttpProtocolError("response head exceeds %d bytes" % self.max_head)
            self.head_scan = self.end
            return False
        head_end = found - self.buf
        if head_end - self.start > self.max_head:
            raise HttpProtocolError("response head exceeds %d bytes" % self.max_head)

        line_end = find_crlf(self.buf, self.start, head_end + 2)
        self.status = self._parse_status_line(self.start, line_end)
        self._scan_header_lines(line_end + 2, head_end)
        self.pos = head_end + 4
        self.body_start = self.pos

        if 100 <= self.status < 200:        # interim response: no body, parse the next head
            self.start = self.pos
            self._reset_message()
            return True
        self._decide_framing()
        return True

    cdef int _parse_status_line(self, Py_ssize_t start, Py_ssize_t end) except -1:
        cdef const char *s = self.buf + start
        cdef Py_ssize_t n = end - start
        cdef int i, code = 0
        if n < 12 or s[0:7] != b"HTTP/1." or s[8] != b' ' or not (s[7] == b'0' or s[7] == b'1') \
                or (n > 12 and s[12] != b' '):
            raise HttpProtocolError("malformed status line %r" % s[:min(n, 64)])
        for i in range(9, 12):
            if s[i] < b'0' or s[i] > b'9':
                raise HttpProtocolError("malformed status code %r" % s[:min(n, 64)])
            code = code * 10 + (s[i] - 48)
        if s[7] == b'0':
            self.keep_alive = False
        return code

    cdef int _scan_header_lines(self, Py_ssize_t start, Py_ssize_t end) except -1:
        """Validates the header lines in buf[start:end] and notes where the known names'
        values are: no Python object per header."""
        cdef Py_ssize_t line_end, name_len, value_start, value_end
        cdef int known
        cdef char lower[MAX_HEADER_NAME]
        self.lines_at = start - self.start
        self.lines_end = end - self.start
        self.known_repeated = False
        for known in range(KNOWN_COUNT):
            self.known_at[known] = -1
        while start < end:
            line_end = split_header_line(self.buf, start, end, lower, &name_len, &value_start, &value_end)
            known = known_index(lower, name_len)
            if known >= 0:
                if self.known_at[known] >= 0:
                    self.known_repeated = True  # header() asks the dict, which joins them
                self.known_at[known] = value_start - self.start
                self.known_len[known] = value_end - value_start
            start = line_end + 2
        return 0

    cdef int _decide_framing(self) except -1:
        cdef long long length
        if self.known_repeated:
            connection = self.header(H_CONNECTION)
            if connection is not None and "close" in connection.lower():
                self.keep_alive = False
        elif self.known_at[H_CONNECTION] >= 0:
            if contains_ci(self.buf + self.start + self.known_at[H_CONNECTION],
                           self.known_len[H_CONNECTION], b"close", 5):
                self.keep_alive = False
        transfer_encoding = self.header(H_TRANSFER_ENCODING)
        if transfer_encoding is not None:
            codings = transfer_encoding.lower().split(",")
            if codings[len(codings) - 1].strip() != "chunked":
                raise HttpProtocolError("unsupported Transfer-Encoding %r" % transfer_encoding[:64])
            self.state = CHUNK_SIZE
            return 0
        if self.known_at[H_CONTENT_LENGTH] >= 0:
            length = self.header_number(H_CONTENT_LENGTH)
            if length < 0:  # repeated, a list, or not a plain number: the general rules
                length = parse_content_length(self.header(H_CONTENT_LENGTH), self.max_body)
            elif length > self.max_body:
                raise HttpProtocolError("body of %d bytes exceeds the %d byte limit" % (length, self.max_body))
            self.remaining = length
            self.state = BODY_LENGTH
            return 0
        if self.status == 204 or self.status == 304:
            self.state = DONE
            return 0
        self.keep_alive = False
        self.state = BODY_UNTIL_CLOSE
        return 0

    # -- headers of the current message (after parse() returned 1, until consume()) -----

    cdef dict headers_dict(self):
        """All headers, keyed by lower-case name, repeats joined; None before a head."""
        if self._headers is None and self.lines_at >= 0:
            self._headers = parse_header_lines(self.buf, self.start + self.lines_at,
                                               self.start + self.lines_end, {})
        return self._headers

    cdef str header(self, int which):
        """A known header's value, or None."""
        if self.known_repeated:
            return self.headers_dict().get(KNOWN_HEADER_NAMES[which])
        if self.lines_at < 0 or self.known_at[which] < 0:
            return None
        return PyUnicode_DecodeLatin1(self.buf + self.start + self.known_at[which], self.known_len[which], NULL)

    cdef bint header_is(self, int which, const char *value, Py_ssize_t n) except -1:
        """Whether a known header is there with exactly this value."""
        if self.known_repeated:
            return self.header(which) == value[:n].decode("latin-1")
        return (self.lines_at >= 0 and self.known_at[which] >= 0 and self.known_len[which] == n
                and memcmp(self.buf + self.start + self.known_at[which], value, n) == 0)

    cdef long long header_number(self, int which) except -2:
        """A known header's value as a non-negative decimal number (at most 18 digits), or -1
        when it is missing or anything else."""
        cdef const char *value
        cdef Py_ssize_t i, n
        cdef long long result = 0
        if self.known_repeated or self.lines_at < 0 or self.known_at[which] < 0:
            return -1
        n = self.known_len[which]
        value = self.buf + self.start + self.known_at[which]
        if not 0 < n <= 18:
            return -1
        for i in range(n):
            if not (b'0' <= value[i] <= b'9'):
                return -1
            result = result * 10 + (value[i] - 48)
        return result

    @property
    def headers(self):
        return self.headers_dict()

    def known_headers(self):
        """{name: value} of the known names present, read the way the runtime loop reads
        them (header()): tests compare it with `headers`."""
        cdef int i
        found = {}
        for i in range(KNOWN_COUNT):
            value = self.header(i)
            if value is not None:
                found[KNOWN_HEADER_NAMES[i]] = value
        return found

    cdef bint _parse_chunk_size(self) except -1:
        cdef Py_ssize_t line_end = find_crlf(self.buf, self.pos, self.end)
        cdef Py_ssize_t i, digits = 0, size = 0
        cdef int digit
        if line_end < 0:
            if self.end - self.pos > 1024:
                raise HttpProtocolError("chunk size line too long")
            return False
        i = self.pos
        while i < line_end:
            digit = hex_digit(self.buf[i])
            if digit < 0:
                break
            size = size * 16 + digit
            digits += 1
            if digits > MAX_CHUNK_SIZE_DIGITS:
                raise HttpProtocolError("chunk size overflows")
            i += 1
        if digits == 0 or (i < line_end and self.buf[i] != b';' and self.buf[i] != b' ' and self.buf[i] != b'\t'):
            raise HttpProtocolError("malformed chunk size %r" % self.buf[self.pos:min(line_end, self.pos + 32)])
        if self.body_len + size > self.max_body:
            raise HttpProtocolError("chunked body exceeds the %d byte limit" % self.max_body)
        self.pos = line_end + 2
        if size == 0:
            self.state = TRAILERS
        else:
            self.remaining = size
            self.state = CHUNK_DATA
        return True

    cdef bint _move_chunk_data(self) except -1:
        cdef Py_ssize_t n = self.end - self.pos
        if n == 0:
            return False
        if n > self.remaining:
            n = self.remaining
        if self.body_start + self.body_len != self.pos:
            memmove(self.buf + self.body_start + self.body_len, self.buf + self.pos, n)
        self.body_len += n
        self.pos += n
        self.remaining -= n
        if self.remaining == 0:
            self.state = CHUNK_DATA_END
        return True

    cdef bint _parse_trailers(self) except -1:
        cdef const char *found
        if self.end - self.pos >= 2 and self.buf[self.pos] == b'\r' and self.buf[self.pos + 1] == b'\n':
            self.pos += 2
            self.state = DONE
            return True
        found = <const char *>memmem(self.buf + self.pos, self.end - self.pos, b"\r\n\r\n", 4)
        if found == NULL:
            if self.end - self.pos > self.max_head:
                raise HttpProtocolError("trailers exceed %d bytes" % self.max_head)
            return False
        self.trailers = parse_header_lines(self.buf, self.pos, found - self.buf, {})
        self.pos = found - self.buf + 4
        self.state = DONE
        return True

    cdef int finish_at_eof(self) except -1:
        """The peer closed. Returns 1 if that completed a response, 0 if none was under way."""
        if self.state == BODY_UNTIL_CLOSE:
            self.body_len = self.end - self.body_start
            self.pos = self.end
            self.state = DONE
            return 1
        if self.state == DONE:
            return 1
        if self.in_message():
            raise IncompleteResponse(
                "connection closed after %d bytes of a response" % (self.end - self.start))
        return 0

    cdef bint in_message(self) noexcept:
        return self.state != HEAD or self.end > self.start

    cdef bint skip_stray_bytes(self, Py_ssize_t *dropped) noexcept:
        """Before a message: drops bytes up to the next "HTTP/1." (adding their count to
        *dropped), for an answer pipelined behind one whose Content-Length was short: the
        rest of that body comes first. Only a remnant without a line break is dropped; a
        whole line is left for parse() to refuse. True when parsing may go on."""
        cdef const char *here = self.buf + self.start
        cdef const char *found
        cdef Py_ssize_t keep, n = self.end - self.start
        if self.state != HEAD or self.pos != self.start:
            return True
        if n >= 7 and memcmp(here, b"HTTP/1.", 7) == 0:
            return True  # the usual case: the answer starts right here
        found = <const char *>memmem(here, n, b"HTTP/1.", 7)
        if memmem(here, (found - here) if found != NULL else n, b"\r\n", 2) != NULL:
            return True
        if found != NULL:
            keep = self.end - (found - self.buf)
        else:
            keep = n if n < 6 else 6  # the marker may be cut at the end
        dropped[0] += n - keep
        self.start = self.pos = self.head_scan = self.end - keep
        return found != NULL

    cdef const char *body_ptr(self) noexcept:
        return self.buf + self.body_start

    cpdef bytes take_body(self):
        """The finished message's body as bytes, after every header was read: next is
        consume(). A large body is not copied: it is moved down over the head in the receive
        buffer, which is handed over as the bytes, and the parser goes on in a fresh small
        buffer (with any bytes received past the message). Up to LEND_MAX the buffer is lent
        (lentbytes.pxd): the next large body lands in it again, with no new allocation; a
        larger one (an outlier) is shrunk to fit and given for good, so its memory goes when
        the event does."""
        cdef PyObject *full
        cdef Py_ssize_t tail = self.end - self.pos, full_cap = self.cap
        cdef bytes body
        if self.body_len < HAND_OVER_MIN or self.state != DONE:
            return PyBytes_FromStringAndSize(self.buf + self.body_start, self.body_len)
        full = self.store
        self._new_store(tail if tail > INITIAL_CAPACITY else INITIAL_CAPACITY)
        memcpy(self.buf, PyBytes_AS_STRING_raw(full) + self.pos, tail)
        memmove(PyBytes_AS_STRING_raw(full), PyBytes_AS_STRING_raw(full) + self.body_start, self.body_len)
        # The message now takes no room: consume() goes on at the bytes past it.
        self.start = self.pos = self.head_scan = 0
        self.end = tail
        if full_cap <= LEND_MAX:
            # Lent, not given: the next large body is received into it once this event is
            # gone (see _take_back_lent()).
            Py_XDECREF(self.lent)
            self.lent = full
            self.lent_cap = full_cap
            body = lend(full, self.body_len)
            self.body_start = self.body_len = 0
            return body
        try:
            _PyBytes_Resize(&full, self.body_len)  # shrinks in place
        finally:
            self.body_start = self.body_len = 0
        body = <bytes>full
        Py_XDECREF(full)  # body holds the one reference
        return body

    cdef void consume(self) noexcept:
        """Drops the finished response; the next one starts at the following byte."""
        self.start = self.pos
        if self.start == self.end:
            self.start = self.end = 0
        self._reset_message()

    # -- Python surface (tests, slow paths) ---------------------------------------

    def next_response(self):
        """The next complete Response, or None if more bytes are needed."""
        if not self.parse():
            return None
        headers, known = self.headers_dict(), self.known_headers()
        response = Response(self.status, headers, self.trailers, self.take_body(), self.keep_alive, known)
        self.consume()
        return response

    def close(self):
        """Signals EOF: returns the final Response completed by the close, or None."""
        if not self.finish_at_eof():
            return None
        response = Response(self.status, self.headers_dict(), self.trailers, self.body(), False,
                            self.known_headers())
        self.consume()
        return response

    def body(self):
        return PyBytes_FromStringAndSize(self.buf + self.body_start, self.body_len)

    @property
    def buffered(self):
        """Bytes received but not yet consumed."""
        return self.end - self.start


class Response:
    """One parsed response (tests and slow paths; the loop reads the parser directly)."""

    __slots__ = ("status", "headers", "trailers", "body", "keep_alive", "known_headers")

    def __init__(self, status, headers, trailers, body, keep_alive, known_headers=None):
        self.status = status
        self.known_headers = known_headers  # the KNOWN_HEADERS as the runtime loop reads them
        self.headers = headers
        self.trailers = trailers or {}
        self.body = body
        self.keep_alive = keep_alive

    def __repr__(self):
        return "Response(%d, %d header(s), %d byte body)" % (self.status, len(self.headers), len(self.body))
