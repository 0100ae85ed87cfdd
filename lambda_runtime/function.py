"""The Python side of one invocation: what serve() in runtime.pyx calls.

serve() owns the loop and the bytes: it marks the invocation current (log records,
_X_AMZN_TRACE_ID), decodes the event, builds the context and encodes the result with what
Function gives it. Function owns the contract: the handler, the marshaller and the context
class, the errors for an event or a result that does not convert, streaming, and what
happens when the Runtime API refuses a post.
"""

import os
import sys

from _lambda_runtime import ResponseRejected, RuntimeApiError, current_invocation

from . import marshal
from .context import LambdaContext

# errors and streaming are imported where they are needed: a successful invocation that
# does not stream needs neither, and the start-up is shorter without them.
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


class Function:
    context_class = LambdaContext            # raises ContextUnmarshalError for bad headers
    loads = marshal.event_codec.loads        # bytes -> event; ValueError
    dumps = marshal.event_codec.dumps        # result -> bytes; TypeError, ValueError, ...

    def __init__(self, handler, log_format="Text"):
        self.log_format = log_format
        # os.environ's bytes mapping (POSIX), the trace id's key and the encoding of values:
        # serve() sets the trace id there only, no setenv(): glibc never frees a replaced
        # value and every invocation brings a new one (14 MB of RSS per 100,000 invocations).
        self.trace_environ = (os.environ._data, os.environ.encodekey("_X_AMZN_TRACE_ID"),
                              sys.getfilesystemencoding())
        self.set_handler(handler)

    def set_handler(self, handler):
        self.handler = handler
        self.raw = bool(getattr(handler, "__lambda_raw__", False))

    @staticmethod
    def current_invocation():
        """(request id, tenant id) of the invocation in progress, for log records."""
        invocation = current_invocation()
        return (None, None) if invocation is None else (invocation.request_id, invocation.tenant_id)

    # -- per invocation ---------------------------------------------------------

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

    def stream(self, client, invocation, generator):
        from .streaming import send_stream

        send_stream(client, invocation, generator, self)

    # -- posting ----------------------------------------------------------------
    # serve() posts a result itself. A 413 for a response posts Function.ResponseSizeTooLarge
    # instead; another 4xx is reported on stderr and the loop goes on; a 5xx or a failed
    # Runtime API ends the process with a line that names the invocation left unanswered.

    def post_failed(self, client, invocation, body, failure):
        """serve() posted `body` as the invocation's response and the Runtime API refused it
        (ResponseRejected) or failed (RuntimeApiError)."""
        if not isinstance(failure, ResponseRejected) or failure.status != 413:
            return self._post_failed(invocation, failure)
        from .errors import error_payload

        self._post_error_payload(client, invocation, error_payload(
            "Response payload size (%d bytes) exceeded maximum allowed payload size." % len(body),
            RESPONSE_TOO_LARGE, [], invocation.request_id))

    def post_error(self, client, invocation, exc):
        from .errors import log_error, report_exception

        error_type, body, xray_cause, payload = report_exception(exc, invocation.request_id)
        log_error(payload, self.log_format)
        self._post_error(client, invocation, body, error_type, xray_cause)

    def _post_error_payload(self, client, invocation, payload):
        from .errors import log_error

        log_error(payload, self.log_format)
        self._post_error(client, invocation, marshal.dumps(payload).encode(), payload["errorType"], None)

    def _post_error(self, client, invocation, body, error_type, xray_cause):
        try:
            client.post_error(invocation.request_id, body, error_type, xray_cause)
        except (ResponseRejected, RuntimeApiError) as failure:
            self._post_failed(invocation, failure)

    @staticmethod
    def _post_failed(invocation, failure):
        if isinstance(failure, ResponseRejected) and failure.status < 500:
            # 400 (unknown id), 403 (already answered): nothing more can be said for it
            print("lambda-runtime: invocation %s: %s" % (invocation.request_id, failure),
                  file=sys.stderr, flush=True)
            return
        raise RuntimeApiError("invocation %s: %s" % (invocation.request_id, failure)) from None

    def report_unanswerable(self, exc):
        print("lambda-runtime: %s" % exc, file=sys.stderr, flush=True)


def _probe():
    yield


_GENERATOR_TYPE = type(_probe())  # Nuitka's compiled generator type inside the bootstrap
