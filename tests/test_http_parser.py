"""The HTTP/1.1 response parser (native/_lambda_http.pyx), without sockets: every
fixture fed whole, byte by byte, and followed by the next response's bytes."""

import os
import re

import pytest

from conftest import ROOT

RESPONSES = {
    "content-length": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
        200, b"{\"a\":1}"),
    "chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
        200, b"hello world"),
    "chunked-with-trailers": (
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n",
        202, b"abc"),
    "empty-body": (b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", 202, b""),
    "no-content": (b"HTTP/1.1 204 No Content\r\n\r\n", 204, b""),
    "interim-100": (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, b"ok"),
    "te-beats-cl": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        200, b"ok"),
}


@pytest.fixture(scope="module")
def http(native_modules):
    import _lambda_http

    return _lambda_http


def feed_all(parser, data, step=None):
    responses = []
    step = step or len(data)
    for i in range(0, len(data), step):
        parser.feed(data[i:i + step])
        while True:
            response = parser.next_response()
            if response is None:
                break
            responses.append(response)
    return responses


@pytest.mark.parametrize("name", sorted(RESPONSES))
@pytest.mark.parametrize("step", [None, 1, 3])
def test_valid_responses_whole_and_split(http, name, step):
    wire, status, body = RESPONSES[name]
    trailing = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nOK"
    responses = feed_all(http.ResponseParser(), wire + trailing, step)
    assert [(r.status, r.body) for r in responses] == [(status, body), (202, b"OK")]


def test_headers_are_case_insensitive_and_repeats_joined(http):
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nLAMBDA-Runtime-Aws-Request-ID:  abc \r\nX-A: 1\r\nx-a: 2\r\n"
                b"Content-Length: 0\r\n\r\n")
    response = parser.next_response()
    assert response.headers["lambda-runtime-aws-request-id"] == "abc"
    assert response.headers["x-a"] == "1, 2"


def test_known_headers_read_in_place_agree_with_the_dict(http):
    """The runtime loop reads the Lambda-Runtime-* headers in place (no dict): same values,
    case-insensitive names, stripped values, repeats joined, unknown names left out."""
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nLAMBDA-Runtime-Aws-Request-ID:  abc \r\n"
                b"Lambda-Runtime-Deadline-Ms: 1700000000000\r\nX-Other: y\r\n"
                b"Lambda-Runtime-Trace-Id: Root=1-a;Sampled=0\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\n\r\n{}")
    response = parser.next_response()
    assert response.known_headers == {
        "lambda-runtime-aws-request-id": "abc", "lambda-runtime-deadline-ms": "1700000000000",
        "lambda-runtime-trace-id": "Root=1-a;Sampled=0", "content-type": "application/json",
        "content-length": "2"}
    assert response.headers["x-other"] == "y"
    parser.feed(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Trace-Id: a\r\nlambda-runtime-trace-id: b\r\n"
                b"Content-Length: 0\r\n\r\n")
    assert parser.next_response().known_headers == {"lambda-runtime-trace-id": "a, b", "content-length": "0"}


def test_trailers_are_returned(http):
    parser = http.ResponseParser()
    parser.feed(RESPONSES["chunked-with-trailers"][0])
    assert parser.next_response().trailers == {"x-trailer": "yes"}


def test_large_chunked_body_is_not_corrupted(http):
    payload = bytes(range(256)) * 40000  # ~10 MB, beyond the 6 MB limit
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                      for part in (payload[i:i + 70001] for i in range(0, len(payload), 70001)))
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    [response] = feed_all(http.ResponseParser(), wire, 65536)
    assert response.body == payload


def test_body_until_close(http):
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\npartial")
    assert parser.next_response() is None
    parser.feed(b" body")
    response = parser.close()
    assert (response.body, response.keep_alive) == (b"partial body", False)


def test_connection_close_header_clears_keep_alive(http):
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert parser.next_response().keep_alive is False


@pytest.mark.parametrize("wire, message", [
    (b"HTTP/2 200 OK\r\n\r\n", "malformed status line"),
    (b"garbage\r\n\r\n", "malformed status line"),
    (b"HTTP/1.1 2x0 OK\r\n\r\n", "malformed status code"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
    (b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "folding"),
    (b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "whitespace in header name"),
    (b"HTTP/1.1 200 OK\r\nBad\x0bName: x\r\n\r\n", "invalid character in header name"),
    (b"HTTP/1.1 200 OK\r\nN\xe4me: x\r\n\r\n", "invalid character in header name"),
    (b"HTTP/1.1 200 OK\r\n" + b"N" * 257 + b": x\r\n\r\n", "header name of 257 bytes"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "conflicting Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", "exceeds"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", "overflows"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX", "not followed by CRLF"),
])
def test_bad_input_raises_protocol_error(http, wire, message):
    parser = http.ResponseParser()
    parser.feed(wire)
    with pytest.raises(http.HttpProtocolError, match=message):
        parser.next_response()


def test_repeated_equal_content_length_is_accepted(http):
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
    assert parser.next_response().body == b"ok"


def test_head_limit(http):
    parser = http.ResponseParser(max_head=1024)
    parser.feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 2000)
    with pytest.raises(http.HttpProtocolError, match="head exceeds"):
        parser.next_response()


def test_eof_mid_response_is_incomplete(http):
    parser = http.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert parser.next_response() is None
    with pytest.raises(http.IncompleteResponse):
        parser.close()


def test_eof_between_responses_is_clean(http):
    parser = http.ResponseParser()
    assert parser.close() is None


# The name each KnownHeader constant of native/_lambda_http.pxd stands for.
KNOWN_HEADER_CONSTANTS = {
    "H_CONTENT_TYPE": "content-type", "H_CONTENT_LENGTH": "content-length", "H_DATE": "date",
    "H_CONNECTION": "connection", "H_TRANSFER_ENCODING": "transfer-encoding",
    "H_REQUEST_ID": "lambda-runtime-aws-request-id", "H_DEADLINE_MS": "lambda-runtime-deadline-ms",
    "H_FUNCTION_ARN": "lambda-runtime-invoked-function-arn", "H_TRACE_ID": "lambda-runtime-trace-id",
    "H_CLIENT_CONTEXT": "lambda-runtime-client-context", "H_COGNITO_IDENTITY": "lambda-runtime-cognito-identity",
    "H_TENANT_ID": "lambda-runtime-aws-tenant-id", "H_EXTENSION_ID": "lambda-extension-identifier",
}


def test_known_header_names_match_their_enum(http):
    """KNOWN_HEADER_NAMES (the .pyx) is indexed by the KnownHeader enum (the .pxd): each
    constant must sit at its name's position, and KNOWN_COUNT must count them all."""
    with open(os.path.join(ROOT, "native", "_lambda_http.pxd")) as f:
        enum = {name: int(value) for name, value in re.findall(r"^\s+(H_\w+|KNOWN_COUNT) = (\d+)$", f.read(), re.M)}
    count = enum.pop("KNOWN_COUNT")
    assert set(enum) == set(KNOWN_HEADER_CONSTANTS)
    assert count == len(enum) == len(http.KNOWN_HEADERS)
    assert {name: http.KNOWN_HEADERS[index] for name, index in enum.items()} == KNOWN_HEADER_CONSTANTS
