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
    data = (before + json.dumps(value) + after).encode()
    assert marshal.event_codec.loads(data) == marshal.loads(data) == value


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.text(max_size=20).map(str.encode))
def test_loads_agrees_on_anything(marshal, data):
    ours, theirs = _outcome(marshal.event_codec.loads, data), _outcome(marshal.loads, data)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1])


@pytest.mark.parametrize("data", [b"", b"   ", b"\xef\xbb\xbf{}", b'{"a": 1} x', b'{"a": 1}\n\n',
                                  b'"\xff"', b"NaN", b"[1, 2", b'"caf\xc3\xa9"', b"\t[]\r\n"])
def test_loads_edge_cases(marshal, data):
    ours, theirs = _outcome(marshal.event_codec.loads, data), _outcome(marshal.loads, data)
    assert ours[0] == theirs[0] and _same(ours[1], theirs[1])


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_dumps_agrees(marshal, value):
    assert marshal.event_codec.dumps(value) == marshal.dumps(value).encode() == json.dumps(value).encode()


def test_dumps_off_the_fast_path(marshal):
    import decimal

    circular = []
    circular.append(circular)
    for value in ({"d": decimal.Decimal("1.10")}, (1, 2), {1: "a", None: 2}, float("inf"),
                  {"big": "x" * 100000, "list": list(range(5000))}, [[[]]] * 3):
        assert marshal.event_codec.dumps(value) == marshal.dumps(value).encode()
    for value in ({1, 2}, circular, object()):
        assert _outcome(marshal.event_codec.dumps, value) == _outcome(lambda v: marshal.dumps(v).encode(), value)
