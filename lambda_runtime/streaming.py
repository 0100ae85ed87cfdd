"""Response streaming for generator handlers.

A handler that is a generator function streams: every bytes/str it yields leaves at
once as one chunk of a chunked POST /response (Lambda-Runtime-Function-Response-Mode:
streaming). If the first item yielded is an HttpResponse, the stream is a function-URL
HTTP response: its JSON prelude and 8 NUL bytes go first, with the content type
application/vnd.awslambda.http-integration-response. An exception after the stream began
is reported in the Lambda-Runtime-Function-Error-Type/-Body trailers.
"""

import sys

from . import errors, marshal

HTTP_INTEGRATION_CONTENT_TYPE = b"application/vnd.awslambda.http-integration-response"
DEFAULT_STREAM_CONTENT_TYPE = b"application/octet-stream"
PRELUDE_SEPARATOR = b"\x00" * 8


class HttpResponse:
    """Yield this first from a streaming handler to set the function URL's status,
    headers and cookies:  yield HttpResponse(200, {"Content-Type": "text/plain"})"""

    __slots__ = ("status_code", "headers", "cookies")

    def __init__(self, status_code=200, headers=None, cookies=None):
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.cookies = list(cookies or [])

    def prelude(self):
        return marshal.dumps(
            {"statusCode": self.status_code, "headers": self.headers, "cookies": self.cookies}
        ).encode("utf-8") + PRELUDE_SEPARATOR


def _chunk_bytes(item):
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview)):
        return bytes(item)
    raise TypeError("a streaming handler must yield bytes or str, not %s" % type(item).__name__)


def send_stream(client, invocation, generator, function):
    """Posts the generator's items as one streamed response. Returns the ErrorReport to post
    instead when it failed before its first item (nothing sent yet), else None."""
    request_id = invocation.request_id
    try:
        first = next(generator, None)
    except Exception as exc:
        return function.error_report(exc, invocation)

    content_type = DEFAULT_STREAM_CONTENT_TYPE
    if isinstance(first, HttpResponse):
        content_type = HTTP_INTEGRATION_CONTENT_TYPE
    client.begin_stream(request_id, content_type)
    try:
        try:
            if isinstance(first, HttpResponse):
                client.send_chunk(first.prelude())
            elif first is not None:
                client.send_chunk(_chunk_bytes(first))
            for item in generator:
                client.send_chunk(_chunk_bytes(item))
        except Exception as exc:
            if not _is_handler_error(exc):
                raise
            report = errors.report_exception(exc, request_id, function.log_format)
            client.end_stream(report.error_type, b64encode(report.body))
            return None
        client.end_stream()
    except BaseException:
        client.abort()  # the chunked body cannot be finished: drop the connection
        raise
    finally:
        generator.close()


def _is_handler_error(exc):
    runtime = sys.modules["_lambda_runtime"]
    return not isinstance(exc, (runtime.RuntimeApiError, OSError))


_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64encode(data):
    """Standard base64 (the trailer value); binascii would add an extension module."""
    out = bytearray()
    for i in range(0, len(data) - len(data) % 3, 3):
        n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2]
        out += bytes((_B64[n >> 18], _B64[(n >> 12) & 63], _B64[(n >> 6) & 63], _B64[n & 63]))
    rest = len(data) % 3
    if rest:
        tail = data[len(data) - rest:] + b"\0" * (3 - rest)
        n = (tail[0] << 16) | (tail[1] << 8) | tail[2]
        quad = bytes((_B64[n >> 18], _B64[(n >> 12) & 63], _B64[(n >> 6) & 63], _B64[n & 63]))
        out += quad[: rest + 1] + b"=" * (3 - rest)
    return bytes(out)
