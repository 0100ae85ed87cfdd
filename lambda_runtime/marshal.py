"""JSON in and out, as AWS's Python runtime writes it, without importing `json`.

`import json` pulls in `re` and its compiler (~10 ms of start-up); the C accelerator
`_json` that json itself uses needs none of that, so we drive it directly, and load it on
first use (an extension module: ~0.2 ms of a cold start that the loop's own codec, which
comes to these functions only for what is not plain JSON, may never need). Output
matches awslambdaric: ", " and ": " separators, ASCII escapes, NaN/Infinity written as
such, tuples as lists, non-string keys as strings, Decimal as its number text.
"""

import sys

from _lambda_json import Codec

_WHITESPACE = " \t\n\r"


class _DecodeSettings:
    """The attributes _json.make_scanner reads from a json.JSONDecoder."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
    memo = None


class _Accelerator:
    """_json's scanner and encoders, made once _json is loaded (accelerator())."""

    def __init__(self, _json):
        self.scan_once = _json.make_scanner(_DecodeSettings())
        self.encode_str = _json.encode_basestring_ascii
        # Two C encoders: one without the circular-reference bookkeeping (a dict insert and
        # delete per container: ~15% of the time for a 1 MiB response), tried first; one with
        # it, which json.dumps uses, to tell a cycle (ValueError) from deep nesting
        # (RecursionError) when the first one ran out of recursion.
        self.encode_unchecked = _json.make_encoder(None, _default, self.encode_str, None, ": ", ", ",
                                                   False, False, True)
        self.encode_checked = _json.make_encoder({}, _default, self.encode_str, None, ": ", ", ",
                                                 False, False, True)


_accelerator = None


def accelerator():
    global _accelerator
    if _accelerator is None:
        import _json

        _accelerator = _Accelerator(_json)
    return _accelerator


class JSONDecodeError(ValueError):
    """Raised for bad JSON; the message follows json's ("Expecting value: line 1 column 1 (char 0)")."""

    def __init__(self, msg, doc, pos):
        lineno = doc.count("\n", 0, pos) + 1
        colno = pos - doc.rfind("\n", 0, pos)
        ValueError.__init__(self, "%s: line %d column %d (char %d)" % (msg, lineno, colno, pos))


def loads(data):
    """Decodes one JSON document from bytes (UTF-8) or str."""
    if isinstance(data, str):
        text = data
    else:
        text = str(data, "utf-8")
    if text.startswith("\ufeff"):
        raise JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    n = len(text)
    start = 0
    while start < n and text[start] in _WHITESPACE:
        start += 1
    try:
        value, end = accelerator().scan_once(text, start)
    except StopIteration as stop:
        raise JSONDecodeError("Expecting value", text, stop.value) from None
    except SystemError:  # _json could not import json.decoder to raise its error class
        _raise_scan_error(text, start)
    while end < n and text[end] in _WHITESPACE:
        end += 1
    if end != n:
        raise JSONDecodeError("Extra data", text, end)
    return value


def _raise_scan_error(text, start):
    """_json reports a syntax error by importing json.decoder.JSONDecodeError, and the
    bootstrap does not carry the json package: lend it ours for the re-scan."""
    module = type(sys)("json.decoder")
    module.JSONDecodeError = JSONDecodeError
    sys.modules["json.decoder"] = module
    try:
        accelerator().scan_once(text, start)
    except StopIteration as stop:
        raise JSONDecodeError("Expecting value", text, stop.value) from None
    finally:
        if sys.modules.get("json.decoder") is module:
            del sys.modules["json.decoder"]
    raise JSONDecodeError("Expecting value", text, start)


class _NeedsDecimal(Exception):
    """Raised by the C encoder's fallback: the value holds a Decimal, use the slow path."""


def _default(obj):
    if _is_decimal(obj):
        raise _NeedsDecimal
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def _is_decimal(obj):
    decimal = sys.modules.get("decimal")  # no Decimal can exist unless decimal was imported
    return decimal is not None and isinstance(obj, decimal.Decimal)


def dumps(obj):
    """Encodes obj as awslambdaric does; raises TypeError/ValueError when it cannot."""
    c = accelerator()
    try:
        return "".join(c.encode_unchecked(obj, 0))
    except _NeedsDecimal:
        return "".join(_encode_slow(obj, set()))
    except RecursionError:
        pass  # a cycle, or nesting deeper than the recursion limit: the checked encoder says which
    try:
        return "".join(c.encode_checked(obj, 0))
    except _NeedsDecimal:
        return "".join(_encode_slow(obj, set()))


def _encode_slow(obj, markers):
    """A plain recursive encoder, used only for values that contain a Decimal."""
    if isinstance(obj, str):
        yield accelerator().encode_str(obj)
    elif obj is None or obj is True or obj is False or isinstance(obj, (int, float)):
        yield accelerator().encode_unchecked(obj, 0)[0] if isinstance(obj, float) else _scalar(obj)
    elif _is_decimal(obj):
        yield "NaN" if obj.is_nan() else str(obj)
    elif isinstance(obj, (list, tuple, dict)):
        if id(obj) in markers:
            raise ValueError("Circular reference detected")
        markers.add(id(obj))
        if isinstance(obj, dict):
            yield "{"
            for i, (key, value) in enumerate(obj.items()):
                yield (", " if i else "") + accelerator().encode_str(_key(key)) + ": "
                yield from _encode_slow(value, markers)
            yield "}"
        else:
            yield "["
            for i, value in enumerate(obj):
                if i:
                    yield ", "
                yield from _encode_slow(value, markers)
            yield "]"
        markers.discard(id(obj))
    else:
        yield from _encode_slow(_default_slow(obj), markers)


def _default_slow(obj):
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def _scalar(obj):
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    return int.__repr__(obj)


def _key(key):
    if isinstance(key, str):
        return key
    if isinstance(key, float) or key is None or isinstance(key, bool) or isinstance(key, int):
        return accelerator().encode_unchecked(key, 0)[0] if isinstance(key, float) else _scalar(key)
    if _is_decimal(key):
        return str(key)
    raise TypeError("keys must be str, int, float, bool or None, not %s" % type(key).__name__)


# The loop's fast path (native/_lambda_json.pyx), which leaves anything but plain JSON and
# plain values to loads/dumps above. event_codec.loads(bytes) -> value,
# event_codec.dumps(value) -> bytes.
event_codec = Codec(loads, dumps)
