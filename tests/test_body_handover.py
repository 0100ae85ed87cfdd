"""A large body leaves the HTTP parser in its receive buffer (ResponseParser.take_body(), as
the runtime takes an event): the same bytes as a copy would give, and the parser goes on with
whatever followed the message, however the bytes arrived."""

import pytest

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def http(native_modules):
    import _lambda_http

    return _lambda_http


def content_length(body, extra=b""):
    return b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r1\r\n%sContent-Length: %d\r\n\r\n%s" % (
        extra, len(body), body)


def chunked(body, size=100000):
    pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(pieces) + b"0\r\n\r\n"


def bodies():
    return [bytes(range(256)) * (n // 256) + b"x" * (n % 256) for n in (262143, 262144, MIB + 7, 6 * MIB)]


def responses(parser, data, step):
    out = []
    for i in range(0, len(data), step):
        parser.feed(data[i:i + step])
        while True:
            response = parser.next_response()
            if response is None:
                break
            out.append(response)
    return out


@pytest.mark.parametrize("step", [1 << 30, 65536, 99991])
@pytest.mark.parametrize("framing", [content_length, chunked])
def test_large_bodies_then_the_next_message(http, framing, step):
    after = content_length(b'{"next": true}')
    for body in bodies():
        parser = http.ResponseParser()
        got = responses(parser, framing(body) + after + after[:20], step)
        assert [r.body for r in got] == [body, b'{"next": true}']
        assert got[0].status == 200 and got[0].keep_alive
        assert parser.buffered == 20          # the start of a third message, kept


def test_headers_read_before_the_hand_over_stay_right(http):
    body = b"a" * MIB
    parser = http.ResponseParser()
    [response] = responses(parser, content_length(body, b"Connection: close\r\n"), 1 << 30)
    assert response.body == body
    assert response.known_headers["lambda-runtime-aws-request-id"] == "r1"
    assert not response.keep_alive


def test_the_parser_goes_on_in_a_small_buffer(http):
    parser = http.ResponseParser()
    for body in bodies() * 2:
        [response] = responses(parser, content_length(body), 1 << 30)
        assert response.body == body
        [small] = responses(parser, content_length(b"{}"), 1 << 30)
        assert small.body == b"{}"


def test_a_kept_body_is_never_written_again(http):
    """The buffer a body was lent in is reused only once nobody holds that body."""
    parser = http.ResponseParser()
    first_body, second_body = b"1" * MIB, b"2" * MIB
    [first] = responses(parser, content_length(first_body), 65536)
    kept, kept_hash = first.body, hash(first.body)
    del first
    [second] = responses(parser, content_length(second_body), 65536)
    assert kept == first_body and hash(kept) == kept_hash
    assert second.body == second_body


def test_a_released_body_buffer_takes_the_next_body(http):
    parser = http.ResponseParser()
    ids = set()
    for i in range(4):
        body = bytes([65 + i]) * (MIB + i)
        [response] = responses(parser, content_length(body), 65536)
        assert response.body == body and len(response.body) == len(body)
        assert hash(response.body) == hash(bytes(body))   # no hash left from the last body
        ids.add(id(response.body))
        del response
    assert len(ids) == 1                                  # one buffer, received into four times


def test_an_outlier_is_not_kept(http):
    parser = http.ResponseParser()
    big = b"o" * (5 * MIB)
    for _ in range(2):
        [response] = responses(parser, content_length(big), 65536)
        assert response.body == big
    [small] = responses(parser, content_length(b"x" * (300 * 1024)), 65536)
    assert small.body == b"x" * (300 * 1024)
