"""A handler using a package from requirements.txt."""
import six


def handler(event, context):
    return {"six": six.__version__, "text": six.ensure_str(b"bytes")}
