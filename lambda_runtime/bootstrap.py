"""The bootstrap's entry point: read the environment, load the handler, run the loop.

build.py generates the program's main script, which calls main(default_handler=..., stdlib_dir=...).
Exit status: 1 for an init error or a Runtime API failure (Lambda then restarts the
environment), the handler's own status for sys.exit() in a handler.
"""

import os
import sys

from _lambda_runtime import RuntimeApiClient, RuntimeApiError, serve

from . import import_hooks, init_gc, shutdown, task_paths
from .function import Function, current_invocation
from .handler_loader import load_handler


# The directory of the bootstrap (lambda_runtime/ sits in it). Not sys.executable: Nuitka
# names a "python" there that does not exist.
_BOOTSTRAP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Unbuffered:
    """stdout/stderr that flush every write, as in AWS's runtime (logs reach CloudWatch at once)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        written = self._stream.write(text)
        self._stream.flush()
        return written

    def writelines(self, lines):
        self._stream.writelines(lines)
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _fail(message):
    print("lambda-runtime: %s" % message, file=sys.stderr, flush=True)
    return 1


def _install_lazy_hooks(log_format, log_level):
    try:
        from _lambda_nuitka import patch_inspect
    except ImportError:  # running from plain CPython (tests): nothing to patch
        pass
    else:
        import_hooks.after_import("inspect", lambda module: patch_inspect())
    import_hooks.after_import("re", _use_regex_table)
    import_hooks.after_import("collections", _use_code_table)  # namedtuple's; dataclasses imports it
    import_hooks.after_import("ssl", _use_system_ca_bundle)
    import_hooks.after_import("botocore.loaders", _use_baked_models)
    import_hooks.after_import(
        "logging",
        lambda logging: _configure_logging(logging, log_format, log_level),
    )


def _use_regex_table(re):
    from . import regex_cache  # only for programs that use regular expressions

    regex_cache.install(re, os.path.join(_BOOTSTRAP_DIR, regex_cache.FILE))


def _use_code_table(collections):
    from . import codegen_cache  # only for programs that make namedtuples or dataclasses

    codegen_cache.watch(import_hooks.after_import, os.path.join(_BOOTSTRAP_DIR, codegen_cache.FILE))


def _use_system_ca_bundle(ssl):
    from . import tls  # only for programs that use TLS

    tls.use_system_ca_bundle(ssl)


def _use_baked_models(loaders):
    try:
        from . import botocore_loader  # only for programs that use botocore
    except ImportError:  # a build without botocore carries neither the loader nor models
        return           # (botocore from a layer reads its own JSON)
    botocore_loader.install(loaders)


def _configure_logging(logging, log_format, log_level):
    from . import log_setup  # only for programs that use logging

    log_setup.configure(logging, log_format, log_level, current_invocation)


def _report_init_error(client, error, log_format):
    from . import errors  # only when the init fails

    report = errors.report_init_error(error, log_format)
    try:
        client.post_init_error(report.body, report.error_type)
    except Exception as post_failure:
        _fail("could not report the init error: %s" % post_failure)
    return 1


def run(default_handler, stdlib_dir=None, environ=os.environ):
    address = environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        return _fail("AWS_LAMBDA_RUNTIME_API is not set: run this bootstrap under Lambda, "
                     "the mock Runtime API (invoke.py) or the runtime interface emulator")
    log_format = "JSON" if environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON" else "Text"
    try:
        client = RuntimeApiClient(address)
    except RuntimeApiError as error:
        return _fail(str(error))

    if stdlib_dir:
        from . import stdlib_tree  # only a build with the tree (not --lean-stdlib) needs it

        stdlib_tree.install(os.path.join(_BOOTSTRAP_DIR, stdlib_dir))
    task_paths.extend_sys_path(environ)
    _install_lazy_hooks(log_format, environ.get("AWS_LAMBDA_LOG_LEVEL", ""))
    try:
        handler = init_gc.run_init(lambda: load_handler(environ.get("_HANDLER") or default_handler))
        function = Function(handler, log_format)
    except Exception as error:
        return _report_init_error(client, error, log_format)

    graceful = shutdown.enabled(environ)
    workers = _max_concurrency(environ)
    if workers > 1:
        from . import concurrency

        return concurrency.run(address, function, workers, graceful)

    try:
        if graceful:
            shutdown.enable(address, client)
        serve(client, function)
    except shutdown.Shutdown:
        shutdown.run_hooks()  # then sys.exit(0) runs the atexit handlers
        return 0
    except RuntimeApiError as error:
        return _fail(str(error))
    return 0


def _max_concurrency(environ):
    value = environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "").strip()
    if not value:
        return 1
    try:
        return max(1, int(value))
    except ValueError:
        _fail("ignoring AWS_LAMBDA_MAX_CONCURRENCY=%r (not an integer)" % value)
        return 1


def main(default_handler, stdlib_dir=None):
    """stdlib_dir: the stdlib tree's directory relative to the bootstrap's, if the build wrote one."""
    sys.stdout = _Unbuffered(sys.stdout)
    sys.stderr = _Unbuffered(sys.stderr)
    sys.exit(run(default_handler, stdlib_dir))
