"""lambda_runtime: what a handler may import from the runtime.

    from lambda_runtime import raw, HttpResponse, on_shutdown

- @raw: the handler gets the event as bytes and its bytes/str result is sent as-is
  (no JSON work at all).
- HttpResponse(status_code, headers, cookies): yield it first from a streaming
  (generator) handler to answer a function URL with a status, headers and cookies.
- on_shutdown(fn): fn() runs when Lambda shuts the environment down (SIGTERM).
"""

from .shutdown import on_shutdown


def raw(handler):
    """Marks a handler as raw: event bytes in, bytes (or str) out, no JSON."""
    handler.__lambda_raw__ = True
    return handler


def __getattr__(name):
    if name == "HttpResponse":  # imported on first use: most functions do not stream
        from .streaming import HttpResponse

        return HttpResponse
    raise AttributeError("module 'lambda_runtime' has no attribute %r" % name)


__all__ = ["raw", "HttpResponse", "on_shutdown"]
