"""Response streaming (generator handlers) against the compiled bootstrap: the mock Runtime
API for the wire format, AWS's Runtime Interface Emulator for the end-to-end invoke."""

import base64
import json
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import wait_until
from devtools.mock_runtime_api import lambda_env
from devtools.ports import free_ports

HTTP_CT = "application/vnd.awslambda.http-integration-response"
MiB = 1024 * 1024


def data_chunks(result):
    return [(t, data) for t, data in result.chunks if data]


def assert_streamed(result, content_type="application/octet-stream"):
    assert result.kind == "response" and result.status == 202
    assert result.streaming
    assert result.headers["lambda-runtime-function-response-mode"] == "streaming"
    assert result.headers["transfer-encoding"] == "chunked"
    assert result.headers["content-type"] == content_type


def test_chunks_arrive_incrementally(start_bootstrap, api):
    start_bootstrap(handler="streams.slow")
    rid = api.enqueue({"count": 4, "delay": 0.2})
    result = api.wait_result(rid)
    assert_streamed(result)
    assert result.body == b"chunk-0\nchunk-1\nchunk-2\nchunk-3\n"
    chunks = data_chunks(result)
    assert [data for _, data in chunks] == [b"chunk-%d\n" % i for i in range(4)]
    gaps = [b[0] - a[0] for a, b in zip(chunks, chunks[1:])]
    assert all(gap > 0.1 for gap in gaps), gaps          # each chunk left when yielded
    assert chunks[0][0] < result.received_at + 0.1 or chunks[-1][0] - chunks[0][0] > 0.5


def test_str_and_bytes_chunks(start_bootstrap, api):
    start_bootstrap(handler="streams.mixed")
    result = api.wait_result(api.enqueue({}))
    assert_streamed(result)
    assert result.body == "str-\u00e9-".encode() + b"bytes-\x00\xff-ba-end"
    assert not result.trailers


def test_empty_stream(start_bootstrap, api):
    start_bootstrap(handler="streams.empty")
    result = api.wait_result(api.enqueue({}))
    assert_streamed(result)
    assert result.body == b"" and data_chunks(result) == []
    assert not result.trailers
    # and the runtime goes on
    assert api.wait_result(api.enqueue({})).body == b""


def _vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_large_stream_constant_memory(start_bootstrap, api):
    total = 100 * MiB
    running = start_bootstrap(handler="streams.large")
    # a small stream first: the high-water mark of a started, warmed-up runtime
    api.wait_result(api.enqueue({"total": 1 * MiB}), timeout=20)
    baseline = _vm_hwm_kib(running.process.pid)
    start = time.monotonic()
    result = api.wait_result(api.enqueue({"total": total, "chunk": 65536}), timeout=60)
    elapsed = time.monotonic() - start
    after = _vm_hwm_kib(running.process.pid)
    assert_streamed(result)
    assert len(result.body) == total and result.body.count(b"z") == total
    assert len(result.chunks) >= total // 65536
    print("\n100 MiB stream: %.2f s (%.0f MB/s); bootstrap VmHWM %d KiB -> %d KiB"
          % (elapsed, total / MiB / elapsed, baseline, after))
    assert after * 1024 < total / 4, (baseline, after)     # far below the stream's size
    assert (after - baseline) * 1024 < 8 * MiB, (baseline, after)   # no growth with size


def test_http_response_prelude_byte_for_byte(start_bootstrap, api):
    start_bootstrap(handler="streams.http")
    result = api.wait_result(api.enqueue({"status": 201}))
    assert_streamed(result, HTTP_CT)
    prelude = (b'{"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Custom": "yes"}, '
               b'"cookies": ["a=1; Path=/", "b=2"]}')
    assert result.body == prelude + b"\x00" * 8 + b"hello world"
    head, sep, payload = result.body.partition(b"\x00" * 8)
    assert json.loads(head) == {"statusCode": 201, "headers": {"Content-Type": "text/plain", "X-Custom": "yes"},
                                "cookies": ["a=1; Path=/", "b=2"]}
    # the prelude is a chunk of its own, sent before the body
    assert data_chunks(result)[0][1] == prelude + b"\x00" * 8


def test_http_response_without_body(start_bootstrap, api):
    start_bootstrap(handler="streams.http_only")
    result = api.wait_result(api.enqueue({}))
    assert_streamed(result, HTTP_CT)
    assert result.body == b'{"statusCode": 204, "headers": {}, "cookies": []}' + b"\x00" * 8


def test_exception_mid_stream_gives_trailers(start_bootstrap, api):
    running = start_bootstrap(handler="streams.fails_midway")
    rid = api.enqueue({"fail": True})
    result = api.wait_result(rid)
    assert_streamed(result)
    assert "lambda-runtime-function-error-type" in result.headers["trailer"].lower()
    assert "lambda-runtime-function-error-body" in result.headers["trailer"].lower()
    assert result.body == b"first,second,"
    assert result.trailers["lambda-runtime-function-error-type"] == "Function.ValueError"
    error = json.loads(base64.b64decode(result.trailers["lambda-runtime-function-error-body"], validate=True))
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "broke after 2 chunks"
    assert error["requestId"] == rid
    assert any("fails_midway" in frame for frame in error["stackTrace"])
    # the next invocation works
    ok = api.wait_result(api.enqueue({"fail": False}))
    assert_streamed(ok)
    assert ok.body == b"first,second,third" and not ok.trailers
    running.process.kill()
    out, _ = running.output()
    assert "[ERROR] ValueError: broke after 2 chunks" in out   # logged like any unhandled error


def test_exception_before_first_chunk_is_an_ordinary_error(start_bootstrap, api):
    start_bootstrap(handler="streams.fails_first")
    result = api.wait_result(api.enqueue({}))
    assert result.kind == "error"
    assert result.headers["lambda-runtime-function-error-type"] == "Function.KeyError"
    assert json.loads(result.body)["errorType"] == "KeyError"


def test_remaining_time_during_stream(start_bootstrap, api):
    start_bootstrap(handler="streams.remaining")
    deadline = int(time.time() * 1000) + 10000
    result = api.wait_result(api.enqueue({"delay": 0.3}, deadline_ms=deadline))
    first, second = (int(x) for x in result.body.split())
    assert 8000 < first <= 10000
    assert 250 <= first - second <= 1000


def test_non_generator_handler_unaffected(start_bootstrap, api):
    start_bootstrap(handler="streams.plain")
    result = api.wait_result(api.enqueue({"a": 1}))
    assert result.kind == "response" and not result.streaming
    assert "lambda-runtime-function-response-mode" not in result.headers
    assert result.headers["content-type"] == "application/json"
    assert json.loads(result.body) == {"plain": True, "event": {"a": 1}}


# -- under AWS's Runtime Interface Emulator -----------------------------------------

@pytest.fixture
def rie(test_build):
    """start(handler, env) -> "http://127.0.0.1:PORT" of the RIE running our bootstrap."""
    from devtools import emulator

    binary = emulator.rie_binary()  # from the pinned aws-sam-cli wheel
    processes = []

    def start(handler, env=None):
        port, api_port = free_ports(2)
        environ = lambda_env(test_build.bootstrap, "unused", handler=handler, env=env)
        environ.pop("AWS_LAMBDA_RUNTIME_API")
        process = subprocess.Popen(
            [binary, "--runtime-interface-emulator-address", "127.0.0.1:%d" % port,
             "--runtime-api-address", "127.0.0.1:%d" % api_port, test_build.bootstrap],
            env=environ, cwd=test_build.dist_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        processes.append(process)
        log = []
        threading.Thread(target=lambda: log.extend(process.stdout), daemon=True).start()

        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", port)) == 0
        wait_until(listening, timeout=10)
        return "http://127.0.0.1:%d" % port, log

    yield start
    for process in processes:
        process.kill()
        process.wait(5)


def rie_invoke(url, event, timeout=30):
    """POST the event; -> (status, headers, [(time, bytes) as read], t0)."""
    request = urllib.request.Request(url + "/2015-03-31/functions/function/invocations",
                                     data=json.dumps(event).encode(), method="POST")
    t0 = time.monotonic()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        pieces = []
        while True:
            data = response.read1(1 << 20)
            if not data:
                break
            pieces.append((time.monotonic(), data))
        return response.status, dict(response.headers), pieces, t0


def test_rie_streamed_invoke_returns_concatenated_body(rie):
    url, log = rie("streams.mixed")
    status, headers, pieces, _ = rie_invoke(url, {})
    body = b"".join(data for _, data in pieces)
    assert status == 200, (headers, body, b"".join(log))
    assert body == "str-\u00e9-".encode() + b"bytes-\x00\xff-ba-end"
    # and again: the runtime went on to the next invocation
    status, _, pieces, _ = rie_invoke(url, {})
    assert b"".join(data for _, data in pieces).endswith(b"end")


def test_rie_slow_stream(rie):
    url, log = rie("streams.slow")
    status, _, pieces, t0 = rie_invoke(url, {"count": 3, "delay": 0.2})
    assert status == 200
    assert b"".join(data for _, data in pieces) == b"chunk-0\nchunk-1\nchunk-2\n"
