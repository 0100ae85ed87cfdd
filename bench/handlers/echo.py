"""Benchmark handlers: the same module runs under the compiled bootstrap, awslambdaric and
the stdlib loop."""
try:
    from lambda_runtime import raw
except ImportError:  # awslambdaric / the stdlib loop have no raw mode: a no-op there
    def raw(function):
        return function


def handler(event, context):
    """Echoes its (parsed) JSON event: the runtime parses and re-serializes it."""
    return event


@raw
def raw_handler(event, context):
    """Raw mode: the event as bytes, returned as-is (no JSON work at all)."""
    return event
