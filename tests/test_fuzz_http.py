"""Property-based fuzzing of the sans-IO HTTP/1.1 ResponseParser (_lambda_http).

Properties:
  * any split of a valid response stream parses to the same responses as feeding it whole;
  * random or mutated bytes only ever give responses, "need more" (None) or
    HttpProtocolError (IncompleteResponse at close) -- never another exception or a crash.

CI runs ~300 examples per property. Longer runs:
    HYPOTHESIS_MAX_EXAMPLES=100000 .test-venv/bin/python -m pytest tests/test_fuzz_http.py -q
    .test-venv/bin/python tests/fuzz_http_atheris.py -runs=2000000   (coverage-guided, atheris)
"""
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

MAX_EXAMPLES = int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "300"))
SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def http(native_modules):
    import _lambda_http
    return _lambda_http


# ---------------------------------------------------------------- valid responses

token = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
                min_size=1, max_size=20)
header_value = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=40)


@st.composite
def response(draw):
    status = draw(st.sampled_from([200, 202, 400, 403, 413, 500, 100, 204]))
    headers = draw(st.lists(st.tuples(token, header_value), max_size=8))
    headers = [(n, v) for n, v in headers
               if n.lower() not in ("content-length", "transfer-encoding", "connection")]
    body = draw(st.binary(max_size=600))
    framing = draw(st.sampled_from(["length", "chunked"]))
    if status in (100, 204):
        body, framing = b"", "none"
    out = [b"HTTP/1.1 %d Reason Phrase\r\n" % status]
    out += [("%s: %s\r\n" % (n, v)).encode() for n, v in headers]
    if framing == "length":
        out.append(b"Content-Length: %d\r\n\r\n" % len(body))
        out.append(body)
    elif framing == "chunked":
        out.append(b"Transfer-Encoding: chunked\r\n\r\n")
        sizes = draw(st.lists(st.integers(1, 97), max_size=10))
        i = 0
        for size in sizes:
            piece = body[i:i + size]
            if not piece:
                break
            ext = draw(st.sampled_from([b"", b";ext=1", b" "]))
            out.append(b"%x%s\r\n%s\r\n" % (len(piece), ext, piece))
            i += len(piece)
        if i < len(body):
            out.append(b"%X\r\n%s\r\n" % (len(body) - i, body[i:]))
        out.append(b"0\r\n")
        if draw(st.booleans()):
            out.append(b"X-Trailer: t\r\n")
        out.append(b"\r\n")
    else:
        out.append(b"\r\n")
    expected = None if status == 100 else (status, body)
    return b"".join(out), expected


def parse_all(http, pieces, close=True):
    parser = http.ResponseParser()
    got = []
    for piece in pieces:
        parser.feed(piece)
        while True:
            r = parser.next_response()
            if r is None:
                break
            got.append((r.status, r.body, dict(r.headers), dict(r.trailers)))
            assert r.known_headers == {k: v for k, v in r.headers.items() if k in http.KNOWN_HEADERS}
    if close:
        r = parser.close()
        if r is not None:
            got.append((r.status, r.body, dict(r.headers), dict(r.trailers)))
    return got


@SETTINGS
@given(st.lists(response(), min_size=1, max_size=4), st.data())
def test_any_split_parses_like_whole(http, responses, data):
    stream = b"".join(wire for wire, _ in responses)
    expected = [e for _, e in responses if e is not None]
    # a trailing 100-continue with nothing after it stays pending: end with a real one
    whole = parse_all(http, [stream])
    assert [(s, b) for s, b, _, _ in whole] == expected
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    assert parse_all(http, pieces) == whole
    assert parse_all(http, [bytes([c]) for c in stream[:2000]] + [stream[2000:]]) == whole


# ---------------------------------------------------------------- hostile bytes

def feed_hostile(http, pieces):
    parser = http.ResponseParser(max_head=4096, max_body=1 << 16)
    try:
        for piece in pieces:
            parser.feed(piece)
            for _ in range(64):
                r = parser.next_response()
                if r is None:
                    break
                assert 0 <= r.status <= 999
        parser.close()
    except http.HttpProtocolError:
        pass


@SETTINGS
@given(st.lists(st.binary(max_size=300), max_size=6))
def test_random_bytes_only_protocol_errors(http, pieces):
    feed_hostile(http, pieces)


@SETTINGS
@given(response(), st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(
    ["flip", "insert", "delete", "dup", "digit", "crlf"]), st.binary(min_size=1, max_size=8)),
    min_size=1, max_size=6), st.data())
def test_mutated_responses_only_protocol_errors(http, resp, mutations, data):
    wire = bytearray(resp[0])
    for pos, kind, blob in mutations:
        if not wire:
            break
        pos %= len(wire)
        if kind == "flip":
            wire[pos] ^= blob[0] or 1
        elif kind == "insert":
            wire[pos:pos] = blob
        elif kind == "delete":
            del wire[pos:pos + len(blob)]
        elif kind == "dup":
            wire[pos:pos] = wire[pos:pos + 64]
        elif kind == "digit":
            wire[pos:pos] = b"ffffffffffffffffffff"[:len(blob) * 3]
        else:
            wire[pos:pos] = b"\r\n"
    wire = bytes(wire)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=5)))
    feed_hostile(http, [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)])])
