"""Lambda Managed Instances: serve AWS_LAMBDA_MAX_CONCURRENCY=N invocations at once.

AWS's Python runtime starts N processes that each import the handler. Here the handler is
imported once, then the process forks N workers that share that memory copy-on-write
(module code, the handler's import-time state, the runtime itself); each worker opens its
own Runtime API connection and runs the ordinary serve() loop, so every worker keeps its
own module globals from then on (state is per worker, as with AWS's processes).

Before the fork, on CPython 3.12+ (Managed Instances run 3.13 and later), the objects alive
are made immortal (_lambda_runtime.immortalize_init_heap, native/immortal.pxd), so that a
worker's reference counting does not copy the shared pages: an object the init made is then
never freed, even when a worker drops it, and sys.getrefcount() of one is 4294967295;
objects that must still be finalized or freed when dropped (a __del__, a file, a weakref
callback's target, ...) stay ordinary.

The parent is a supervisor and never serves: it holds the graceful-shutdown extension,
waits for its workers, and
  * reports a worker that died (stderr: pid, exit status or signal) and forks a
    replacement from its own, still pristine, post-import memory;
  * gives up when workers keep dying (more than max(N, 3) deaths within 10 s, or fork
    fails): it stops the others and exits 1, so Lambda restarts the environment;
  * on SIGTERM forwards it to every worker (each finishes its invocation in progress, runs
    its on_shutdown hooks and atexit handlers, exits 0), waits for them, exits 0 without
    running hooks or atexit handlers itself (it served nothing).
Logs stay attributable: each worker's Function knows its own invocation in progress, and
log_setup stamps every record with that request id; every write is flushed at once, and
lines under PIPE_BUF (4 KiB) from different workers never interleave.
"""

import gc
import os
import _signal as signal  # not `signal`: its IntEnum wrappers import enum (~1 ms of start-up)
import sys
import time

from _lambda_runtime import RuntimeApiClient, RuntimeApiError, immortalize_init_heap, lifecycle, serve

from . import shutdown

_CRASH_WINDOW = 10.0
_STOP_TIMEOUT = 5.0


class _Stop(BaseException):
    pass


def _say(message):
    print("lambda-runtime: %s" % message, file=sys.stderr, flush=True)


# The `signal` module would bring enum in for Signals(...).name.
_SIGNAL_NAMES = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}


def _describe(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = _SIGNAL_NAMES.get(sig, "signal %d" % sig)
        return "was killed by %s" % name
    return "exited with status %d" % os.waitstatus_to_exitcode(status)


def _worker(address, function, graceful, parent_pid):
    """In the forked child: serve until the Runtime API fails or SIGTERM. Never returns."""
    code = 0
    try:
        try:
            from .inherited_sockets import detach_inherited_connections

            detach_inherited_connections()
            lifecycle.reset()  # the supervisor's stop request, if any, is not ours
            if graceful:
                shutdown.install_handler(parent_pid=parent_pid)
            else:
                signal.set_wakeup_fd(-1)  # the supervisor's: not ours to write to
                lifecycle.watch_wakeup_fd(-1)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGTERM,))
            serve(RuntimeApiClient(address), function)
        except shutdown.Shutdown:
            shutdown.run_hooks()
        except RuntimeApiError as error:
            _say("worker %d: %s" % (os.getpid(), error))
            code = 1
        except SystemExit as exit:  # sys.exit() in a handler
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        import atexit

        atexit._run_exitfuncs()
    except BaseException as error:
        _say("worker %d failed: %r" % (os.getpid(), error))
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _spawn(workers, address, function, graceful):
    """Forks a worker with SIGTERM blocked (the child installs its own handler first), and
    adds it to `workers` before a pending SIGTERM can interrupt the supervisor."""
    parent = os.getpid()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM,))
    try:
        pid = os.fork()
        if pid == 0:
            _worker(address, function, graceful, parent)
        workers.add(pid)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return pid


def _on_sigterm(signum, frame):
    if lifecycle.stop():  # the supervisor is never in an invocation: True the first time
        raise _Stop()


def run(address, function, count, graceful):
    """The supervisor. Returns the process's exit status (or never returns: os._exit)."""
    if graceful:
        try:
            shutdown.register_extension(address)
        except Exception as error:  # never fail the init for it
            _say("graceful shutdown disabled: cannot register the extension: %s" % error)
            graceful = False
    # SIGTERM is always forwarded to the workers, graceful or not.
    shutdown.install_handler(_on_sigterm)

    # The standard-library imports deferred in third-party packages (deferred_imports) are
    # made now: the workers share those modules, and a module's at-fork hooks (asyncio's
    # from 3.12) are registered before the fork, as when the package imported it at once.
    # The first stand-in made imports that module: without it there is none.
    deferred = sys.modules.get("lambda_runtime.deferred_imports")
    if deferred is not None:
        deferred.import_all()
    # What was made since the init (init_gc froze the init's own objects) into the permanent
    # generation too, garbage collected first (cheap: frozen objects are not walked): a
    # collection writes into every object it examines, which in each worker would copy the
    # pages of the shared heap. A worker's own objects are collected as usual.
    gc.collect()
    # On CPython 3.12+ every object alive now is made immortal (but those that must still be
    # finalized or freed: native/immortal.pxd), so that the workers' reference counting does
    # not write into the shared heap either. It walks the collector's lists, which do not
    # include the frozen generation: the init's objects are unfrozen for it.
    gc.unfreeze()
    immortalize_init_heap()
    gc.freeze()
    workers = set()
    deaths = []
    code = 0
    try:
        for _ in range(count):
            _spawn(workers, address, function, graceful)
        _say("serving %d invocations at once (workers %s)" % (count, " ".join(map(str, sorted(workers)))))
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                workers.clear()
                _say("no workers left")
                code = 1
                break
            if pid not in workers:
                continue
            workers.discard(pid)
            now = time.monotonic()
            deaths = [t for t in deaths if now - t < _CRASH_WINDOW] + [now]
            if len(deaths) > max(count, 3):
                _say("worker %d %s; %d workers died within %d s: giving up"
                     % (pid, _describe(status), len(deaths), _CRASH_WINDOW))
                code = 1
                break
            try:
                new = _spawn(workers, address, function, graceful)
            except OSError as error:
                _say("worker %d %s; cannot start another: %s" % (pid, _describe(status), error))
                code = 1
                break
            _say("worker %d %s; replaced by worker %d" % (pid, _describe(status), new))
    except _Stop:
        code = 0
    _stop(workers)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _stop(workers):
    """Forwards SIGTERM to the workers and reaps them (SIGKILL after _STOP_TIMEOUT)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + _STOP_TIMEOUT
    while workers:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid:
            workers.discard(pid)
            if status:
                _say("worker %d %s" % (pid, _describe(status)))
            continue
        if time.monotonic() > deadline:
            for pid in workers:
                _say("worker %d did not stop: killing it" % pid)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            deadline = float("inf")
        time.sleep(0.002)
