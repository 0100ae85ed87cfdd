"""Graceful shutdown: the user's hooks, and getting Lambda's SIGTERM to run them.

    from lambda_runtime import on_shutdown

    @on_shutdown
    def flush():
        ...

Lambda sends SIGTERM to a custom runtime before it ends the environment only when at
least one extension is registered. So at start-up (handler loaded, before the first GET
/next) the runtime registers itself as a no-op *internal* extension
(POST /2020-01-01/extension/register, events [] -- internal extensions may not subscribe
to SHUTDOWN, and need not: SIGTERM is what we want) and sends that extension's GET
/event/next on its own connection, which never answers. Both are one loopback round trip
and one send on a raw socket; nothing is read afterwards.

On SIGTERM (a Python signal handler):
  * idle, i.e. blocked in GET /runtime/invocation/next: raise Shutdown, which unwinds out of
    serve(); bootstrap runs the hooks (newest first), then returns 0 and the interpreter's
    exit runs the atexit handlers;
  * during an invocation: only note it; when that invocation's result (or error) has been
    posted, raise Shutdown then.

A watchdog thread (SIGTERM blocked in it, so the kernel always delivers SIGTERM to the main
thread) reads the signal wakeup fd. If the Python-level handler has not run shortly after a
SIGTERM arrived -- the signal landed between two socket calls, or in compiled code that
does not poll for signals, and the main thread then blocked in recv() without EINTR -- it
re-sends SIGTERM to the main thread, which interrupts the blocking call.

Opt-out: LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN=0 (no extension, SIGTERM keeps its default action).
"""

import os
import _signal as signal  # not `signal`: its IntEnum wrappers import enum (~1 ms of start-up)

EXTENSION_NAME = "lambda-native-python"
_REGISTER_TIMEOUT = 2.0
_RESEND_AFTER = 0.02     # s the Python handler gets before the watchdog re-sends SIGTERM
_RESEND_LIMIT = 25       # then give up (the main thread is stuck in C code: SIGKILL will come)

_hooks = []


class Shutdown(BaseException):
    """Raised out of serve() to end the process gracefully (not an Exception: handlers'
    `except Exception` and serve()'s error path do not catch it)."""


def on_shutdown(fn):
    """Registers fn() to run on SIGTERM (usable as a decorator). Hooks run in reverse order
    of registration, within Lambda's 500 ms shutdown window; atexit handlers run after."""
    _hooks.append(fn)
    return fn


def run_hooks():
    import sys

    while _hooks:
        fn = _hooks.pop()
        try:
            fn()
        except Exception as error:
            print("lambda-runtime: shutdown hook %r failed: %r" % (fn, error), file=sys.stderr, flush=True)


def enabled(environ):
    return environ.get("LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN", "1").strip().lower() not in ("0", "false", "no", "off")


# -- state shared by the signal handler, the invocation hooks and the watchdog -------------

class _State:
    requested = False     # the Python-level SIGTERM handler ran
    raised = False        # Shutdown was raised (never twice)
    busy = False          # an invocation is between begin_invocation and its post
    begin_code = None     # code of the begin_invocation wrapper (see _on_sigterm)
    extension = None      # the extension's socket, kept open for the life of the process
    extension_id = None
    wakeup = None         # (reader socket, writer socket) of the signal wakeup fd


_state = _State()


def _on_sigterm(signum, frame):
    _state.requested = True
    if _state.busy or _state.raised:
        return
    if frame is not None and frame.f_code is _state.begin_code:
        return  # an invocation was just delivered: answer it first (see the post hooks)
    _state.raised = True
    raise Shutdown()


def track(function):
    """Wraps the Function's begin/post methods (instance attributes, which serve() reads)
    so the handler knows whether an invocation is in progress."""
    begin = function.begin_invocation

    def begin_invocation(invocation):
        _state.busy = True
        begin(invocation)

    _state.begin_code = begin_invocation.__code__
    function.begin_invocation = begin_invocation

    def after_post(post):
        def posted(*args):
            try:
                post(*args)
            finally:
                _state.busy = False
            if _state.requested and not _state.raised:
                _state.raised = True
                raise Shutdown()
        return posted

    function.post_result = after_post(function.post_result)
    function.post_error = after_post(function.post_error)
    function.stream = after_post(function.stream)


# -- the no-op internal extension -----------------------------------------------------------

def register_extension(address):
    """Registers the runtime as an internal extension with no events and sends its first
    GET /event/next (never read). Returns the extension id; raises OSError/ValueError."""
    import _socket

    host, _, port = address.rpartition(":")
    host = host.strip("[]").encode("ascii")  # bytes: a str host would need the idna codec
    family, socktype, proto, _, sockaddr = _socket.getaddrinfo(host, int(port), 0, _socket.SOCK_STREAM)[0]
    sock = _socket.socket(family, socktype, proto)
    try:
        sock.settimeout(_REGISTER_TIMEOUT)
        sock.connect(sockaddr)
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        body = b'{"events":[]}'
        sock.sendall(b"POST /2020-01-01/extension/register HTTP/1.1\r\nHost: %s\r\n"
                     b"Lambda-Extension-Name: %s\r\nLambda-Extension-Accept-Feature: accountId\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (address.encode(), EXTENSION_NAME.encode(), len(body), body))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("connection closed during extension registration")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)
        if len(status) < 2 or status[1] != b"200":
            raise OSError("extension registration answered %r" % lines[0][:100])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        while len(rest) < length:  # drain the body so the connection stays in sync
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        ident = headers.get(b"lambda-extension-identifier")
        if not ident:
            raise OSError("extension registration gave no Lambda-Extension-Identifier")
        sock.sendall(b"GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: %s\r\n"
                     b"Lambda-Extension-Identifier: %s\r\n\r\n" % (address.encode(), ident))
    except BaseException:
        sock.close()
        raise
    _state.extension = sock  # the long poll stays open (it answers only at stop)
    _state.extension_id = ident.decode("latin-1")
    return _state.extension_id


# -- SIGTERM handling -----------------------------------------------------------------------

def _watchdog(reader, main_ident, parent_pid):
    """Runs in its own thread with SIGTERM blocked. Reads the signal wakeup fd; re-sends
    SIGTERM to the main thread when its Python handler did not run in time. In a worker
    (parent_pid set) also ends the worker when the supervisor is gone."""
    import time

    if parent_pid:
        reader.settimeout(1.0)
    while True:
        try:
            data = reader.recv(64)
        except TimeoutError:
            if os.getppid() != parent_pid:
                signal.pthread_kill(main_ident, signal.SIGTERM)
                parent_pid = None
                reader.settimeout(None)
            continue
        except OSError:
            return
        if not data:
            return
        if signal.SIGTERM not in data:
            continue
        for _ in range(_RESEND_LIMIT):
            time.sleep(_RESEND_AFTER)
            if _state.requested:
                break
            signal.pthread_kill(main_ident, signal.SIGTERM)
        if _state.requested:
            return


def install_handler(handler=_on_sigterm, parent_pid=None):
    """Installs the SIGTERM handler, the wakeup fd and the watchdog thread (main thread only;
    call again in a forked child: threads do not survive fork)."""
    import _socket
    import _thread

    old = _state.wakeup
    reader, writer = _socket.socketpair()
    writer.setblocking(False)
    _state.wakeup = (reader, writer)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    if old is not None:
        old[0].close()
        old[1].close()
    signal.signal(signal.SIGTERM, handler)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM,))
    try:  # the thread inherits the blocked mask
        _thread.start_new_thread(_watchdog, (reader, _thread.get_ident(), parent_pid))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def reset_after_fork():
    _state.requested = _state.raised = _state.busy = False


def enable(address, function):
    """Single-process mode: register the extension, track invocations, handle SIGTERM.
    Returns False (and leaves SIGTERM alone) when the extension cannot be registered."""
    import sys

    try:
        register_extension(address)
    except Exception as error:  # never fail the init for it
        print("lambda-runtime: graceful shutdown disabled: cannot register the extension: %s" % error,
              file=sys.stderr, flush=True)
        return False
    track(function)
    install_handler()
    return True
