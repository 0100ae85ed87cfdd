"""Errors whose tracebacks carry the source lines of the user's code."""


def handler(event, context):
    return _helper(event)


def _helper(event):
    raise ValueError("boom %s" % event.get("n"))


def at_import_time(event, context):
    import failing_import  # noqa: F401  (raises while being imported)
