"""Mock AWS Lambda Runtime API (and Extensions API) on loopback, with fault injection.

Pure stdlib, hand-written HTTP/1.1 on raw sockets (one thread per connection, keep-alive),
so every byte the mock writes is under the test's control.

Contract
--------
::

    api = MockRuntimeAPI(host="127.0.0.1", port=0, *, response_limit=6*1024*1024+100,
                         streaming_limit=200*1024*1024, fault_linger=1.0)
    api.start(); ...; api.stop()          # or: with MockRuntimeAPI() as api: ...
    api.address                           # "127.0.0.1:PORT" -> AWS_LAMBDA_RUNTIME_API

    rid = api.enqueue(event, *, request_id=None, deadline_ms=None, headers=None,
                      chunked=False, chunk_size=None, function_arn=..., trace_id=None,
                      client_context=None, cognito_identity=None, tenant_id=None,
                      keep_response_body=True)   # False: its result's body is dropped
    res = api.wait_result(rid, timeout=10, *, accepted_only=False)   # Result or TimeoutError
    api.results_for(rid)                  # every /response or /error POST for rid
    api.wait_init_error(timeout=10)       # Result of POST /runtime/init/error
    api.wait_for_next_poll(count, timeout=10)       # the runtime made its count-th GET /next
    api.wait_for_extension_poll(count, timeout=10)  # same for GET /extension/event/next
    api.send_shutdown(reason="spindown", deadline_ms=None)
    api.inject(Fault.X, endpoint="next", *, times=1, skip=0, **params) -> Injection

Attributes: ``results`` (all /response and /error POSTs, in arrival order), ``requests``
(every request received, faulted or not), ``next_calls``, ``extension_next_calls``,
``connections_accepted``, ``extensions`` (list of ``Extension``), ``init_errors``,
``pending`` (ids still queued), ``state(rid)`` -> "queued" | "delivered" | "answered" | None.

Endpoints
---------
* ``GET /2018-06-01/runtime/invocation/next``: long poll, no timeout, until an event is
  queued (then 200 + event) or the server stops (then the connection is closed).
  Headers: Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id,
  and -Client-Context / -Cognito-Identity / -Aws-Tenant-Id when given; Content-Type
  application/json; Content-Length, or Transfer-Encoding: chunked when ``chunked=True``
  (one chunk, or ``chunk_size``-byte chunks). ``headers={name: value}`` overrides or adds
  headers (case-insensitive; value None removes one; an explicit Content-Length or
  Transfer-Encoding is sent verbatim instead of the computed one).
* ``POST /2018-06-01/runtime/invocation/{id}/response`` and ``.../error``: 202
  ``{"status":"OK"}``; unknown id 400; already answered 403; body over the limit 413
  ``{"errorMessage":...,"errorType":"RequestEntityTooLarge"}`` (``streaming_limit`` applies
  when ``Lambda-Runtime-Function-Response-Mode: streaming``). 4xx leave the invocation
  unanswered. An id that is still queued (never delivered) is accepted and dequeued.
  Bodies: Content-Length or chunked (with trailers); ``Result.chunks`` keeps the arrival
  time of every chunk.
* ``POST /2018-06-01/runtime/init/error``: 202.
* ``POST /2020-01-01/extension/register`` (Lambda-Extension-Name, ``{"events": [...]}``):
  200, Lambda-Extension-Identifier header, JSON body. ``GET /2020-01-01/extension/event/next``
  (Lambda-Extension-Identifier) blocks until ``send_shutdown()`` and then answers
  ``{"eventType":"SHUTDOWN","shutdownReason":..,"deadlineMs":..}`` to extensions registered
  for SHUTDOWN (every later poll gets the same event). INVOKE events are not generated.
  ``POST /2020-01-01/extension/{init,exit}/error``: 202.

Fault injection
---------------
``api.inject(fault, endpoint, times=1, skip=0, **params)`` arms a fault for the next
matching request(s). ``endpoint`` is one of ENDPOINTS ("next", "response", "error",
"init_error", "register", "extension_next", or "any"). ``skip`` lets that many matching
requests pass first. The request is always read completely (unless ``read_body=False``)
and recorded in ``requests`` / ``results`` with ``Result.fault`` set and ``Result.status``
= the status code put on the wire (None when no intact status line was sent).

No side effects by default: a faulted ``/next`` leaves its event *queued* (it is delivered
again by the next good ``/next``); a faulted ``/response``/``/error`` leaves the invocation
*unanswered*. Pass ``consume=True`` to do the normal processing (event dequeued and marked
delivered / invocation marked answered) and only corrupt the bytes on the wire. Faults on
/next that carry the event wait for one (long poll) like a normal /next.

What happens after the faulty bytes (``then=`` overrides): "close" the connection, "keep"
serving it, "linger" (keep serving but close after ``linger`` seconds of silence, a long
poll included; default ``fault_linger``: used for lies, so the mock never waits forever),
"hold" (never answer; closed after ``seconds`` or at stop()).

=========================  ===================================================  ==========
Fault                      bytes on the wire (params)                           then
=========================  ===================================================  ==========
CLOSE_BEFORE_RESPONSE      nothing (read_body=False: close before the body)     close
CLOSE_MID_HEADERS          first ``at`` bytes of the head (default half)         close
CLOSE_MID_BODY             head + ``at`` body bytes (default half)               close
CLOSE_AFTER_RESPONSE       the full, correct response                            close
GARBAGE_STATUS_LINE        ``line`` instead of the status line                   linger
GARBAGE_HEADER_LINE        extra ``line`` (no colon) after the status line       linger
CONTENT_LENGTH_SHORT       Content-Length = len(body) - ``by`` (default half)    linger
CONTENT_LENGTH_LONG        Content-Length = len(body) + ``by`` (default 100)     linger
CONTENT_LENGTH_NEGATIVE    Content-Length: ``value`` (default -1)                linger
CONTENT_LENGTH_HUGE        Content-Length: ``value`` (default 2**64 * 1000)      linger
CONTENT_LENGTH_INVALID     Content-Length: ``value`` (default "12abc")           linger
CONTENT_LENGTH_CONFLICT    two Content-Length headers: len, len + ``by`` (1)     linger
CHUNK_SIZE_MALFORMED       chunked, first size line = ``size_line`` ("zz")       linger
CHUNK_SIZE_OVERFLOW        chunked, first size line = ``size_line`` (32 hex f)   linger
CHUNK_TRUNCATED            chunk announced full size, ``at`` bytes sent (half)   linger
STATUS                     well-formed ``status`` (500) with ``body``/``headers`` keep
HOLD                       nothing, ever (``seconds`` = None: until stop())      hold
DELAY                      the correct response after ``seconds`` (1.0)          keep
SLOW_BYTES                 correct response, ``step`` (1) bytes per ``delay`` s  keep
LONG_HEADER                extra header line of ``size`` bytes (65536, no CRLF)  keep
MANY_HEADERS               ``count`` (1000) extra headers                        keep
RAW                        ``data`` bytes verbatim                               close
=========================  ===================================================  ==========

Smoke command
-------------
``python -m devtools.mock_runtime_api --bootstrap dist/bootstrap --event event.json
[--handler mod.fn] [--env K=V ...] [--timeout 30] [--quiet]`` runs one invocation and
prints the function's response body (exit 0), or ``FUNCTION ERROR``/``INIT ERROR`` JSON
(exit 1/2), or ``BOOTSTRAP DIED`` with its exit status and stderr (exit 3), or
``TIMEOUT`` (exit 4). ``run_bootstrap_once(bootstrap, event, env=None, timeout=30)`` is the
same as a function (returns the Result; raises BootstrapDied / TimeoutError).
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import enum
import http
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, Callable, Optional

__all__ = ["MockRuntimeAPI", "Result", "Fault", "Injection", "Extension", "ENDPOINTS",
           "BootstrapDied", "run_bootstrap_once", "lambda_env", "main"]

RUNTIME_PREFIX = "/2018-06-01/runtime"
EXTENSION_PREFIX = "/2020-01-01/extension"
DEFAULT_RESPONSE_LIMIT = 6 * 1024 * 1024 + 100
DEFAULT_STREAMING_LIMIT = 200 * 1024 * 1024
DEFAULT_ARN = "arn:aws:lambda:us-east-1:123456789012:function:mock-function"
MAX_HEAD = 1024 * 1024          # request head larger than this -> 431 and close
MAX_BODY = 512 * 1024 * 1024    # request body larger than this -> 413 and close
ENDPOINTS = ("next", "response", "error", "init_error", "register", "extension_next",
             "extension_error", "any")
_ERROR_TYPE_RE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+\Z")
_OK_BODY = b'{"status":"OK"}'


# --------------------------------------------------------------------------- records

@dataclasses.dataclass
class Result:
    """One request received by the mock (``results`` holds the /response and /error ones).

    kind: "next" | "response" | "error" | "init_error" | "register" | "extension_next" |
    "extension_error" | "unknown". status: what the mock answered (None: no intact status
    line). headers/trailers: lower-cased names (repeated headers joined with ", ").
    body: de-chunked (b"" for an invocation enqueued with keep_response_body=False: the
    bytes were received and dropped); body_size: its length either way. chunks:
    [(monotonic time, bytes)] per chunk of a chunked body.
    pipelined: the client's next request had already arrived when this one was read.
    """
    kind: str
    method: str
    path: str
    request_id: Optional[str] = None
    status: Optional[int] = None
    headers: dict = dataclasses.field(default_factory=dict)
    body: bytes = b""
    body_size: int = 0
    trailers: dict = dataclasses.field(default_factory=dict)
    chunks: list = dataclasses.field(default_factory=list)
    received_at: float = 0.0
    raw_head: bytes = b""
    conn_id: int = 0
    fault: Optional[str] = None
    delivered: bool = False   # kind "next": the event was handed over (dequeued)
    pipelined: bool = False   # the next request's bytes had arrived with this one

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_type(self) -> Optional[str]:
        """Error type as Lambda records it (invalid or missing header -> X.Unknown)."""
        if self.kind not in ("error", "init_error"):
            return None
        value = self.headers.get("lambda-runtime-function-error-type", "")
        if _ERROR_TYPE_RE.match(value):
            return value
        return "Function.Unknown" if value.startswith("Function.") else "Runtime.Unknown"

    @property
    def streaming(self) -> bool:
        return self.headers.get("lambda-runtime-function-response-mode", "").lower() == "streaming"


@dataclasses.dataclass
class Extension:
    name: str
    identifier: str
    events: list
    headers: dict


class Fault(enum.Enum):
    CLOSE_BEFORE_RESPONSE = "close_before_response"
    CLOSE_MID_HEADERS = "close_mid_headers"
    CLOSE_MID_BODY = "close_mid_body"
    CLOSE_AFTER_RESPONSE = "close_after_response"
    GARBAGE_STATUS_LINE = "garbage_status_line"
    GARBAGE_HEADER_LINE = "garbage_header_line"
    CONTENT_LENGTH_SHORT = "content_length_short"
    CONTENT_LENGTH_LONG = "content_length_long"
    CONTENT_LENGTH_NEGATIVE = "content_length_negative"
    CONTENT_LENGTH_HUGE = "content_length_huge"
    CONTENT_LENGTH_INVALID = "content_length_invalid"
    CONTENT_LENGTH_CONFLICT = "content_length_conflict"
    CHUNK_SIZE_MALFORMED = "chunk_size_malformed"
    CHUNK_SIZE_OVERFLOW = "chunk_size_overflow"
    CHUNK_TRUNCATED = "chunk_truncated"
    STATUS = "status"
    HOLD = "hold"
    DELAY = "delay"
    SLOW_BYTES = "slow_bytes"
    LONG_HEADER = "long_header"
    MANY_HEADERS = "many_headers"
    RAW = "raw"


@dataclasses.dataclass
class Injection:
    """An armed fault. ``hits`` lists the Results it was applied to."""
    fault: Fault
    endpoint: str
    times: int
    skip: int
    params: dict
    hits: list = dataclasses.field(default_factory=list)


class BootstrapDied(RuntimeError):
    def __init__(self, returncode: int, stdout: str, stderr: str):
        super().__init__(f"bootstrap exited with status {returncode} before answering")
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


# --------------------------------------------------------------------------- wire helpers

class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class _Closed(Exception):
    """Peer closed (or reset) the connection mid-request, or the server is stopping."""


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class _Response:
    """A response to write: framing headers are added unless given explicitly."""
    __slots__ = ("status", "headers", "body", "chunked", "chunk_size", "plain_head")

    def __init__(self, status: int, headers: list, body: bytes = b"",
                 chunked: bool = False, chunk_size: Optional[int] = None):
        self.status, self.headers, self.body = status, headers, body
        self.chunked, self.chunk_size = chunked, chunk_size
        self.plain_head = None   # head() without arguments, once made

    def head(self, extra: Optional[list] = None, status_line: Optional[bytes] = None) -> bytes:
        if extra is None and status_line is None:
            if self.plain_head is None:
                self.plain_head = self._make_head(None, None)
            return self.plain_head
        return self._make_head(extra, status_line)

    def _make_head(self, extra: Optional[list], status_line: Optional[bytes]) -> bytes:
        out = [status_line or b"HTTP/1.1 %d %s\r\n" % (self.status, _reason(self.status).encode())]
        names = set()
        for name, value in self.headers:
            names.add(name.lower())
            out.append(f"{name}: {value}\r\n".encode("latin-1"))
        if "content-length" not in names and "transfer-encoding" not in names:
            if self.chunked:
                out.append(b"Transfer-Encoding: chunked\r\n")
            else:
                out.append(b"Content-Length: %d\r\n" % len(self.body))
        for line in extra or ():
            out.append(line)
        out.append(b"\r\n")
        return b"".join(out)

    def wire_body(self) -> bytes:
        if not self.chunked:
            return self.body
        size = self.chunk_size or max(len(self.body), 1)
        out = []
        for i in range(0, len(self.body), size):
            piece = self.body[i:i + size]
            out.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        out.append(b"0\r\n\r\n")
        return b"".join(out)

    def serialize(self) -> bytes:
        return self.head() + self.wire_body()

    def without_framing(self) -> "_Response":
        headers = [(n, v) for n, v in self.headers
                   if n.lower() not in ("content-length", "transfer-encoding")]
        return _Response(self.status, headers, self.body, False)


def _json_response(status: int, obj: Any, headers: Optional[list] = None) -> _Response:
    return _Response(status, [("Content-Type", "application/json")] + (headers or []),
                     _json_bytes(obj))


def _ok_response() -> _Response:
    return _Response(202, [("Content-Type", "application/json")], _OK_BODY)


_OK = _ok_response()
_OK_WIRE = _OK.serialize()


def _error_response(status: int, message: str, error_type: str) -> _Response:
    return _json_response(status, {"errorMessage": message, "errorType": error_type})


_DIRECT_READ = 262144  # bodies this large are received in place and events sent unjoined


class _Conn:
    """Buffered reader over one accepted socket."""
    __slots__ = ("sock", "buf", "cid", "thread", "scratch")

    def __init__(self, sock: socket.socket, cid: int):
        self.sock, self.buf, self.cid, self.thread = sock, bytearray(), cid, None
        self.scratch = bytearray()

    def _fill(self, want: int = 65536) -> bool:
        try:
            data = self.sock.recv(max(65536, min(want, 1 << 22)))
        except (ConnectionError, OSError):
            return False
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self) -> Optional[bytes]:
        """Request head including the blank line; None on a clean EOF between requests."""
        start = 0
        while True:
            while self.buf[:2] == b"\r\n":      # RFC 9112 2.2: ignore leading empty lines
                del self.buf[:2]
            i = self.buf.find(b"\r\n\r\n", start)
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > MAX_HEAD:
                raise _BadRequest(431, "request head too large")
            start = max(0, len(self.buf) - 3)
            if not self._fill():
                if self.buf:
                    raise _Closed()
                return None

    def read_exact(self, n: int) -> bytes:
        if n - len(self.buf) >= _DIRECT_READ:
            return self._read_large(n)
        while len(self.buf) < n:
            if not self._fill(n - len(self.buf)):
                raise _Closed()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def _read_large(self, n: int) -> bytes:
        """read_exact() of a large body: received in place into a buffer kept for the
        connection's next large body (one wait for all of it), one copy out."""
        if len(self.scratch) < n:
            self.scratch = bytearray(n)
        have = len(self.buf)
        self.scratch[:have] = self.buf
        self.buf.clear()
        view = memoryview(self.scratch)
        try:
            while have < n:
                got = self._recv(view[have:n], n - have, socket.MSG_WAITALL)
                have += got
            return bytes(view[:n])
        finally:
            view.release()

    def skip_exact(self, n: int) -> None:
        """Reads n bytes and drops them; past what is buffered they are discarded by the
        kernel (MSG_TRUNC on TCP: not copied out at all)."""
        have = min(len(self.buf), n)
        del self.buf[:have]
        if have == n:
            return
        if len(self.scratch) < n - have:
            self.scratch = bytearray(n - have)   # never written: recv_into wants the room
        view = memoryview(self.scratch)
        try:
            while have < n:
                have += self._recv(view, n - have, socket.MSG_TRUNC | socket.MSG_WAITALL)
        finally:
            view.release()

    def _recv(self, view: memoryview, n: int, flags: int) -> int:
        try:
            got = self.sock.recv_into(view, n, flags)
        except (ConnectionError, OSError):
            got = 0
        if not got:
            raise _Closed()
        return got

    def read_line(self, limit: int = 65536) -> bytes:
        start = 0
        while True:
            i = self.buf.find(b"\r\n", start)
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > limit:
                raise _BadRequest(400, "line too long")
            start = max(0, len(self.buf) - 1)
            if not self._fill():
                raise _Closed()

    def bytes_waiting(self) -> bool:
        """Bytes are waiting in the socket (checked without blocking)."""
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def alive(self) -> bool:
        """False when the peer has already closed (checked without blocking)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if not readable:
                return True
            return self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            return True
        except (OSError, ValueError):
            return False

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def send_parts(self, head: bytes, body: bytes) -> bool:
        """send(head + body) without joining them (a large event is not copied)."""
        if len(body) < _DIRECT_READ:
            return self.send(head + body)
        try:
            sent = self.sock.sendmsg([head, body])
            if sent < len(head):
                self.sock.sendall(head[sent:])
                sent = len(head)
            self.sock.sendall(memoryview(body)[sent - len(head):])
            return True
        except OSError:
            return False

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _parse_head(head: bytes) -> tuple[str, str, dict]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise _BadRequest(400, "bad request line")
    method, target = parts[0].decode("latin-1"), parts[1].decode("latin-1")
    headers: dict = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise _BadRequest(400, "bad header line")
        key = name.decode("latin-1").lower()
        val = value.strip(b" \t").decode("latin-1")
        headers[key] = f"{headers[key]}, {val}" if key in headers else val
    return method, target.split("?", 1)[0], headers


def _read_body(conn: _Conn, headers: dict, rec: Result, keep: bool = True) -> None:
    """Body framing (RFC 9112 6.3): 1. Transfer-Encoding chunked wins; 2. Content-Length
    (all copies equal, digits only); 3. no body. keep=False: a Content-Length body is read
    and dropped (rec.body stays b"", rec.body_size counts it)."""
    te = headers.get("transfer-encoding")
    if te is not None:
        if te.strip().lower() != "chunked":
            raise _BadRequest(501, f"unsupported transfer-encoding {te!r}")
        body = bytearray()
        while True:
            size_text = conn.read_line().split(b";", 1)[0].strip(b" \t")
            if not size_text or len(size_text) > 16 or size_text.strip(b"0123456789abcdefABCDEF"):
                raise _BadRequest(400, f"bad chunk size {size_text!r}")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY:
                raise _BadRequest(413, "body too large")
            data = conn.read_exact(size)
            if conn.read_exact(2) != b"\r\n":
                raise _BadRequest(400, "missing CRLF after chunk data")
            rec.chunks.append((time.monotonic(), data))
            body += data
        while True:
            line = conn.read_line()
            if not line:
                break
            name, sep, value = line.partition(b":")
            if not sep:
                raise _BadRequest(400, "bad trailer line")
            rec.trailers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
        rec.body = bytes(body)
        rec.body_size = len(body)
        return
    cl = headers.get("content-length")
    if cl is None:
        return
    values = {v.strip() for v in cl.split(",")}
    if len(values) != 1:
        raise _BadRequest(400, "conflicting Content-Length")
    value = values.pop()
    if not value.isdigit() or not value.isascii():
        raise _BadRequest(400, "bad Content-Length")
    n = int(value)
    if n > MAX_BODY:
        raise _BadRequest(413, "body too large")
    rec.body_size = n
    if not keep:
        conn.skip_exact(n)
    elif n:
        rec.body = conn.read_exact(n)


# --------------------------------------------------------------------------- events

class _Event:
    __slots__ = ("request_id", "response")

    def __init__(self, request_id: str, response: _Response):
        self.request_id, self.response = request_id, response


def _event_body(event: Any) -> bytes:
    if isinstance(event, (bytes, bytearray, memoryview)):
        return bytes(event)
    if isinstance(event, str):
        return event.encode()
    return json.dumps(event).encode()


def _header_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _trace_id() -> str:
    u = uuid.uuid4().hex
    return f"Root=1-{int(time.time()):08x}-{u[:24]};Parent={u[16:32]};Sampled=0"


# --------------------------------------------------------------------------- fault writers
# A writer puts the (possibly corrupted) response on the wire and returns the status code
# it sent intact, or None. Table: Fault -> (writer, needs_event, default "then").

def _w_nothing(conn, resp, p):
    return None


def _w_close_mid_headers(conn, resp, p):
    head = resp.head()
    conn.send(head[:p.get("at", len(head) // 2)])
    return resp.status


def _w_close_mid_body(conn, resp, p):
    head, body = resp.head(), resp.wire_body()
    at = p.get("at", len(body) // 2)
    conn.send(head + body[:min(at, max(len(body) - 1, 0))])
    return resp.status


def _w_full(conn, resp, p):
    conn.send(resp.serialize())
    return resp.status


def _w_garbage_status(conn, resp, p):
    head = resp.head()
    rest = head[head.index(b"\r\n") + 2:]
    conn.send(p.get("line", b"HTTP/1.1 2x0 Garbage\r\n") + rest + resp.wire_body())
    return None


def _w_garbage_header(conn, resp, p):
    head = resp.head()
    cut = head.index(b"\r\n") + 2
    conn.send(head[:cut] + p.get("line", b"this is not a header line\r\n") + head[cut:]
              + resp.wire_body())
    return resp.status


def _content_length_writer(values: Callable[[int, dict], list]):
    def writer(conn, resp, p):
        plain = resp.without_framing()
        extra = [f"Content-Length: {v}\r\n".encode() for v in values(len(plain.body), p)]
        plain.headers.append(("X-Mock-Fault", "content-length"))
        head = plain.head().replace(b"X-Mock-Fault: content-length\r\n", b"".join(extra))
        conn.send(head + plain.body)
        return resp.status
    return writer


def _chunk_writer(default_size_line: bytes, truncate: bool):
    def writer(conn, resp, p):
        plain = resp.without_framing()
        plain.chunked = True
        head, body = plain.head(), plain.body
        if truncate:
            at = p.get("at", len(body) // 2)
            conn.send(head + b"%x\r\n" % len(body) + body[:at])
        else:
            conn.send(head + p.get("size_line", default_size_line) + b"\r\n" + body
                      + b"\r\n0\r\n\r\n")
        return resp.status
    return writer


def _w_status(conn, resp, p):
    status = p.get("status", 500)
    body = p.get("body")
    if body is None:
        body = _json_bytes({"errorMessage": f"mock fault: status {status}",
                            "errorType": "MockFault"})
    headers = [("Content-Type", "application/json")] + list(p.get("headers", {}).items())
    conn.send(_Response(status, headers, _event_body(body)).serialize())
    return status


def _w_delay(conn, resp, p):
    time.sleep(p.get("seconds", 1.0))
    return _w_full(conn, resp, p)


def _w_slow(conn, resp, p):
    data, step, delay = resp.serialize(), p.get("step", 1), p.get("delay", 0.002)
    for i in range(0, len(data), step):
        if not conn.send(data[i:i + step]):
            break
        time.sleep(delay)
    return resp.status


def _w_long_header(conn, resp, p):
    size = p.get("size", 65536)
    prefix = b"X-Mock-Long: "
    line = prefix + b"a" * max(size - len(prefix), 0) + b"\r\n"
    conn.send(resp.head(extra=[line]) + resp.wire_body())
    return resp.status


def _w_many_headers(conn, resp, p):
    extra = [b"X-Mock-%d: v\r\n" % i for i in range(p.get("count", 1000))]
    conn.send(resp.head(extra=extra) + resp.wire_body())
    return resp.status


def _w_raw(conn, resp, p):
    conn.send(p["data"])
    return None


_FAULTS: dict = {
    # fault: (writer, needs_event, then)
    Fault.CLOSE_BEFORE_RESPONSE: (_w_nothing, False, "close"),
    Fault.CLOSE_MID_HEADERS: (_w_close_mid_headers, True, "close"),
    Fault.CLOSE_MID_BODY: (_w_close_mid_body, True, "close"),
    Fault.CLOSE_AFTER_RESPONSE: (_w_full, True, "close"),
    Fault.GARBAGE_STATUS_LINE: (_w_garbage_status, True, "linger"),
    Fault.GARBAGE_HEADER_LINE: (_w_garbage_header, True, "linger"),
    Fault.CONTENT_LENGTH_SHORT: (_content_length_writer(
        lambda n, p: [n - p.get("by", max(n // 2, 1))]), True, "linger"),
    Fault.CONTENT_LENGTH_LONG: (_content_length_writer(
        lambda n, p: [n + p.get("by", 100)]), True, "linger"),
    Fault.CONTENT_LENGTH_NEGATIVE: (_content_length_writer(
        lambda n, p: [p.get("value", -1)]), True, "linger"),
    Fault.CONTENT_LENGTH_HUGE: (_content_length_writer(
        lambda n, p: [p.get("value", 2 ** 64 * 1000)]), True, "linger"),
    Fault.CONTENT_LENGTH_INVALID: (_content_length_writer(
        lambda n, p: [p.get("value", "12abc")]), True, "linger"),
    Fault.CONTENT_LENGTH_CONFLICT: (_content_length_writer(
        lambda n, p: [n, n + p.get("by", 1)]), True, "linger"),
    Fault.CHUNK_SIZE_MALFORMED: (_chunk_writer(b"zz", False), True, "linger"),
    Fault.CHUNK_SIZE_OVERFLOW: (_chunk_writer(b"f" * 32, False), True, "linger"),
    Fault.CHUNK_TRUNCATED: (_chunk_writer(b"", True), True, "linger"),
    Fault.STATUS: (_w_status, False, "keep"),
    Fault.HOLD: (_w_nothing, False, "hold"),
    Fault.DELAY: (_w_delay, True, "keep"),
    Fault.SLOW_BYTES: (_w_slow, True, "keep"),
    Fault.LONG_HEADER: (_w_long_header, True, "keep"),
    Fault.MANY_HEADERS: (_w_many_headers, True, "keep"),
    Fault.RAW: (_w_raw, False, "close"),
}


# --------------------------------------------------------------------------- server

def _route(method: str, path: str) -> tuple[str, Optional[str]]:
    """(kind, request id) for a request; kind "unknown" -> 404, "bad_method" -> 405."""
    if path.startswith(RUNTIME_PREFIX + "/"):
        rest = path[len(RUNTIME_PREFIX) + 1:]
        if rest == "invocation/next":
            return ("next" if method == "GET" else "bad_method"), None
        if rest == "init/error":
            return ("init_error" if method == "POST" else "bad_method"), None
        if rest.startswith("invocation/"):
            rid, _, tail = rest[len("invocation/"):].rpartition("/")
            if tail in ("response", "error") and rid:
                return (tail if method == "POST" else "bad_method"), rid
    elif path.startswith(EXTENSION_PREFIX + "/"):
        rest = path[len(EXTENSION_PREFIX) + 1:]
        if rest == "register":
            return ("register" if method == "POST" else "bad_method"), None
        if rest == "event/next":
            return ("extension_next" if method == "GET" else "bad_method"), None
        if rest in ("init/error", "exit/error"):
            return ("extension_error" if method == "POST" else "bad_method"), None
    return "unknown", None


class MockRuntimeAPI:
    """See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *,
                 response_limit: int = DEFAULT_RESPONSE_LIMIT,
                 streaming_limit: int = DEFAULT_STREAMING_LIMIT,
                 fault_linger: float = 1.0,
                 function_name: str = "mock-function", function_version: str = "$LATEST"):
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError("the mock only listens on loopback")
        self.host, self.port = host, port
        self.response_limit, self.streaming_limit = response_limit, streaming_limit
        self.fault_linger = fault_linger
        self.function_name, self.function_version = function_name, function_version
        self._cond = threading.Condition(threading.Lock())
        self._queue: collections.deque = collections.deque()
        self._states: dict = {}            # request id -> queued | delivered | answered
        self._by_id: dict = {}             # request id -> [Result]
        self._unkept: set = set()          # request ids whose result bodies are dropped
        self._injections: list = []
        self._conns: set = set()
        self._listener: Optional[socket.socket] = None
        self._accept_thread: Optional[threading.Thread] = None
        self._stopping = False
        self._shutdown_event: Optional[dict] = None
        self.results: list = []
        self.requests: list = []
        self.init_errors: list = []
        self.extensions: list = []
        self.next_calls = 0
        self.extension_next_calls = 0
        self.connections_accepted = 0

    # ---- lifecycle
    def start(self) -> "MockRuntimeAPI":
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        sock.settimeout(0.05)
        self._listener = sock
        self.port = sock.getsockname()[1]
        self._accept_thread = threading.Thread(target=self._accept_loop, name="mock-accept",
                                               daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            if self._stopping:
                return
            self._stopping = True
            self._cond.notify_all()
            conns = list(self._conns)
        if self._accept_thread:
            self._accept_thread.join(2)
        if self._listener:
            self._listener.close()
        for conn in conns:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for conn in conns:
            if conn.thread is not None:
                conn.thread.join(2)

    def __enter__(self) -> "MockRuntimeAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    # ---- test-facing API
    def enqueue(self, event: Any = None, *, request_id: Optional[str] = None,
                deadline_ms: Optional[int] = None, headers: Optional[dict] = None,
                chunked: bool = False, chunk_size: Optional[int] = None,
                function_arn: str = DEFAULT_ARN, trace_id: Optional[str] = None,
                client_context: Any = None, cognito_identity: Any = None,
                tenant_id: Optional[str] = None, keep_response_body: bool = True) -> str:
        """Queue an event for GET /next; returns its request id. keep_response_body=False:
        the invocation's /response or /error body is received and dropped, not kept in its
        Result (a benchmark's bulk invocations: no copy, no fresh memory per body)."""
        rid = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 3000
        hdrs = [("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", rid),
                ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                ("Lambda-Runtime-Invoked-Function-Arn", function_arn),
                ("Lambda-Runtime-Trace-Id", trace_id or _trace_id())]
        if client_context is not None:
            hdrs.append(("Lambda-Runtime-Client-Context", _header_text(client_context)))
        if cognito_identity is not None:
            hdrs.append(("Lambda-Runtime-Cognito-Identity", _header_text(cognito_identity)))
        if tenant_id is not None:
            hdrs.append(("Lambda-Runtime-Aws-Tenant-Id", tenant_id))
        for name, value in (headers or {}).items():
            hdrs = [(n, v) for n, v in hdrs if n.lower() != name.lower()]
            if value is not None:
                hdrs.append((name, str(value)))
        ev = _Event(rid, _Response(200, hdrs, _event_body(event), chunked, chunk_size))
        ev.response.head()       # made here, not while the runtime waits for it
        with self._cond:
            if rid in self._states:
                raise ValueError(f"request id {rid!r} already used")
            self._states[rid] = "queued"
            if not keep_response_body:
                self._unkept.add(rid)
            self._queue.append(ev)
            self._cond.notify_all()
        return rid

    def inject(self, fault: Fault, endpoint: str = "next", *, times: int = 1, skip: int = 0,
               **params) -> Injection:
        """Arm ``fault`` for the next ``times`` requests to ``endpoint`` (after ``skip``)."""
        if fault not in _FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}")
        if fault is Fault.RAW and "data" not in params:
            raise ValueError("Fault.RAW needs data=bytes")
        inj = Injection(fault, endpoint, times, skip, params)
        with self._cond:
            self._injections.append(inj)
        return inj

    def clear_faults(self) -> None:
        with self._cond:
            self._injections.clear()

    def send_shutdown(self, reason: str = "spindown", deadline_ms: Optional[int] = None) -> None:
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + 2000
        with self._cond:
            self._shutdown_event = {"eventType": "SHUTDOWN", "shutdownReason": reason,
                                    "deadlineMs": deadline_ms}
            self._cond.notify_all()

    def _wait(self, predicate: Callable[[], Any], timeout: Optional[float], what: str) -> Any:
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(what)
                self._cond.wait(remaining)

    def wait_result(self, request_id: str, timeout: Optional[float] = 10, *,
                    accepted_only: bool = False) -> Result:
        """First /response or /error POST for request_id (with accepted_only: first 202)."""
        def find():
            for res in self._by_id.get(request_id, ()):
                if not accepted_only or res.status == 202:
                    return res
            return None
        return self._wait(find, timeout, f"no result for {request_id} within {timeout}s")

    def results_for(self, request_id: str) -> list:
        with self._cond:
            return list(self._by_id.get(request_id, ()))

    def wait_init_error(self, timeout: Optional[float] = 10) -> Result:
        return self._wait(lambda: self.init_errors[0] if self.init_errors else None,
                          timeout, f"no init error within {timeout}s")

    def wait_for_next_poll(self, count: int = 1, timeout: Optional[float] = 10) -> int:
        return self._wait(lambda: self.next_calls if self.next_calls >= count else 0,
                          timeout, f"fewer than {count} GET /next within {timeout}s")

    def wait_for_extension_poll(self, count: int = 1, timeout: Optional[float] = 10) -> int:
        return self._wait(
            lambda: self.extension_next_calls if self.extension_next_calls >= count else 0,
            timeout, f"fewer than {count} extension GET /event/next within {timeout}s")

    @property
    def pending(self) -> list:
        with self._cond:
            return [ev.request_id for ev in self._queue]

    def state(self, request_id: str) -> Optional[str]:
        with self._cond:
            return self._states.get(request_id)

    # ---- connection handling
    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._cond:
                if self._stopping:
                    sock.close()
                    break
                self.connections_accepted += 1
                conn = _Conn(sock, self.connections_accepted)
                self._conns.add(conn)
            conn.thread = threading.Thread(target=self._serve, args=(conn,),
                                           name=f"mock-conn-{conn.cid}", daemon=True)
            conn.thread.start()

    def _serve(self, conn: _Conn) -> None:
        try:
            while not self._stopping:
                try:
                    if not self._serve_one(conn):
                        break
                except socket.timeout:      # linger expired
                    break
                except _Closed:
                    break
                except _BadRequest as exc:
                    resp = _error_response(exc.status, str(exc), "MockBadRequest")
                    conn.send(resp.head(extra=[b"Connection: close\r\n"]) + resp.body)
                    break
        finally:
            with self._cond:
                self._conns.discard(conn)
            conn.close()

    def _claim_fault(self, kind: str) -> Optional[Injection]:
        with self._cond:
            for inj in self._injections:
                if inj.endpoint in (kind, "any"):
                    if inj.skip > 0:
                        inj.skip -= 1
                        return None
                    inj.times -= 1
                    if inj.times <= 0:
                        self._injections.remove(inj)
                    return inj
        return None

    def _serve_one(self, conn: _Conn) -> bool:
        """Read and answer one request; False -> close the connection."""
        head = conn.read_head()
        if head is None:
            return False
        now = time.monotonic()
        method, path, headers = _parse_head(head)
        kind, rid = _route(method, path)
        rec = Result(kind, method, path, rid, headers=headers, received_at=now,
                     raw_head=head, conn_id=conn.cid)
        with self._cond:
            self.requests.append(rec)
            if kind == "next":
                self.next_calls += 1
                self._cond.notify_all()
            elif kind == "extension_next":
                self.extension_next_calls += 1
                self._cond.notify_all()
        inj = self._claim_fault(kind) if self._injections else None
        if inj is not None and not inj.params.get("read_body", True):
            rec.fault = inj.fault.value
            self._record(rec)
            inj.hits.append(rec)
            return False
        _read_body(conn, headers, rec, rid not in self._unkept)
        rec.received_at = time.monotonic()
        # a large body is read exactly, not past its end: what follows may still be in the socket
        rec.pipelined = bool(conn.buf) or (rec.body_size >= _DIRECT_READ and conn.bytes_waiting())
        close = headers.get("connection", "").lower() == "close"
        if inj is None:
            resp = self._handle(conn, rec)
            if resp is None:
                return False
            self._record(rec)
            if isinstance(resp, _Event):
                return conn.send_parts(resp.response.head(), resp.response.wire_body()) and not close
            else:
                data = _OK_WIRE if resp is _OK else resp.serialize()
            return conn.send(data) and not close
        return self._apply_fault(conn, rec, inj) and not close

    def _handle(self, conn: _Conn, rec: Result):
        """Normal processing (side effects); returns the response, or None to close."""
        kind = rec.kind
        if kind == "next":
            ev = self._take_event(conn, pop=True)
            if ev is None:
                return None
            rec.request_id, rec.status, rec.delivered = ev.request_id, 200, True
            return ev
        resp = _HANDLERS.get(kind, MockRuntimeAPI._h_unknown)(self, rec)
        rec.status = resp.status
        return resp

    def _apply_fault(self, conn: _Conn, rec: Result, inj: Injection) -> bool:
        writer, needs_event, then = _FAULTS[inj.fault]
        params = inj.params
        consume = params.get("consume", False)
        rec.fault = inj.fault.value
        if consume:
            resp = self._handle(conn, rec)
            if resp is None:
                return False
            if isinstance(resp, _Event):
                resp = resp.response
        elif rec.kind == "next":
            ev = self._take_event(conn, pop=False) if needs_event else None
            if needs_event and ev is None:
                return False
            if ev is not None:
                rec.request_id = ev.request_id
                resp = ev.response
            else:
                resp = _Response(200, [("Content-Type", "application/json")], b"{}")
        elif rec.kind == "register":
            resp = _json_response(200, {}, [("Lambda-Extension-Identifier", str(uuid.uuid4()))])
        elif rec.kind in ("unknown", "bad_method"):
            resp = _error_response(404, "not found", "MockNotFound")
        else:
            resp = _ok_response()
        inj.hits.append(rec)
        status = writer(conn, resp, params)
        rec.status = status
        self._record(rec)
        then = params.get("then", then)
        if then == "close":
            return False
        if then == "linger":
            conn.sock.settimeout(params.get("linger", self.fault_linger))
            return True
        if then == "hold":
            seconds = params.get("seconds")
            end = None if seconds is None else time.monotonic() + seconds
            with self._cond:
                while not self._stopping:
                    remaining = None if end is None else end - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._cond.wait(remaining)
            return False
        return True

    def _record(self, rec: Result) -> None:
        if rec.kind in ("response", "error"):
            with self._cond:
                self.results.append(rec)
                self._by_id.setdefault(rec.request_id, []).append(rec)
                self._cond.notify_all()
        elif rec.kind == "init_error":
            with self._cond:
                self.init_errors.append(rec)
                self._cond.notify_all()

    def _take_event(self, conn: _Conn, pop: bool) -> Optional[_Event]:
        """Long poll: the head of the queue (dequeued if pop), or None when the server
        stops, the client went away, or a lingering connection (after a lie) stayed
        silent for its linger time (the event then stays queued)."""
        waited = False
        linger = conn.sock.gettimeout()
        give_up = None if linger is None else time.monotonic() + linger
        with self._cond:
            while True:
                if self._stopping or (give_up is not None and time.monotonic() > give_up):
                    return None
                if self._queue:
                    if waited and not conn.alive():
                        return None
                    if not pop:
                        return self._queue[0]
                    ev = self._queue.popleft()
                    self._states[ev.request_id] = "delivered"
                    return ev
                self._cond.wait(0.25)
                waited = True
                if not self._queue and not conn.alive():
                    return None

    # ---- endpoint handlers (normal behaviour)
    def _h_invocation_result(self, rec: Result) -> _Response:
        rid = rec.request_id
        with self._cond:
            state = self._states.get(rid)
            if state is None:
                return _error_response(400, "Invalid request ID", "InvalidRequestID")
            if state == "answered":
                return _error_response(403, "Invalid State Transition",
                                       "InvalidStateTransition")
            limit = self.streaming_limit if rec.streaming else self.response_limit
            if rec.body_size > limit:
                return _error_response(
                    413, f"Exceeded maximum allowed payload size ({limit} bytes).",
                    "RequestEntityTooLarge")
            if state == "queued":
                self._queue = collections.deque(
                    ev for ev in self._queue if ev.request_id != rid)
            self._states[rid] = "answered"
        return _OK

    def _h_init_error(self, rec: Result) -> _Response:
        return _ok_response()

    def _h_register(self, rec: Result) -> _Response:
        name = rec.headers.get("lambda-extension-name", "")
        if not name:
            return _error_response(400, "Empty extension name", "Extension.InvalidExtensionName")
        try:
            events = json.loads(rec.body or b"{}").get("events", [])
            if not isinstance(events, list):
                raise ValueError(events)
        except (ValueError, AttributeError):
            return _error_response(400, "Invalid register body", "InvalidRequestFormat")
        ext = Extension(name, str(uuid.uuid4()), events, rec.headers)
        with self._cond:
            self.extensions.append(ext)
        return _json_response(
            200, {"functionName": self.function_name, "functionVersion": self.function_version,
                  "handler": os.environ.get("_HANDLER", "")},
            [("Lambda-Extension-Identifier", ext.identifier)])

    def _h_extension_next(self, rec: Result) -> Optional[_Response]:
        ident = rec.headers.get("lambda-extension-identifier")
        with self._cond:
            ext = next((e for e in self.extensions if e.identifier == ident), None)
            if ext is None:
                return _error_response(403, "Unknown extension identifier",
                                       "Extension.UnknownExtensionIdentifier")
            while not self._stopping and (self._shutdown_event is None
                                          or "SHUTDOWN" not in ext.events):
                self._cond.wait()
            if self._stopping:
                return _error_response(500, "mock stopping", "MockStopping")
            event = dict(self._shutdown_event)
        return _json_response(200, event, [("Lambda-Extension-Event-Identifier",
                                            str(uuid.uuid4()))])

    def _h_extension_error(self, rec: Result) -> _Response:
        return _ok_response()

    def _h_unknown(self, rec: Result) -> _Response:
        if rec.kind == "bad_method":
            return _error_response(405, "method not allowed", "MockMethodNotAllowed")
        return _error_response(404, f"no route for {rec.method} {rec.path}", "MockNotFound")


_HANDLERS = {
    "response": MockRuntimeAPI._h_invocation_result,
    "error": MockRuntimeAPI._h_invocation_result,
    "init_error": MockRuntimeAPI._h_init_error,
    "register": MockRuntimeAPI._h_register,
    "extension_next": MockRuntimeAPI._h_extension_next,
    "extension_error": MockRuntimeAPI._h_extension_error,
}


# --------------------------------------------------------------------------- smoke runner

def lambda_env(bootstrap: str, address: str, handler: Optional[str] = None,
               env: Optional[dict] = None) -> dict:
    """The environment Lambda gives a provided.al2023 bootstrap (plus os.environ)."""
    task_root = os.path.dirname(os.path.abspath(bootstrap))
    out = dict(os.environ)
    out.update({
        "AWS_LAMBDA_RUNTIME_API": address,
        "AWS_LAMBDA_FUNCTION_NAME": "mock-function",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/mock-function",
        "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d/") + "[$LATEST]"
                                      + uuid.uuid4().hex,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": task_root,
        "TZ": ":UTC",
    })
    if handler:
        out["_HANDLER"] = handler
    out.update(env or {})
    return out


def _pump(stream, sink: list, echo) -> None:
    for line in iter(stream.readline, b""):
        sink.append(line)
        if echo is not None:
            try:
                echo.write(line.decode(errors="replace"))
                echo.flush()
            except (OSError, ValueError):
                pass
    stream.close()


def _stop_process(proc: subprocess.Popen, grace: float = 2.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_bootstrap_once(bootstrap: str, event: Any, env: Optional[dict] = None,
                       timeout: float = 30, *, handler: Optional[str] = None,
                       log_stream=None) -> Result:
    """Start a mock, run ``bootstrap`` against it for one invocation, stop everything.

    Returns the Result of the /response or /error POST, or of POST /init/error (kind
    "init_error"). Raises BootstrapDied if the process exited first (returncode, stdout,
    stderr), TimeoutError after ``timeout`` seconds. ``log_stream``: where to echo the
    bootstrap's stdout/stderr live (None: only captured)."""
    with MockRuntimeAPI() as api:
        rid = api.enqueue(event)
        proc = subprocess.Popen([os.path.abspath(bootstrap)],
                                env=lambda_env(bootstrap, api.address, handler, env),
                                cwd=os.path.dirname(os.path.abspath(bootstrap)),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out: list = []
        err: list = []
        pumps = [threading.Thread(target=_pump, args=(proc.stdout, out, log_stream), daemon=True),
                 threading.Thread(target=_pump, args=(proc.stderr, err, log_stream), daemon=True)]
        for t in pumps:
            t.start()
        deadline = time.monotonic() + timeout
        died_at = None
        try:
            while True:
                with api._cond:
                    found = api._by_id.get(rid) or api.init_errors
                    if found:
                        return found[0]
                now = time.monotonic()
                if proc.poll() is not None:
                    if died_at is None:
                        died_at = now
                    elif now - died_at > 0.3:     # grace for a POST still in flight
                        for t in pumps:
                            t.join(1)
                        raise BootstrapDied(proc.returncode, b"".join(out).decode(errors="replace"),
                                            b"".join(err).decode(errors="replace"))
                if now > deadline:
                    raise TimeoutError(f"bootstrap gave no answer within {timeout}s")
                with api._cond:
                    api._cond.wait(0.02)
        finally:
            api.send_shutdown()
            _stop_process(proc)
            for t in pumps:
                t.join(1)


def load_event(arg: str) -> bytes:
    """An event argument: "-" (stdin), a file, or inline JSON."""
    if arg == "-":
        return sys.stdin.buffer.read()
    if os.path.exists(arg):
        with open(arg, "rb") as f:
            return f.read()
    json.loads(arg)          # inline JSON, else a clear error
    return arg.encode()


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a Lambda bootstrap once against a mock Runtime API.")
    parser.add_argument("--bootstrap", required=True, help="path of the bootstrap executable")
    parser.add_argument("--event", default="{}",
                        help="event JSON file, '-' for stdin, or inline JSON (default {})")
    parser.add_argument("--handler", help="_HANDLER, e.g. app.handler")
    parser.add_argument("--env", action="append", default=[], metavar="K=V",
                        help="extra environment variable (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="overall timeout (s)")
    parser.add_argument("--quiet", action="store_true",
                        help="do not echo the bootstrap's output to stderr")
    args = parser.parse_args(argv)
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--env needs K=V, got {item!r}")
        env[key] = value
    try:
        event = load_event(args.event)
    except ValueError:
        parser.error("--event is neither a file nor valid JSON")
    if not os.access(args.bootstrap, os.X_OK):
        print(f"ERROR: {args.bootstrap} is not an executable file", file=sys.stderr)
        return 2
    try:
        res = run_bootstrap_once(args.bootstrap, event, env, args.timeout, handler=args.handler,
                                 log_stream=None if args.quiet else sys.stderr)
    except BootstrapDied as exc:
        print(f"BOOTSTRAP DIED (exit status {exc.returncode}) before answering", flush=True)
        if exc.stderr:
            print("--- stderr ---\n" + exc.stderr.rstrip(), flush=True)
        return 3
    except TimeoutError as exc:
        print(f"TIMEOUT: {exc}", flush=True)
        return 4
    if res.kind == "init_error":
        print(f"INIT ERROR ({res.error_type}): " + res.body.decode(errors="replace"), flush=True)
        return 2
    if res.kind == "error":
        print(f"FUNCTION ERROR ({res.error_type}): " + res.body.decode(errors="replace"),
              flush=True)
        return 1
    sys.stdout.buffer.write(res.body + b"\n")
    sys.stdout.flush()
    error_type = res.trailers.get("lambda-runtime-function-error-type")
    if error_type:
        print(f"STREAM ERROR ({error_type}): "
              + res.trailers.get("lambda-runtime-function-error-body", ""), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
