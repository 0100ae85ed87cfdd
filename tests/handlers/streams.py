"""Test handlers for response streaming (generator handlers)."""
import time

from lambda_runtime.streaming import HttpResponse


def slow(event, context):
    """Yields event["count"] chunks, sleeping event["delay"] seconds before each but the first."""
    for i in range(event.get("count", 3)):
        if i:
            time.sleep(event.get("delay", 0.2))
        yield "chunk-%d\n" % i


def mixed(event, context):
    yield "str-\u00e9-"
    yield b"bytes-\x00\xff-"
    yield bytearray(b"ba-")
    yield ""
    yield "end"


def empty(event, context):
    return
    yield  # noqa: unreachable, makes this a generator


def large(event, context):
    """event["total"] bytes in event["chunk"]-byte chunks, one buffer reused."""
    chunk = event.get("chunk", 65536)
    total = event.get("total", 100 * 1024 * 1024)
    block = b"z" * chunk
    sent = 0
    while sent + chunk <= total:
        yield block
        sent += chunk
    if sent < total:
        yield block[: total - sent]


def http(event, context):
    yield HttpResponse(event.get("status", 201),
                       {"Content-Type": "text/plain", "X-Custom": "yes"},
                       ["a=1; Path=/", "b=2"])
    yield "hello "
    yield b"world"


def http_only(event, context):
    yield HttpResponse(204)


def fails_midway(event, context):
    """Two chunks, then ValueError (unless event["fail"] is false: then a third chunk)."""
    yield "first,"
    yield "second,"
    if event.get("fail", True):
        raise ValueError("broke after %d chunks" % 2)
    yield "third"


def fails_first(event, context):
    raise KeyError("before any chunk")
    yield "never"


def remaining(event, context):
    """Yields get_remaining_time_in_millis() twice, event["delay"] s apart."""
    yield "%d\n" % context.get_remaining_time_in_millis()
    time.sleep(event.get("delay", 0.3))
    yield "%d\n" % context.get_remaining_time_in_millis()


def plain(event, context):
    """Not a generator: an ordinary buffered JSON response."""
    return {"plain": True, "event": event}
