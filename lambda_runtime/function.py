"""The Python side of one invocation: what serve() in runtime.pyx calls.

serve() owns the loop and the bytes; Function owns the contract: how the event is
decoded, what the context holds, how results and errors are encoded and posted, and
what happens when the Runtime API refuses a post.
"""

import os
import sys

from _lambda_runtime import ResponseRejected, RuntimeApiError

from . import marshal
from .context import LambdaContext

# errors and streaming are imported where they are needed: a successful invocation that
# does not stream needs neither, and the start-up is shorter without them.
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


class Function:
    def __init__(self, handler, log_format="Text"):
        self.log_format = log_format
        self.request_id = None
        self.tenant_id = None
        self._environ_data = os.environ._data  # os.environ's bytes mapping (POSIX)
        self._trace_key = os.environ.encodekey("_X_AMZN_TRACE_ID")
        self._fs_encoding = sys.getfilesystemencoding()
        self.set_handler(handler)

    def set_handler(self, handler):
        self.handler = handler
        self.raw = bool(getattr(handler, "__lambda_raw__", False))

    def current_invocation(self):
        """(request id, tenant id) of the invocation in progress, for log records."""
        return self.request_id, self.tenant_id

    # -- per invocation ---------------------------------------------------------

    def invoke(self, invocation):
        """The handler's result (or its exception) for one invocation. The invocation becomes
        the current one (log records, _X_AMZN_TRACE_ID), the event is decoded and the context
        built (ContextUnmarshalError for bad context headers). serve() makes this one call
        per invocation, so it is written out in one function."""
        self.request_id = invocation.request_id
        self.tenant_id = invocation.tenant_id
        # os.environ's mapping only, no setenv(): glibc never frees a replaced value and
        # every invocation brings a new trace id (14 MB of RSS per 100,000 invocations).
        trace_id = invocation.trace_id
        if trace_id is not None:
            self._environ_data[self._trace_key] = trace_id.encode(self._fs_encoding, "surrogateescape")
        else:
            self._environ_data.pop(self._trace_key, None)
        if self.raw or invocation.content_type != "application/json":
            event = invocation.body
        else:
            try:
                event = marshal.loads(invocation.body)
            except ValueError as error:
                from .errors import UnmarshalError

                raise UnmarshalError("Unable to unmarshal input: %s" % error) from None
        return self.handler(event, LambdaContext(invocation))

    def encode_result(self, result):
        """(body bytes, content type) for a handler's return value."""
        if isinstance(result, (bytes, bytearray, memoryview)):
            return bytes(result), (b"application/octet-stream" if self.raw else b"application/unknown")
        if self.raw and isinstance(result, str):
            return result.encode("utf-8"), b"text/plain; charset=utf-8"
        try:
            return marshal.dumps(result).encode("utf-8"), b"application/json"
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            from .errors import MarshalError, safe_str

            raise MarshalError("Unable to marshal response: %s" % safe_str(error)) from None

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
