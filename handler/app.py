"""The example handler: echoes the event with a few context fields."""


def handler(event, context):
    return {
        "message": "hello from a compiled Python Lambda",
        "event": event,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
