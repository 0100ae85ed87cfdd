"""Test handlers that fail in the ways a user's code does."""
import sys


class CustomError(Exception):
    pass


def value_error(event, context):
    raise ValueError("bad value: %s" % event.get("n"))


def custom_error(event, context):
    try:
        raise KeyError("inner")
    except KeyError as inner:
        raise CustomError("outer") from inner


def exit_handler(event, context):
    sys.exit(event.get("code", 3))


class BadStr(Exception):
    def __str__(self):
        raise RuntimeError("str failed")


def bad_str(event, context):
    raise BadStr()
