"""Raises while being imported: an init error of its own class."""
raise RuntimeError("cannot start: missing configuration")


def handler(event, context):
    return None
