# cython: language_level=3, boundscheck=False, wraparound=False
"""The Lambda Runtime API client over libc sockets, and the invocation loop.

Compiled as the built-in module `_lambda_runtime`. Four parts, each small:

  Lifecycle         where the process is (idle, answering, stopping), the signal wakeup
                    fd and the current invocation: one object, `lifecycle`, that the
                    SIGTERM handlers (lambda_runtime.shutdown, .concurrency) call.
  Connection        one HTTP/1.1 keep-alive connection: connect, send iovecs, read one
                    response into a _lambda_http.ResponseParser, and the answer of a
                    request pipelined behind it. Reopens a connection the server closed
                    while idle and retries once when no byte of the answer had arrived.
                    No receive timeout unless the caller asks for one (GET /next is a
                    long poll). EINTR runs Python signal handlers and retries.
  RuntimeApiClient  one method per Runtime API endpoint, each headed by its path.
  Contract, serve() the loop: next -> outcome (Response | Stream | ErrorReport) -> post,
                    each response sent with the next GET /next right behind it (HTTP/1.1
                    pipelining: one write and one wait per invocation instead of two
                    each); post_outcome() posts every outcome and refused() decides what
                    a refused post means.

The Python-facing contract (context, error JSON, marshalling rules, streaming) lives in the
plain-Python package lambda_runtime: lambda_runtime.function.Function is a Contract with
its Python half; per invocation serve() calls into Python for the context and the handler.
"""

cimport sysnet as net
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.exc cimport PyErr_CheckSignals
from cpython.unicode cimport PyUnicode_1BYTE_DATA, PyUnicode_GET_LENGTH
from libc.string cimport strlen

from arenas cimport arenas_kept, keep_freed_arenas
from immortal cimport IMMORTAL_HEAP_SUPPORTED, fill_object_pools, immortalize_heap
from bytebuf cimport ByteBuf, buf_decimal, buf_free, buf_init, buf_put
from _lambda_http cimport (ResponseParser, H_CLIENT_CONTEXT, H_COGNITO_IDENTITY, H_CONTENT_TYPE,
                           H_DEADLINE_MS, H_EXTENSION_ID, H_FUNCTION_ARN, H_REQUEST_ID, H_TENANT_ID,
                           H_TRACE_ID)

cdef extern from "Python.h":
    bint PyUnicode_IS_ASCII(object o)

from _lambda_http import HttpProtocolError, IncompleteResponse


class RuntimeApiError(Exception):
    """The Runtime API failed in a way the runtime cannot go on from: exit and let Lambda restart."""


class ConnectionLost(RuntimeApiError):
    def __init__(self, message, bint before_response):
        RuntimeApiError.__init__(self, message)
        self.before_response = before_response


class Shutdown(BaseException):
    """Raised out of serve() to end the process gracefully (not an Exception: handlers'
    `except Exception` and serve()'s error path do not catch it). lambda_runtime.shutdown
    raises it from its SIGTERM handler when idle; serve() raises it after the invocation
    in progress when lifecycle.stop() was called during it."""


class ResponseRejected(Exception):
    """The Runtime API answered a post with a status other than 202."""
    def __init__(self, path, status, body):
        Exception.__init__(self, "POST %s answered %d: %s" % (path, status, body[:200]))
        self.status = status
        self.body = body


DEF MIN_RECV_ROOM = 16384    # recv() into whatever the buffer has free, at least this much
DEF NOGIL_SEND_MIN = 65536   # smaller sends fit the socket buffer: not worth releasing the GIL
DEF SIGNAL_GRACE_MS = 25    # how long a signal waits for an answer already on its way (a loaded host: >5 ms)
DEF MAX_REQUEST_ID = 128
DEF MAX_STRAY_BYTES = 65536  # see Connection.done()
DEF PIPELINED_BODY_MAX = 6000000  # below Lambda's 6 MB limit for a buffered response
API_VERSION = "2018-06-01"
JSON_CONTENT_TYPE = "application/json"
USER_AGENT = "lambda-native-python/1.0"


cdef class Invocation  # defined below, after Connection


cdef class Lifecycle:
    """Where the process is in its life, for the SIGTERM handler (lambda_runtime.shutdown,
    .concurrency) and for the waits of the clients. One object, `lifecycle`.

    state       stop_requested  invocation_active  on SIGTERM (stop())
    idle        False           False              -> stopping; True: raise Shutdown now
    answering   False           True               -> answering + stop_requested: serve()
                                                      raises Shutdown once the answer is posted
    stopping    True            either             ignored (Shutdown is on its way)

    serve() moves between idle and answering (begin_invocation(), end_invocation()); a
    forked worker starts idle again (reset()).

    signals_deferred: a signal woke a wait while an answer was arriving; its Python handlers
    run at the next wait with no answer under way (Connection.on_signal()), or before the
    next GET /next is sent (no GET /next is pipelined behind a response meanwhile, so a
    burst of queued invocations cannot keep it waiting).
    wakeup_fd: the (non-blocking) read end of the pipe given to signal.set_wakeup_fd(),
    polled beside the socket during a long poll, so that a signal landing just before that
    wait still wakes it (-1: none).
    current: the invocation serve() is on (or was last on), None before the first: log
    records name its request id.
    """
    cdef readonly bint stop_requested
    cdef readonly bint invocation_active
    cdef bint signals_deferred
    cdef readonly int wakeup_fd
    cdef readonly Invocation current

    def __cinit__(self):
        self.wakeup_fd = -1

    def stop(self):
        """SIGTERM arrived: True when Shutdown is to be raised now (idle); during an
        invocation it is only noted (serve() stops after the answer); False once stopping."""
        if self.stop_requested:
            return False
        self.stop_requested = True
        return not self.invocation_active

    def watch_wakeup_fd(self, int fd):
        """Also wake every long poll of the clients on fd (-1: none)."""
        self.wakeup_fd = fd

    def reset(self):
        """Idle again, nothing deferred (in a forked worker)."""
        self.stop_requested = self.invocation_active = self.signals_deferred = False

    cdef inline void begin_invocation(self, Invocation inv) noexcept:
        self.current = inv
        self.invocation_active = True

    cdef inline void end_invocation(self) noexcept:
        self.invocation_active = False


cdef Lifecycle state = Lifecycle()
lifecycle = state  # the same object, for Python

cdef inline long long monotonic_ms() noexcept nogil:
    cdef net.timespec ts
    net.clock_gettime(net.CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000LL + ts.tv_nsec // 1000000


cpdef long long epoch_ms() noexcept:
    cdef net.timespec ts
    net.clock_gettime(net.CLOCK_REALTIME, &ts)
    return ts.tv_sec * 1000LL + ts.tv_nsec // 1000000


cdef int os_error(int err, str what) except -1:
    raise OSError(err, "%s: %s" % (what, net.strerror(err).decode("utf-8", "replace")))


cdef bint is_safe_request_id(str request_id):
    """Request ids go into request lines: ASCII letters, digits, '-', '_', '.', ':' only."""
    cdef Py_ssize_t i, n = PyUnicode_GET_LENGTH(request_id)
    cdef const unsigned char *c
    cdef unsigned char ch
    if not 0 < n <= MAX_REQUEST_ID or not PyUnicode_IS_ASCII(request_id):
        return False
    c = PyUnicode_1BYTE_DATA(request_id)
    for i in range(n):
        ch = c[i]
        if not (b'a' <= ch <= b'z' or b'A' <= ch <= b'Z' or b'0' <= ch <= b'9'
                or ch == b'-' or ch == b'_' or ch == b'.' or ch == b':'):
            return False
    return True


# Request heads are written in place into a ByteBuf (native/bytebuf.pxd): no Python object
# per piece, and on the stack unless a long X-Ray cause makes the head outgrow it.

cdef inline int head_text(ByteBuf *h, const char *s) except -1:
    return buf_put(h, s, strlen(s))


cdef inline int head_bytes(ByteBuf *h, bytes b) except -1:
    return buf_put(h, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b))


cdef int head_ascii(ByteBuf *h, str s) except -1:
    if not PyUnicode_IS_ASCII(s):
        s.encode("ascii")  # raises UnicodeEncodeError naming the character
    return buf_put(h, <const char *>PyUnicode_1BYTE_DATA(s), PyUnicode_GET_LENGTH(s))


cdef int head_end(ByteBuf *h, Py_ssize_t content_length) except -1:
    """Content-Length (decimal) and the blank line that ends the head."""
    head_text(h, b"Content-Length: ")
    buf_decimal(h, content_length)
    return buf_put(h, b"\r\n\r\n", 4)


cdef class Connection:
    cdef readonly str host
    cdef readonly str port
    cdef readonly bytes host_header
    cdef int fd
    cdef bint fresh
    cdef ResponseParser parser
    cdef bint pipelined           # the request being answered has another one behind it
    cdef readonly bint in_flight  # ... whose answer is the next to read: receive_in_flight()
    cdef bint skip_stray          # see done()
    cdef Py_ssize_t stray_dropped
    cdef int recv_timeout_ms      # the socket's SO_RCVTIMEO (0: none), see receive()

    def __cinit__(self, str address):
        host, sep, port = address.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit():
            raise RuntimeApiError("AWS_LAMBDA_RUNTIME_API must be host:port, got %r" % address)
        self.host = host
        self.port = port
        self.host_header = ("Host: %s\r\nUser-Agent: %s\r\n" % (address, USER_AGENT)).encode("ascii")
        self.fd = -1
        self.parser = ResponseParser()

    def __dealloc__(self):
        if self.fd >= 0:
            net.close(self.fd)

    cdef int open(self) except -1:
        cdef net.addrinfo hints
        cdef net.addrinfo *found
        cdef net.addrinfo *ai
        cdef int rc, fd = -1, err = 0, one = 1
        cdef bytes host = self.host.encode("ascii")
        cdef bytes port = self.port.encode("ascii")
        hints.ai_flags = 0
        hints.ai_family = 0
        hints.ai_socktype = net.SOCK_STREAM
        hints.ai_protocol = 0
        hints.ai_addrlen = 0
        hints.ai_addr = NULL
        hints.ai_canonname = NULL
        hints.ai_next = NULL
        rc = net.getaddrinfo(host, port, &hints, &found)
        if rc != 0:
            raise RuntimeApiError("cannot resolve %s: %s" % (self.host, net.gai_strerror(rc).decode()))
        try:
            ai = found
            while ai != NULL:
                fd = net.socket(ai.ai_family, ai.ai_socktype | net.SOCK_CLOEXEC, ai.ai_protocol)
                if fd >= 0:
                    while True:
                        with nogil:
                            rc = net.connect(fd, ai.ai_addr, ai.ai_addrlen)
                        if rc == 0 or net.errno != net.EINTR:
                            break
                        PyErr_CheckSignals()
                    if rc == 0:
                        break
                    err = net.errno
                    net.close(fd)
                    fd = -1
                else:
                    err = net.errno
                ai = ai.ai_next
        finally:
            net.freeaddrinfo(found)
        if fd < 0:
            raise ConnectionLost("cannot connect to the Runtime API at %s:%s: %s"
                                 % (self.host, self.port, net.strerror(err).decode()), True)
        net.setsockopt(fd, net.IPPROTO_TCP, net.TCP_NODELAY, &one, sizeof(one))
        self.fd = fd
        self.fresh = True
        self.recv_timeout_ms = 0
        self.skip_stray = False
        self.parser = ResponseParser()
        return 0

    cdef void close(self) noexcept:
        """Closes the socket; an answer in flight goes with it."""
        if self.fd >= 0:
            net.close(self.fd)
            self.fd = -1
        self.pipelined = self.in_flight = False

    cdef int send_iov(self, net.iovec *iov, int count) except -1:
        """Sends every byte of the iovecs (partial writes and EINTR handled)."""
        cdef net.msghdr msg
        cdef Py_ssize_t sent, total = 0
        cdef int err, i
        for i in range(count):
            total += iov[i].iov_len
        msg.msg_name = NULL
        msg.msg_namelen = 0
        msg.msg_control = NULL
        msg.msg_controllen = 0
        msg.msg_flags = 0
        while count > 0:
            msg.msg_iov = iov
            msg.msg_iovlen = count
            if total >= NOGIL_SEND_MIN:
                with nogil:
                    sent = net.sendmsg(self.fd, &msg, net.MSG_NOSIGNAL)
            else:
                sent = net.sendmsg(self.fd, &msg, net.MSG_NOSIGNAL)
            if sent < 0:
                err = net.errno
                if err == net.EINTR:
                    PyErr_CheckSignals()
                    continue
                if err == net.EPIPE or err == net.ECONNRESET:
                    raise ConnectionLost("Runtime API connection closed while sending", True)
                os_error(err, "send to the Runtime API")
            while count > 0 and <size_t>sent >= iov[0].iov_len:
                sent -= iov[0].iov_len
                iov += 1
                count -= 1
            if count > 0:
                iov[0].iov_base = <char *>iov[0].iov_base + sent
                iov[0].iov_len -= sent
        return 0

    cdef int on_signal(self) except -1:
        """A signal arrived during a wait: run the Python handlers (SIGTERM may raise
        Shutdown), unless an answer is under way or arrives within SIGNAL_GRACE_MS: a
        delivered invocation must be answered, not dropped. Deferred handlers run at the
        next wait with no answer under way, or before the next GET /next is sent."""
        if self.parser.in_message() or self.wait_readable(SIGNAL_GRACE_MS):
            state.signals_deferred = True
            return 0
        state.signals_deferred = False
        PyErr_CheckSignals()
        return 0

    cdef bint wait_readable(self, int timeout_ms) except -1:
        """True if bytes of an answer are buffered or arrive within timeout_ms."""
        cdef net.pollfd pfd
        cdef int rc
        if self.parser.end > self.parser.start:
            return True
        if self.fd < 0:
            return False
        pfd.fd = self.fd
        pfd.events = net.POLLIN
        pfd.revents = 0
        with nogil:
            rc = net.poll(&pfd, 1, timeout_ms)
        return rc > 0

    cdef int set_recv_timeout(self, int timeout_ms) except -1:
        """SO_RCVTIMEO (0: none), set only when it changes: once per connection in practice."""
        cdef net.timeval tv
        if timeout_ms == self.recv_timeout_ms:
            return 0
        tv.tv_sec = timeout_ms // 1000
        tv.tv_usec = (timeout_ms % 1000) * 1000
        if net.setsockopt(self.fd, net.SOL_SOCKET, net.SO_RCVTIMEO, &tv, sizeof(tv)) != 0:
            os_error(net.errno, "setsockopt(SO_RCVTIMEO)")
        self.recv_timeout_ms = timeout_ms
        return 0

    cdef int receive(self, int timeout_ms) except -1:
        """Reads until the parser holds a whole response; returns its status. timeout_ms < 0:
        none. Bytes that are no HTTP answer close the connection and raise RuntimeApiError:
        the one place where the parser's HttpProtocolError becomes the runtime's error."""
        try:
            return self.read_response(timeout_ms)
        except HttpProtocolError as bad:
            self.close()
            raise RuntimeApiError("unreadable answer from the Runtime API: %s" % bad) from None

    cdef int read_response(self, int timeout_ms) except -1:
        """receive() without the translation of protocol errors. Python signal handlers run
        through on_signal().

        Two ways to wait. A long poll (no timeout) with a signal wakeup fd set polls the socket
        and that fd, so a signal that lands just before the wait still wakes it. Every other
        wait is a blocking recv() bounded by SO_RCVTIMEO: one system call per wake-up instead
        of poll() + recv(); a signal interrupts it (EINTR), and one that lands just before it
        is handled at the next wait (the answer it waits for is under way anyway)."""
        cdef ResponseParser parser = self.parser
        cdef Py_ssize_t n, room
        cdef char *dest
        cdef int err
        cdef bint readable            # poll() said so: recv() returns at once, GIL kept
        cdef long long deadline = monotonic_ms() + timeout_ms if timeout_ms >= 0 else 0
        cdef bint polling = timeout_ms < 0 and state.wakeup_fd >= 0
        if timeout_ms >= 0:
            # A long poll keeps whatever SO_RCVTIMEO is set (it only wakes to wait again):
            # no setsockopt() per invocation, as all posts use the same timeout.
            self.set_recv_timeout(timeout_ms if timeout_ms > 0 else 1)
        while True:
            if self.skip_stray and parser.skip_stray_bytes(&self.stray_dropped):
                self.skip_stray = False
            if self.stray_dropped > MAX_STRAY_BYTES:
                raise HttpProtocolError("%d stray bytes before an answer" % self.stray_dropped)
            if not self.skip_stray and parser.parse():
                return parser.status
            if state.signals_deferred and not parser.in_message():
                self.on_signal()  # runs the deferred handlers unless an answer is arriving
            if timeout_ms >= 0 and monotonic_ms() > deadline:
                raise RuntimeApiError("the Runtime API did not answer within %d ms" % timeout_ms)
            readable = False
            if polling:
                if not self.poll_with_signals():
                    continue
                readable = True
            dest = parser.reserve(MIN_RECV_ROOM)
            room = parser.cap - parser.end
            if readable:
                n = net.recv(self.fd, dest, room, 0)
            else:
                with nogil:
                    n = net.recv(self.fd, dest, room, 0)
            if n > 0:
                parser.commit(n)
                continue
            if n == 0:
                if parser.finish_at_eof():
                    return parser.status
                raise ConnectionLost("the Runtime API closed the connection", True)
            err = net.errno
            if err == net.EINTR:
                self.on_signal()
                continue
            if err == net.EAGAIN:      # (EWOULDBLOCK on Linux)
                continue              # SO_RCVTIMEO ran out: the deadline check above decides
            if err == net.ECONNRESET:
                raise ConnectionLost("the Runtime API reset the connection",
                                     not parser.in_message())
            os_error(err, "recv from the Runtime API")

    cdef bint poll_with_signals(self) except -1:
        """Waits for the socket or the signal wakeup fd; True when the socket is readable,
        False after a signal (its handlers have run, or were deferred: see on_signal)."""
        cdef net.pollfd pfd[2]
        cdef char drain[64]
        cdef int rc
        pfd[0].fd = self.fd
        pfd[0].events = net.POLLIN
        pfd[0].revents = 0
        pfd[1].fd = state.wakeup_fd
        pfd[1].events = net.POLLIN
        pfd[1].revents = 0
        with nogil:
            rc = net.poll(pfd, 2, -1)
        if rc < 0:
            if net.errno == net.EINTR:
                self.on_signal()
                return False
            os_error(net.errno, "poll")
        if pfd[1].revents:
            while net.read(state.wakeup_fd, drain, sizeof(drain)) > 0:
                pass
            if not pfd[0].revents:
                self.on_signal()
                return False
            # An answer is arriving too: the handlers run once it is in. Noted here, as the
            # drained pipe will not wake a later wait (a SIGTERM during a burst hung in the
            # long poll after the last invocation).
            state.signals_deferred = True
        return True

    cdef int exchange(self, const char *head, Py_ssize_t head_len, bytes body, int timeout_ms,
                      bytes then=None) except -1:
        """Sends head + body and reads the answer; returns its status. `then`, another request
        in the same write (HTTP/1.1 pipelining), is answered after it: once done() is called
        for this answer, that one is in flight (receive_in_flight()). A connection the server
        closed while we were idle is reopened and the request sent again, once, if no answer
        had begun."""
        cdef net.iovec iov[3]
        cdef int count, attempt
        for attempt in range(2):
            if self.fd >= 0 and self.parser.in_message():
                self.close()     # stray bytes after the last answer (a lying length): start clean
            if self.fd < 0:
                self.open()
            iov[0].iov_base = <void *>head
            iov[0].iov_len = head_len
            count = 1
            if body is not None and PyBytes_GET_SIZE(body) > 0:
                iov[1].iov_base = PyBytes_AS_STRING(body)
                iov[1].iov_len = PyBytes_GET_SIZE(body)
                count = 2
            if then is not None:
                iov[count].iov_base = PyBytes_AS_STRING(then)
                iov[count].iov_len = PyBytes_GET_SIZE(then)
                count += 1
            fresh = self.fresh
            self.fresh = False
            self.pipelined = then is not None
            try:
                self.send_iov(iov, count)
                return self.receive(timeout_ms)
            except ConnectionLost as lost:
                self.close()
                if fresh or attempt == 1 or not lost.before_response:
                    raise

    cdef int receive_in_flight(self) except -1:
        """Reads the answer to the request pipelined behind the last one (no timeout: it is
        a GET /next). Returns its status, or 0 when none is in flight or the connection was
        lost before it came (then nothing was delivered: ask again)."""
        if not self.in_flight:
            return 0
        self.in_flight = False
        try:
            return self.receive(-1)
        except ConnectionLost:
            self.close()
            return 0

    cdef void done(self) noexcept:
        """Drops the parsed response; closes if the server asked for it. An answer to a
        request pipelined behind it is then in flight: bytes before its status line (what a
        short Content-Length left of this body) are dropped, not taken for it."""
        cdef bint keep = self.parser.keep_alive
        self.parser.consume()
        if not keep:
            self.close()
        elif self.pipelined:
            self.pipelined = False
            self.in_flight = True
            self.skip_stray = True
            self.stray_dropped = 0

    cdef bytes body_bytes(self):
        return PyBytes_FromStringAndSize(self.parser.body_ptr(), self.parser.body_len)

    # -- streaming: the head, chunks and trailers are written as the handler produces them

    cdef int begin_stream(self, bytes head) except -1:
        cdef net.iovec iov[1]
        if self.fd >= 0 and self.wait_readable(0):
            self.close()  # closed by the server while idle, or stray bytes: start clean
        if self.fd < 0:
            self.open()
        self.fresh = False
        iov[0].iov_base = PyBytes_AS_STRING(head)
        iov[0].iov_len = PyBytes_GET_SIZE(head)
        try:
            return self.send_iov(iov, 1)
        except ConnectionLost:
            self.close()
            raise

    cdef int send_chunk(self, const char *data, Py_ssize_t size) except -1:
        cdef net.iovec iov[3]
        cdef bytes size_line
        if size == 0:
            return 0             # a zero-size chunk would end the body
        size_line = b"%x\r\n" % size
        iov[0].iov_base = PyBytes_AS_STRING(size_line)
        iov[0].iov_len = PyBytes_GET_SIZE(size_line)
        iov[1].iov_base = <void *>data
        iov[1].iov_len = size
        iov[2].iov_base = <void *><const char *>b"\r\n"
        iov[2].iov_len = 2
        try:
            return self.send_iov(iov, 3)
        except ConnectionLost:
            self.close()
            raise


cdef class Invocation:
    """What GET /next delivered: the request id, the Lambda-Runtime-* headers and the body."""
    cdef readonly str request_id
    cdef readonly long long deadline_ms
    cdef readonly str invoked_function_arn
    cdef readonly str trace_id
    cdef readonly str client_context
    cdef readonly str cognito_identity
    cdef readonly str tenant_id
    cdef readonly str content_type
    cdef readonly bytes body

    def __init__(self, str request_id, long long deadline_ms=0, str invoked_function_arn=None,
                 str trace_id=None, str client_context=None, str cognito_identity=None,
                 str tenant_id=None, str content_type="application/json", bytes body=b""):
        self.request_id = request_id
        self.deadline_ms = deadline_ms
        self.invoked_function_arn = invoked_function_arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.tenant_id = tenant_id
        self.content_type = content_type
        self.body = body


cdef class RuntimeApiClient:
    """One method per Runtime API endpoint (paths under /2018-06-01)."""
    cdef readonly Connection connection
    cdef str address
    cdef bytes next_request
    cdef bytes prefix
    cdef public int post_timeout_ms

    def __init__(self, str address, int post_timeout_ms=30000):
        self.address = address
        self.connection = Connection(address)
        self.prefix = ("/%s/runtime/" % API_VERSION).encode("ascii")
        self.next_request = (b"GET " + self.prefix + b"invocation/next HTTP/1.1\r\n"
                             + self.connection.host_header + b"\r\n")
        self.post_timeout_ms = post_timeout_ms

    # GET /runtime/invocation/next
    cpdef Invocation next_invocation(self):
        """Blocks (no timeout: a long poll) until Lambda hands over an invocation.
        Raises UnanswerableInvocation for one without a usable request id (no or unsafe)."""
        cdef Connection conn = self.connection
        cdef int status = conn.receive_in_flight()  # a GET /next sent behind the last post
        if status == 0:
            state.signals_deferred = False
            PyErr_CheckSignals()  # a pending SIGTERM ends us before an invocation can be delivered
            status = conn.exchange(PyBytes_AS_STRING(self.next_request), PyBytes_GET_SIZE(self.next_request),
                                   None, -1)
        cdef ResponseParser answer = conn.parser
        if status != 200:
            body = conn.body_bytes()
            conn.done()
            raise RuntimeApiError("GET /runtime/invocation/next answered %d: %r" % (status, body[:200]))
        request_id = answer.header(H_REQUEST_ID)
        if request_id is None or not is_safe_request_id(request_id):
            conn.done()
            raise UnanswerableInvocation(request_id)
        cdef Invocation inv = Invocation.__new__(Invocation)  # no argument parsing
        inv.request_id = request_id
        inv.deadline_ms = max(answer.header_number(H_DEADLINE_MS), 0)
        inv.invoked_function_arn = answer.header(H_FUNCTION_ARN)
        inv.trace_id = answer.header(H_TRACE_ID)
        inv.client_context = answer.header(H_CLIENT_CONTEXT)
        inv.cognito_identity = answer.header(H_COGNITO_IDENTITY)
        inv.tenant_id = answer.header(H_TENANT_ID)
        if answer.header_is(H_CONTENT_TYPE, b"application/json", 16):
            inv.content_type = JSON_CONTENT_TYPE  # the usual value: no new string
        else:
            content_type = answer.header(H_CONTENT_TYPE)
            inv.content_type = JSON_CONTENT_TYPE if content_type is None else content_type
        inv.body = conn.parser.take_body()  # a large body: the receive buffer itself, no copy
        conn.done()
        return inv

    cdef int begin_post(self, ByteBuf *head, const char *endpoint, str request_id=None,
                        const char *endpoint_tail=b"") except -1:
        """Writes the start of a POST head (buf_init'ed): request line (endpoint [request id
        endpoint_tail], under the runtime prefix) and the Host/User-Agent lines."""
        head_text(head, b"POST ")
        head_bytes(head, self.prefix)
        head_text(head, endpoint)
        if request_id is not None:
            head_ascii(head, request_id)
            head_text(head, endpoint_tail)
        head_text(head, b" HTTP/1.1\r\n")
        return head_bytes(head, self.connection.host_header)

    cdef int post(self, ByteBuf *head, bytes body, bint then_next=False) except -1:
        """Ends the head begun by begin_post() and POSTs body; with then_next the GET /next
        goes in the same write, its answer is left in flight for next_invocation() (also when
        the post is refused: the server still answers it). While a GET /next is in flight
        (an error for a refused response), the post goes on a connection of its own: Lambda
        answers that GET only once this post is in."""
        cdef Connection conn = self.connection
        cdef RuntimeApiClient side
        if conn.in_flight:
            side = RuntimeApiClient(self.address, self.post_timeout_ms)
            return side.post(head, body)
        head_end(head, PyBytes_GET_SIZE(body))
        status = conn.exchange(head.data, head.len, body, self.post_timeout_ms,
                               self.next_request if then_next else None)
        answer = conn.body_bytes() if status != 202 else None
        conn.done()
        if status != 202:
            line = head.data[:head.len].split(b"\r\n", 1)[0]  # POST <prefix><path> HTTP/1.1
            raise ResponseRejected(line[5 + len(self.prefix):len(line) - 9].decode("latin-1"), status,
                                   answer.decode("utf-8", "replace"))
        return 0

    # POST /runtime/invocation/{id}/response
    cpdef post_response(self, str request_id, bytes body, bytes content_type=b"application/json",
                        bint then_next=False):
        """then_next: pipeline the next GET /next behind the response (see post())."""
        cdef ByteBuf head
        buf_init(&head)
        try:
            self.begin_post(&head, b"invocation/", request_id, b"/response")
            head_text(&head, b"Content-Type: ")
            head_bytes(&head, content_type)
            head_text(&head, b"\r\n")
            self.post(&head, body, then_next)
        finally:
            buf_free(&head)

    # POST /runtime/invocation/{id}/error
    cpdef post_error(self, str request_id, bytes body, str error_type, bytes xray_cause=None):
        cdef ByteBuf head
        buf_init(&head)
        try:
            self.begin_post(&head, b"invocation/", request_id, b"/error")
            put_error_headers(&head, error_type, xray_cause)
            self.post(&head, body)
        finally:
            buf_free(&head)

    # POST /runtime/init/error
    cpdef post_init_error(self, bytes body, str error_type):
        cdef ByteBuf head
        buf_init(&head)
        try:
            self.begin_post(&head, b"init/error")
            put_error_headers(&head, error_type, None)
            self.post(&head, body)
        finally:
            buf_free(&head)

    # POST /runtime/invocation/{id}/response, streamed (Transfer-Encoding: chunked)
    cpdef begin_stream(self, str request_id, bytes content_type):
        self.connection.begin_stream(b"".join((
            b"POST ", self.prefix, b"invocation/", request_id.encode("ascii"), b"/response HTTP/1.1\r\n",
            self.connection.host_header,
            b"Content-Type: ", content_type, b"\r\n"
            b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
            b"Transfer-Encoding: chunked\r\n"
            b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n")))

    cpdef send_chunk(self, bytes data):
        self.connection.send_chunk(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))

    cpdef end_stream(self, str error_type=None, bytes error_body_b64=None):
        """Ends the chunked body (with error trailers if given) and reads the answer."""
        cdef Connection conn = self.connection
        cdef net.iovec iov[1]
        if error_type is None:
            last = b"0\r\n\r\n"
        else:
            last = b"".join((b"0\r\nLambda-Runtime-Function-Error-Type: ", error_type.encode("ascii"),
                             b"\r\nLambda-Runtime-Function-Error-Body: ", error_body_b64, b"\r\n\r\n"))
        iov[0].iov_base = PyBytes_AS_STRING(last)
        iov[0].iov_len = PyBytes_GET_SIZE(last)
        try:
            conn.send_iov(iov, 1)
            status = conn.receive(self.post_timeout_ms)
        except ConnectionLost as lost:
            conn.close()
            raise RuntimeApiError("streamed response failed: %s" % lost) from None
        answer = conn.body_bytes() if status != 202 else None
        conn.done()
        if status != 202:
            raise ResponseRejected("invocation/response (streamed)", status, answer.decode("utf-8", "replace"))

    def abort(self):
        """Drops the connection (after a failed stream, the next request reconnects) and
        with it a GET /next in flight."""
        self.connection.close()

    cdef bint pending_answer_within(self, int timeout_ms) except -1:
        """True if a GET /next is in flight and its answer arrives within timeout_ms."""
        return self.connection.in_flight and self.connection.wait_readable(timeout_ms)


cdef class ExtensionClient:
    """The Extensions API (paths under /2020-01-01/extension), for the runtime's no-op
    internal extension: registering any extension makes Lambda send SIGTERM before it
    ends the environment. Its long poll holds a connection of its own for the life of
    the process."""
    cdef readonly Connection connection
    cdef readonly str extension_id
    cdef int timeout_ms

    def __init__(self, str address, int timeout_ms=2000):
        self.connection = Connection(address)
        self.timeout_ms = timeout_ms

    # POST /2020-01-01/extension/register
    def register(self, str name, RuntimeApiClient via=None, bytes body=b'{"events":[]}'):
        """Registers. `via` lends the runtime client's fresh connection (same server) and
        sends its first GET /next right behind the registration (HTTP/1.1 pipelining): the
        registration costs no round trip of its own on the cold-start path."""
        cdef Connection conn = self.connection if via is None else via.connection
        cdef int status
        head = b"".join((
            b"POST /2020-01-01/extension/register HTTP/1.1\r\n", conn.host_header,
            b"Lambda-Extension-Name: ", name.encode("ascii"), b"\r\n"
            b"Lambda-Extension-Accept-Feature: accountId\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % PyBytes_GET_SIZE(body)))
        cdef bint pipelined = via is not None and conn.fd < 0
        try:
            status = conn.exchange(PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head), body, self.timeout_ms,
                                   via.next_request if pipelined else None)
        except RuntimeApiError as failed:
            conn.close()              # a pipelined GET /next goes with it; serve() asks again
            raise RuntimeApiError("extension registration failed: %s" % failed) from None
        extension_id = conn.parser.header(H_EXTENSION_ID)
        answer = conn.body_bytes()
        conn.done()
        if status != 200:
            raise RuntimeApiError("extension registration answered %d: %r" % (status, answer[:200]))
        if not extension_id or not is_safe_request_id(extension_id):
            raise RuntimeApiError("extension registration gave no usable Lambda-Extension-Identifier")
        self.extension_id = extension_id
        return extension_id

    # GET /2020-01-01/extension/event/next
    def send_event_poll(self):
        """Sends the extension's long poll and never reads it: Lambda answers at shutdown."""
        cdef net.iovec iov[1]
        head = b"".join((b"GET /2020-01-01/extension/event/next HTTP/1.1\r\n", self.connection.host_header,
                         b"Lambda-Extension-Identifier: ", self.extension_id.encode("ascii"), b"\r\n\r\n"))
        iov[0].iov_base = PyBytes_AS_STRING(head)
        iov[0].iov_len = PyBytes_GET_SIZE(head)
        if self.connection.fd < 0:  # registration may have gone over the runtime's connection
            self.connection.open()
        self.connection.send_iov(iov, 1)


class UnanswerableInvocation(Exception):
    """GET /next delivered an invocation without a usable request id."""
    def __init__(self, request_id):
        Exception.__init__(self, "refusing an invocation with %s request id %r" % (
            "no" if request_id is None else "an unsafe", (request_id or "")[:80]))


cdef int put_error_headers(ByteBuf *head, str error_type, bytes xray_cause) except -1:
    head_text(head, b"Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: ")
    head_ascii(head, error_type)
    head_text(head, b"\r\n")
    if xray_cause is not None:
        head_text(head, b"Lambda-Runtime-Function-XRay-Error-Cause: ")
        head_bytes(head, xray_cause)
        head_text(head, b"\r\n")
    return 0


# -- outcomes: what a handler made of an invocation, posted by post_outcome() -----------------

cdef class Response:
    """A result to post as the invocation's response: its bytes and their content type."""
    cdef readonly bytes body
    cdef readonly bytes content_type


cdef inline Response response(bytes body, bytes content_type):
    cdef Response made = Response.__new__(Response)
    made.body = body
    made.content_type = content_type
    return made


cdef class Stream:
    """A streaming handler's generator: its chunks are posted as it yields them."""
    cdef readonly object generator

    def __init__(self, generator):
        self.generator = generator


cdef class ErrorReport:
    """An error to post: the Lambda-Runtime-Function-Error-Type value, the error JSON, and
    the X-Ray cause JSON (None: no Lambda-Runtime-Function-XRay-Error-Cause header)."""
    cdef readonly str error_type
    cdef readonly bytes body
    cdef readonly bytes xray_cause

    def __init__(self, str error_type, bytes body, bytes xray_cause=None):
        self.error_type = error_type
        self.body = body
        self.xray_cause = xray_cause


cdef class Contract:
    """The handler and what serve() does around it: the event decoded, the context built,
    the result encoded, an exception made an ErrorReport. Built once, with its handler; it
    holds no client. lambda_runtime.function.Function is this class with its Python half,
    called on the paths that are not a plain success: is_stream(result),
    send_stream(client, invocation, generator) -> None or an ErrorReport to post,
    unmarshal_error(error) and marshal_error(error) -> the exception to report,
    error_report(exc, invocation) and too_large_report(invocation, size) -> ErrorReport,
    report_unanswerable(exc).
    """
    cdef readonly object handler
    cdef readonly bint raw
    cdef object context_class, loads, dumps, environ_data, trace_key, fs_encoding
    cdef type plain_type  # the last result type found not to be a stream

    def __init__(self, handler, context_class, loads, dumps, trace_environ):
        """loads: bytes -> event (ValueError); dumps: result -> bytes (TypeError, ValueError,
        ...); trace_environ: os.environ's bytes mapping, the key of _X_AMZN_TRACE_ID in it
        and the encoding of its values."""
        self.handler = handler
        self.raw = bool(getattr(handler, "__lambda_raw__", False))
        self.context_class = context_class
        self.loads = loads
        self.dumps = dumps
        self.environ_data, self.trace_key, self.fs_encoding = trace_environ
        self.plain_type = type(None)

    cdef object outcome(self, Invocation inv):
        """What the handler made of inv: a Response, a Stream or an ErrorReport."""
        try:
            self.set_trace_id(inv.trace_id)
            result = self.call_handler(inv)
            if type(result) is not self.plain_type:
                if (<object>self).is_stream(result):
                    return Stream(result)
                self.plain_type = type(result)
            return self.encode(result)
        except Exception as exc:
            return (<object>self).error_report(exc, inv)

    cdef void set_trace_id(self, str trace_id) except *:
        """_X_AMZN_TRACE_ID follows the invocation (in os.environ's mapping only: see
        lambda_runtime.function)."""
        if trace_id is None:
            self.environ_data.pop(self.trace_key, None)
        elif PyUnicode_IS_ASCII(trace_id):  # always, in practice: the same bytes in any encoding
            self.environ_data[self.trace_key] = PyBytes_FromStringAndSize(
                <const char *>PyUnicode_1BYTE_DATA(trace_id), PyUnicode_GET_LENGTH(trace_id))
        else:
            self.environ_data[self.trace_key] = trace_id.encode(self.fs_encoding, "surrogateescape")

    cdef object call_handler(self, Invocation inv):
        """handler(event, context): the event as bytes in raw mode or for a content type other
        than JSON, else loads() of them. The context is made first, as awslambdaric does
        (a bad Client-Context header wins over a bad event); and from the event's decoding
        until the handler has dropped it the runtime allocates no object the collector
        counts, so that it starts no collection walking the event's thousands of containers."""
        context = self.context_class(inv)
        if self.raw or inv.content_type != JSON_CONTENT_TYPE:
            event = inv.body
        else:
            try:
                event = self.loads(inv.body)
            except ValueError as error:
                raise (<object>self).unmarshal_error(error) from None
        inv.body = None  # the event's bytes live no longer than the handler holds them
        return self.handler(event, context)

    cdef Response encode(self, result):
        """A handler's result as a Response: bytes-like as they are, a str as UTF-8 text in
        raw mode, anything else as JSON."""
        if isinstance(result, (bytes, bytearray, memoryview)):
            return response(bytes(result), b"application/octet-stream" if self.raw else b"application/unknown")
        if self.raw and isinstance(result, str):
            return response((<str>result).encode("utf-8"), b"text/plain; charset=utf-8")
        try:
            return response(self.dumps(result), b"application/json")
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            raise (<object>self).marshal_error(error) from None


cdef int post_outcome(RuntimeApiClient client, Contract contract, Invocation inv, outcome) except -1:
    """Posts what the handler made of inv, the one place that does. A refused post is
    decided by refused(); what it answers with (an ErrorReport for a response too large)
    is posted the same way."""
    cdef Response ok
    cdef ErrorReport error
    while outcome is not None:
        try:
            if type(outcome) is Response:
                ok = outcome
                # Bodies over Lambda's limit go alone: their 413 is expected (see post()). No GET
                # /next behind it either once a signal waits to run: it runs before the next GET.
                client.post_response(inv.request_id, ok.body, ok.content_type,
                                     not state.stop_requested and not state.signals_deferred
                                     and PyBytes_GET_SIZE(ok.body) <= PIPELINED_BODY_MAX)
                return 0
            if type(outcome) is ErrorReport:
                error = outcome
                client.post_error(inv.request_id, error.body, error.error_type, error.xray_cause)
                return 0
            outcome = (<object>contract).send_stream(client, inv, (<Stream?>outcome).generator)
        except (ResponseRejected, RuntimeApiError) as failure:
            outcome = refused(contract, inv, outcome, failure)
    return 0


cdef object refused(Contract contract, Invocation inv, outcome, failure):
    """What it means when the Runtime API refused a post (ResponseRejected) or failed
    (RuntimeApiError): a response over Lambda's limit (413) is answered with
    Function.ResponseSizeTooLarge, returned to be posted; another 4xx (400: unknown id,
    403: already answered) is reported on stderr and the loop goes on (None); a 5xx or a
    failed Runtime API ends the process with a RuntimeApiError naming the invocation."""
    if isinstance(failure, ResponseRejected) and failure.status < 500:
        if failure.status == 413 and type(outcome) is Response:
            return (<object>contract).too_large_report(inv, PyBytes_GET_SIZE((<Response>outcome).body))
        import sys

        print("lambda-runtime: invocation %s: %s" % (inv.request_id, failure), file=sys.stderr, flush=True)
        return None
    raise RuntimeApiError("invocation %s: %s" % (inv.request_id, failure)) from None


def immortalize_init_heap():
    """Readies the heap for the Managed-Instances fork (lambda_runtime.concurrency calls it
    just before forking, with the init's objects back in the collector's lists:
    gc.unfreeze()): on CPython 3.12/3.13 the objects alive now are made immortal and the
    pymalloc pools' holes taken (native/immortal.pxd). Returns (objects made immortal, bytes
    of pool holes taken); (-1, -1) where the interpreter has no immortal objects (CPython
    3.11, a free-threaded build), and nothing is done."""
    import sys

    cdef Py_ssize_t made = -1, filled = -1
    if IMMORTAL_HEAP_SUPPORTED:
        # Deallocating these closes a descriptor or a handle, and they have no finalizer.
        resources = [Connection]
        for module, name in (("mmap", "mmap"), ("select", "epoll"), ("select", "devpoll"), ("select", "kqueue"),
                             ("sqlite3", "Connection"), ("sqlite3", "Blob"), ("_multiprocessing", "SemLock")):
            kind = getattr(sys.modules.get(module), name, None)
            if isinstance(kind, type):
                resources.append(kind)
        made = immortalize_heap(tuple(resources))
        if made == -2:
            raise MemoryError("immortalize_init_heap")
        filled = fill_object_pools()
    return made, filled


def kept_arenas():
    """Tests only: how many freed object arenas are kept for reuse (native/arenas.pxd)."""
    return arenas_kept()


def serve(RuntimeApiClient client, Contract contract, long long max_invocations=-1):
    """The invocation loop: next invocation -> its outcome -> post. Raises Shutdown when
    lifecycle.stop() was called during an invocation, once it has been answered."""
    cdef Invocation inv
    cdef long long served = 0
    keep_freed_arenas()  # an invocation's objects die with it: their arenas are reused, not re-faulted
    while served != max_invocations:
        if state.stop_requested:
            # A GET /next pipelined before the stop request may be answered with an
            # invocation already on its way: serve that one, then stop.
            if not client.pending_answer_within(SIGNAL_GRACE_MS):
                client.abort()
                raise Shutdown()
        try:
            inv = client.next_invocation()
        except UnanswerableInvocation as exc:
            (<object>contract).report_unanswerable(exc)
            continue
        served += 1
        state.begin_invocation(inv)
        try:
            post_outcome(client, contract, inv, contract.outcome(inv))
        finally:
            state.end_invocation()
    return served
