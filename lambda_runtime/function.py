"""The contract between serve() (runtime.pyx) and a handler: Function, built once with it.

serve() owns the loop and the bytes: per invocation it takes the outcome of the handler
(Function's C half, _lambda_runtime.Contract: trace id, event decoded, context, result
encoded) and posts it, Response | Stream | ErrorReport, deciding itself what a refused post
means. Function's Python half here runs when an invocation is not a plain success: the
errors for an event or a result that does not convert, the error reports (logged as
awslambdaric logs them), streaming.
"""

import os
import sys

from _lambda_runtime import Contract, lifecycle

from . import marshal
from .context import LambdaContext

# errors and streaming are imported where they are needed: a successful invocation that
# does not stream needs neither, and the start-up is shorter without them.
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


def current_invocation():
    """(request id, tenant id) of the invocation in progress, for log records."""
    invocation = lifecycle.current
    return (None, None) if invocation is None else (invocation.request_id, invocation.tenant_id)


class Function(Contract):
    def __init__(self, handler, log_format="Text"):
        # os.environ's bytes mapping (POSIX), the trace id's key and the encoding of values:
        # serve() sets the trace id there only, no setenv(): glibc never frees a replaced
        # value and every invocation brings a new one (14 MB of RSS per 100,000 invocations).
        trace_environ = (os.environ._data, os.environ.encodekey("_X_AMZN_TRACE_ID"), sys.getfilesystemencoding())
        Contract.__init__(self, handler, LambdaContext, marshal.event_codec.loads, marshal.event_codec.dumps,
                          trace_environ)
        self.log_format = log_format

    @staticmethod
    def unmarshal_error(error):
        """The exception for an event that loads() refused with `error`."""
        from .errors import UnmarshalError

        return UnmarshalError("Unable to unmarshal input: %s" % error)

    @staticmethod
    def marshal_error(error):
        """The exception for a result that dumps() refused with `error`."""
        from .errors import MarshalError, safe_str

        return MarshalError("Unable to marshal response: %s" % safe_str(error))

    @staticmethod
    def is_stream(result):
        """A generator (a streaming handler's result): Nuitka's compiled type in the bootstrap,
        CPython's or Cython's elsewhere."""
        return type(result) is _GENERATOR_TYPE or type(result).__name__ in ("generator", "compiled_generator")

    def send_stream(self, client, invocation, generator):
        """Streams the generator's items; returns the ErrorReport to post if it failed
        before its first item, else None."""
        from .streaming import send_stream

        return send_stream(client, invocation, generator, self)

    def error_report(self, exc, invocation):
        """The ErrorReport for an exception from the handler or the contract, logged."""
        from .errors import report_exception

        return report_exception(exc, invocation.request_id, self.log_format)

    def too_large_report(self, invocation, size):
        """The ErrorReport for a response of `size` bytes that Lambda refused (413), logged."""
        from .errors import report_error

        return report_error("Response payload size (%d bytes) exceeded maximum allowed payload size." % size,
                            RESPONSE_TOO_LARGE, invocation.request_id, self.log_format)

    @staticmethod
    def report_unanswerable(exc):
        print("lambda-runtime: %s" % exc, file=sys.stderr, flush=True)


def _probe():
    yield


_GENERATOR_TYPE = type(_probe())  # Nuitka's compiled generator type inside the bootstrap
