"""The Python side of one invocation: what serve() in runtime.pyx calls.

serve() owns the loop and the bytes; Function owns the contract: how the event is
decoded, what the context holds, how results and errors are encoded and posted, and
what happens when the Runtime API refuses a post.
"""

import os
import sys

from _lambda_runtime import ResponseRejected, RuntimeApiError

from . import errors, marshal, streaming
from .context import LambdaContext

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

    def begin_invocation(self, invocation):
        self.request_id = invocation.request_id
        self.tenant_id = invocation.tenant_id
        # os.environ's mapping only, no setenv(): glibc never frees a replaced value and
        # every invocation brings a new trace id (14 MB of RSS per 100,000 invocations).
        trace_id = invocation.trace_id
        if trace_id is not None:
            self._environ_data[self._trace_key] = trace_id.encode(self._fs_encoding, "surrogateescape")
        else:
            self._environ_data.pop(self._trace_key, None)

    def decode_event(self, invocation):
        if self.raw or invocation.content_type != "application/json":
            return invocation.body
        try:
            return marshal.loads(invocation.body)
        except ValueError as error:
            raise errors.UnmarshalError("Unable to unmarshal input: %s" % error) from None

    make_context = staticmethod(LambdaContext)  # raises ContextUnmarshalError for bad headers

    def encode_result(self, result):
        """(body bytes, content type) for a handler's return value."""
        if isinstance(result, (bytes, bytearray, memoryview)):
            return bytes(result), (b"application/octet-stream" if self.raw else b"application/unknown")
        if self.raw and isinstance(result, str):
            return result.encode("utf-8"), b"text/plain; charset=utf-8"
        try:
            return marshal.dumps(result).encode("utf-8"), b"application/json"
        except (TypeError, ValueError, OverflowError, RecursionError) as error:
            raise errors.MarshalError("Unable to marshal response: %s" % errors.safe_str(error)) from None

    is_stream = staticmethod(streaming.is_stream)

    def stream(self, client, invocation, generator):
        streaming.send_stream(client, invocation, generator, self)

    # -- posting ----------------------------------------------------------------

    def post_result(self, client, invocation, body, content_type):
        self._post(invocation, client.post_response, (invocation.request_id, body, content_type),
                   too_large=lambda: self._post_error_payload(client, invocation, errors.error_payload(
                       "Response payload size (%d bytes) exceeded maximum allowed payload size." % len(body),
                       RESPONSE_TOO_LARGE, [], invocation.request_id)))

    def post_error(self, client, invocation, exc):
        error_type, body, xray_cause, payload = errors.report_exception(exc, invocation.request_id)
        errors.log_error(payload, self.log_format)
        self._post(invocation, client.post_error, (invocation.request_id, body, error_type, xray_cause))

    def _post_error_payload(self, client, invocation, payload):
        errors.log_error(payload, self.log_format)
        self._post(invocation, client.post_error,
                   (invocation.request_id, marshal.dumps(payload).encode(), payload["errorType"], None))

    def _post(self, invocation, post, args, too_large=None):
        """One post for the invocation. A 413 calls too_large (if given); another 4xx is
        reported on stderr and the loop goes on; a 5xx or a failed Runtime API ends the
        process with a line that names the invocation left unanswered."""
        try:
            post(*args)
        except ResponseRejected as rejected:
            if rejected.status == 413 and too_large is not None:
                too_large()
            elif rejected.status >= 500:
                raise RuntimeApiError("invocation %s: %s" % (invocation.request_id, rejected)) from None
            else:  # 400 (unknown id), 403 (already answered): nothing more can be said for it
                print("lambda-runtime: invocation %s: %s" % (invocation.request_id, rejected),
                      file=sys.stderr, flush=True)
        except RuntimeApiError as failure:
            raise RuntimeApiError("invocation %s: %s" % (invocation.request_id, failure)) from None

    def report_unanswerable(self, exc):
        print("lambda-runtime: %s" % exc, file=sys.stderr, flush=True)
