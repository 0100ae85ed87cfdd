"""native/_lambda_json.pyx: the loop's JSON fast path gives what lambda_runtime.marshal's
loads/dumps give (value, bytes or the very error) for any input, common or not."""

import json
import math
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def marshal(native_modules):
    sys.path.insert(0, native_modules)
    from lambda_runtime import marshal

    return marshal


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30)
spaces = st.text(alphabet=" \t\r\n", max_size=3)


def _outcome(function, arg):
    try:
        return "value", function(arg)
    except Exception as error:  # the type and message must agree too
        return type(error).__name__, str(error)


def _same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return a == b


@settings(max_examples=300, deadline=None)
@given(json_values, spaces, spaces)
def test_loads_agrees_on_documents(marshal, value, before, after):
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):  # escaped, and raw UTF-8
        data = (before + text + after).encode("utf-8", "surrogatepass")
        ours, theirs = _outcome(marshal.event_codec.loads, data), _outcome(marshal.loads, data)
        assert ours[0] == theirs[0] and _same(ours[1], theirs[1])
        if ours[0] == "value":
            assert ours[1] == value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=20).map(str.encode))
def test_loads_agrees_on_anything(marshal, data):
    ours, theirs = _outcome(marshal.event_codec.loads, data), _outcome(marshal.loads, data)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1])


@pytest.mark.parametrize("data", [
    b"", b"   ", b"\xef\xbb\xbf{}", b'{"a": 1} x', b'{"a": 1}\n\n', b'"\xff"', b"NaN", b"[1, 2",
    b'"caf\xc3\xa9"', b"\t[]\r\n", b'"\\ud83d\\ude00"', b'"\\ud800"', b'"\\ud800\\u0041"', b'"\\udc00x"',
    b"[1e400, -1e400, -0, -0.0, 0.1, 5e-324, 123456789012345678, 1234567890123456789, -123456789012345678]",
    b'{"a": 1, "a": 2, "b": [], "c": {}}', b'"\\/\\b\\f\\n\\r\\t\\"\\\\"', b'"tab\there"', b"[1,]", b'{"a" 1}',
    b"01", b"-", b"1.", b"1e", b".5", b"1e+5", b"1E-5", b'"\xc3"', b'"caf\xc3\xa9\\n"', b"-Infinity",
    b"[Infinity, NaN]", b"tru", b"nul", b'"\\u00e9\\u00E9"', b'"\\x41"', b'"\\u12"', b'{"a": }', b"[" * 300 + b"]" * 300,
    b'"\x7f"', b'"\xed\xa0\x80"'])
def test_loads_edge_cases(marshal, data):
    ours, theirs = _outcome(marshal.event_codec.loads, data), _outcome(marshal.loads, data)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1])


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_agrees(marshal, value):
    assert marshal.event_codec.dumps(value) == marshal.dumps(value).encode() == json.dumps(value).encode()


@pytest.mark.parametrize("value", [
    "\x7f", "\U0001f600", "\u00e9t\u00e9", "\x00\x1f\b\f\n\r\t\"\\/", "\ud800", -0.0, 1e300, 1e16, 0.1,
    -5e-324, 10 ** 30, -(10 ** 30), -2 ** 63, 2 ** 63 - 1, 2 ** 63, float("nan"), float("-inf"), True, False,
    {"a": None, "b": [1, (2, 3)], "": {}}, [[[[]]]], [[0]] * 3, {"\u00e9": "\U0001f600"}])
def test_dumps_writes_what_json_writes(marshal, value):
    assert marshal.event_codec.dumps(value) == json.dumps(value).encode()


def test_dumps_off_the_fast_path(marshal):
    import decimal

    circular = []
    circular.append(circular)
    deep = []
    for _ in range(300):  # past MAX_DEPTH: marshal writes it
        deep = [deep]

    class Text(str):
        pass

    for value in ({"d": decimal.Decimal("1.10")}, (1, 2), {1: "a", None: 2}, float("inf"),
                  {"big": "x" * 100000, "list": list(range(5000))}, [[[]]] * 3, deep, [Text("t")],
                  {Text("k"): 1}, {"n": decimal.Decimal("NaN")}):
        assert marshal.event_codec.dumps(value) == marshal.dumps(value).encode()
    for value in ({1, 2}, circular, object()):
        assert _outcome(marshal.event_codec.dumps, value) == _outcome(lambda v: marshal.dumps(v).encode(), value)


def test_keys_cached_or_not_decode_the_same(marshal):
    """Short ASCII keys come from a cache of 256 sets of two: colliding, long, escaped and
    non-ASCII keys, keys of every length up to past the limit (hashed by their first and
    last 8 bytes), and the same key across documents, all decode as json does."""
    keys = ["k%d" % i for i in range(1000)] + ["x" * 40, "caf\u00e9", "a\"b", "tab\t", ""]
    keys += ["%s%d" % ("y" * n, n % 3) for n in range(34)] + ["a" * 12 + "b" * 12 + "c" * 8 + c for c in "de"]
    document = json.dumps({k: i for i, k in enumerate(keys)}).encode()
    for _ in range(2):
        decoded = marshal.event_codec.loads(document)
        assert list(decoded.items()) == [(k, i) for i, k in enumerate(keys)]
    first, second = marshal.event_codec.loads(b'{"name": 1}'), marshal.event_codec.loads(b'{"name": 2}')
    assert next(iter(first)) is next(iter(second))  # one string for a repeated key


def test_keys_written_from_the_cache_or_not_encode_the_same(marshal):
    """Short ASCII keys are written once per string object and copied after that: keys at
    the cache's length limit and past it, with escapes, non-ASCII, first in their dict or
    not, colliding slots, and strings made anew (once the cached ones are gone) all encode
    as json does."""
    keys = ["k" * 31, "k" * 32, "k" * 33, "a\"b", "tab\t", "caf\u00e9", "\u65e5", "", "x"]
    keys += ["".join(("key", str(i))) for i in range(2000)]      # distinct objects, many slots
    for _ in range(3):
        value = [{k: i} for i, k in enumerate(keys)] + [{k: {k: [k]} for k in keys}]
        assert marshal.event_codec.dumps(value) == json.dumps(value).encode()
        keys = ["".join(k) for k in keys]                          # the same texts, new objects
    assert marshal.event_codec.dumps({"é" * 2: 1, "ab": 2}) == json.dumps({"é" * 2: 1, "ab": 2}).encode()


def test_an_escaped_key_in_a_written_keys_slot_leaves_its_key_right(marshal):
    """A key that needs escaping, landing in the slot of a key already written, must not
    touch what that slot holds (Hypothesis found {'G4': None} written as {"$z": null})."""
    cached = "".join(("G", "4"))
    assert marshal.event_codec.dumps({cached: None}) == b'{"G4": null}'
    slot = (id(cached) >> 4) & 255  # write_key's slot: the string's address
    escaped = []
    while not escaped or (id(escaped[-1]) >> 4) & 255 != slot:
        escaped.append("".join(("$z\n", str(len(escaped)))))
    assert marshal.event_codec.dumps({escaped[-1]: 1}) == json.dumps({escaped[-1]: 1}).encode()
    assert marshal.event_codec.dumps({cached: None}) == b'{"G4": null}'


def test_a_large_decode_leaves_the_collector_as_it_found_it(marshal):
    """Large documents are decoded with the cyclic collector paused (a decoded document has
    no cycle), and it is on again afterwards, also after an error; off stays off."""
    import gc

    document = json.dumps({"records": [{"i": i, "tags": ["a", "b"]} for i in range(5000)]}).encode()
    assert gc.isenabled()
    assert marshal.event_codec.loads(document)["records"][4999] == {"i": 4999, "tags": ["a", "b"]}
    assert gc.isenabled()
    with pytest.raises(ValueError):
        marshal.event_codec.loads(document[:-1])
    assert gc.isenabled()
    gc.disable()
    try:
        marshal.event_codec.loads(document)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_dumps_of_dicts_with_deleted_members(marshal):
    value = {"a": 1, "b": 2, "c": {"x": 1, "y": 2}}
    del value["a"], value["c"]["x"]
    value["d"] = [1]
    assert marshal.event_codec.dumps(value) == json.dumps(value).encode()
