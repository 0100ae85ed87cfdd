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
and one send (runtime.pyx ExtensionClient); nothing is read afterwards.

On SIGTERM (a Python signal handler) what happens depends on where the process is, as the
state table of runtime.pyx's Lifecycle says (`lifecycle.stop()`): idle, i.e. blocked in
GET /runtime/invocation/next, Shutdown is raised and unwinds out of serve(); bootstrap runs
the hooks (newest first), then returns 0 and the interpreter's exit runs the atexit
handlers. During an invocation serve() raises Shutdown once its answer has been posted.

The signal wakeup fd is a pipe that the Runtime API client polls beside its socket while
it waits for an invocation (`lifecycle.watch_wakeup_fd()`), so that a SIGTERM landing
between two socket calls still wakes that wait. No thread.

When: only if the handler's module (or anything imported during the init) registered an
on_shutdown hook or an atexit handler -- nothing else would run on SIGTERM, and the
registration costs a round trip in every cold start. LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN=1
registers regardless (hooks added after the init), =0 never (SIGTERM keeps its default
action).
"""

import os
import _signal as signal  # not `signal`: its IntEnum wrappers import enum (~1 ms of start-up)

from _lambda_runtime import ExtensionClient, Shutdown, lifecycle

EXTENSION_NAME = "lambda-native-python"
_REGISTER_TIMEOUT = 2.0

_hooks = []


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
    """Whether to register for SIGTERM, decided once the handler module is loaded.
    LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN=1 forces it, =0 turns it off; unset, only when something
    would run at shutdown: an on_shutdown hook or an atexit handler registered so far. A
    registration costs a round trip and a connection in every cold start, and Lambda lets
    extensions register during the init only."""
    setting = environ.get("LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting:
        return True
    import atexit

    return bool(_hooks) or atexit._ncallbacks() > 0


class _Resources:
    extension = None      # the ExtensionClient, kept (with its connection) for the life of the process
    wakeup = None         # (read fd, write fd) of the signal wakeup pipe


_kept = _Resources()


def _on_sigterm(signum, frame):
    if lifecycle.stop():
        raise Shutdown()


# -- the no-op internal extension -----------------------------------------------------------

def register_extension(address, runtime_client=None):
    """Registers the runtime as an internal extension with no events (over the runtime
    client's connection when given) and sends its first GET /event/next on a connection of
    its own, never read. Returns the extension id; raises RuntimeApiError."""
    extension = ExtensionClient(address, int(_REGISTER_TIMEOUT * 1000))
    extension_id = extension.register(EXTENSION_NAME, runtime_client)
    extension.send_event_poll()
    _kept.extension = extension  # keeps its connection (and the long poll) open
    return extension_id


# -- SIGTERM handling -----------------------------------------------------------------------

def _orphan_watch(main_ident, parent_pid):
    """In a worker: ends the worker (SIGTERM to its main thread) once the supervisor is gone."""
    import time

    while os.getppid() == parent_pid:
        time.sleep(1.0)
    signal.pthread_kill(main_ident, signal.SIGTERM)


def install_handler(handler=_on_sigterm, parent_pid=None):
    """Installs the SIGTERM handler and the wakeup pipe the client polls (main thread only;
    call again in a forked child). In a worker (parent_pid) a thread watches the supervisor."""
    old = _kept.wakeup
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    os.set_blocking(writer, False)
    _kept.wakeup = (reader, writer)
    signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
    lifecycle.watch_wakeup_fd(reader)
    if old is not None:
        os.close(old[0])
        os.close(old[1])
    signal.signal(signal.SIGTERM, handler)
    if parent_pid:
        import _thread

        mask = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM,))
        try:  # the thread inherits the blocked mask: SIGTERM stays with the main thread
            _thread.start_new_thread(_orphan_watch, (_thread.get_ident(), parent_pid))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def enable(address, runtime_client=None):
    """Single-process mode: handle SIGTERM, register the extension (whose registration may
    send the first GET /next, so the handler comes first). Returns False, with SIGTERM back
    to its default, when the extension cannot be registered."""
    import sys

    install_handler()
    try:
        register_extension(address, runtime_client)
    except Exception as error:  # never fail the init for it
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        lifecycle.watch_wakeup_fd(-1)
        print("lambda-runtime: graceful shutdown disabled: cannot register the extension: %s" % error,
              file=sys.stderr, flush=True)
        return False
    return True
