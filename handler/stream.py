"""Example: a function-URL handler that streams its response (InvokeMode: RESPONSE_STREAM).

A generator handler streams: each yielded str (UTF-8) or bytes leaves at once as one chunk.
Yielding an HttpResponse first sets the status code, headers and cookies of the function
URL's answer. Deploy with handler `stream.handler`.
"""
import time

from lambda_runtime import HttpResponse


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    count = min(int(query.get("count", "5")), 100)
    yield HttpResponse(200, {"Content-Type": "text/plain; charset=utf-8",
                             "Cache-Control": "no-store"},
                       cookies=["visited=1; Path=/; HttpOnly"])
    yield "streaming %d lines for request %s\n" % (count, context.aws_request_id)
    for i in range(count):
        time.sleep(0.1)   # stands for real work: each line reaches the client as it is made
        yield "line %d, %d ms left\n" % (i + 1, context.get_remaining_time_in_millis())
    yield "done\n"
