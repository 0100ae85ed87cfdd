"""native/swar.pxd's word-at-a-time scanners find exactly what a byte-at-a-time loop finds
(and the escape scan copies the bytes it passed), for every byte class at every offset against
the 8-byte words, and the codec built on them reads and writes such strings as json does."""

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def native(native_modules):
    sys.path.insert(0, native_modules)
    import _lambda_json
    from lambda_runtime import marshal

    return _lambda_json, marshal


def string_stop(data):
    """When reading a JSON string: the first quote, backslash or control byte; non-ASCII before it."""
    for i, c in enumerate(data):
        if c in b'"\\' or c < 0x20:
            return i, any(b >= 0x80 for b in data[:i])
    return len(data), any(b >= 0x80 for b in data)


def escape_stop(data):
    """When writing one byte per character: the first byte json's ASCII encoder escapes, and
    the bytes before it (which the scan copies)."""
    for i, c in enumerate(data):
        if c in b'"\\' or c < 0x20 or c >= 0x7f:
            return i, data[:i]
    return len(data), data


# One byte of each class the scanners tell apart, and the bytes at the classes' edges.
CLASS_BYTES = [0x00, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xa2, 0xdc, 0xfe, 0xff]


@pytest.mark.parametrize("byte", CLASS_BYTES)
def test_every_class_at_every_offset(native, byte):
    lambda_json, _ = native
    for lead in range(8):              # where the scan starts against the words
        for at in range(24):           # where the byte sits after that
            for tail in (0, 1, 7, 8, 9):
                data = b"x" * lead + b"a" * at + bytes([byte]) + b"b" * tail
                assert lambda_json._scan(data, lead, False) == string_stop(data[lead:])
                assert lambda_json._scan(data, lead, True) == escape_stop(data[lead:])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(CLASS_BYTES + [0x41, 0x61, 0x30]), max_size=40).map(bytes),
       st.integers(0, 9))
def test_scanners_agree_with_a_byte_loop(native, data, start):
    lambda_json, _ = native
    start = min(start, len(data))
    assert lambda_json._scan(data, start, False) == string_stop(data[start:])
    assert lambda_json._scan(data, start, True) == escape_stop(data[start:])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 9))
def test_scanners_on_any_bytes(native, data, start):
    lambda_json, _ = native
    start = min(start, len(data))
    assert lambda_json._scan(data, start, False) == string_stop(data[start:])
    assert lambda_json._scan(data, start, True) == escape_stop(data[start:])


# Characters of every kind the codec handles differently inside a string.
SPECIAL = ['"', "\\", "\n", "\x00", "\x1f", "\x7f", "/", "\u00e9", "\u00ff", "\u0100", "\u65e5", "\ud7ff",
           "\ue000", "\uffff", "\U0001f600", "\U0010ffff"]


@pytest.mark.parametrize("char", SPECIAL)
def test_codec_reads_and_writes_each_kind_at_every_offset(native, char):
    _, marshal = native
    for at in range(20):
        for tail in (0, 3, 8):
            text = "a" * at + char + "b" * tail
            value = {"s": text, "k" + text: [text, text + text]}
            assert marshal.event_codec.dumps(value) == json.dumps(value).encode()
            for document in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
                assert marshal.event_codec.loads(document.encode("utf-8")) == value


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SPECIAL + ["a", "bc", "defghijk", "\u00e9\u00e9"]), max_size=30).map("".join))
def test_codec_round_trips_mixed_strings(native, text):
    _, marshal = native
    assert marshal.event_codec.dumps(text) == json.dumps(text).encode()
    for document in (json.dumps(text), json.dumps(text, ensure_ascii=False)):
        data = document.encode("utf-8", "surrogatepass")
        assert marshal.event_codec.loads(data) == marshal.loads(data) == text


@pytest.mark.parametrize("byte", range(0x20))
def test_raw_control_bytes_are_errors_at_every_offset(native, byte):
    _, marshal = native
    for at in range(17):
        data = b'"' + b"a" * at + bytes([byte]) + b'"'
        with pytest.raises(ValueError) as ours:
            marshal.event_codec.loads(data)
        with pytest.raises(ValueError) as theirs:
            marshal.loads(data)
        assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("n", [85, 86, 255, 256, 257, 511, 512, 513, 5000])
def test_long_strings_across_buffer_and_block_edges(native, n):
    """Past the 512 stack bytes the output moves to a bytes object; wide strings are written
    256 characters per reservation."""
    _, marshal = native
    for text in ("a" * n, "\u00e9" * n, "\u65e5" * n, "\U0001f600" * n, ("a\"\u65e5\n" * n)[:n], "\\" * n):
        for value in (text, [text, {"k": text}]):
            assert marshal.event_codec.dumps(value) == json.dumps(value).encode()
            for document in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
                assert marshal.event_codec.loads(document.encode()) == value


def test_large_results_kept_by_the_caller_stay_as_written(native):
    """A large result's buffer is written again only once nobody holds that result."""
    _, marshal = native
    codec = marshal.event_codec
    kept = []
    for i in range(6):
        value = {"data": chr(65 + i) * (200000 + i), "n": i}
        out = codec.dumps(value)
        assert out == json.dumps(value).encode() and hash(out) == hash(json.dumps(value).encode())
        if i % 2:
            kept.append((out, json.dumps(value).encode()))
        del out
    assert all(out == expected for out, expected in kept)
    for value in ("small", ["x" * 600], {"o": "y" * (5 * 1024 * 1024)}, "z" * 100000):
        assert codec.dumps(value) == json.dumps(value).encode()
