"""Raw handler: bytes in, bytes out."""
from lambda_runtime import raw


@raw
def handler(event, context):
    return event[::-1] if event.startswith(b"reverse:") else event
