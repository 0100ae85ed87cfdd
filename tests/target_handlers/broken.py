"""Raises while being imported: an init error of its own class."""
raise RuntimeError("broken at import")


def handler(event, context):
    return None
