"""Unit tests of devtools/mock_runtime_api.py, driven by plain stdlib clients."""
from __future__ import annotations

import http.client
import json
import os
import socket
import sys
import threading
import time

import pytest

from devtools.mock_runtime_api import (
    BootstrapDied, Fault, MockRuntimeAPI, main, run_bootstrap_once)

NEXT = "/2018-06-01/runtime/invocation/next"
PYTHON = "/root/.pyenv/versions/3.11.7/bin/python"


def resp_path(rid: str, what: str = "response") -> str:
    return f"/2018-06-01/runtime/invocation/{rid}/{what}"


@pytest.fixture
def api():
    with MockRuntimeAPI(fault_linger=0.15) as server:
        yield server


def connect(api, timeout=5.0) -> http.client.HTTPConnection:
    host, port = api.address.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=timeout)


def raw(api, request: bytes, timeout=3.0) -> tuple[bytes, bool]:
    """Send raw bytes, read until the mock closes (True) or the timeout (False)."""
    host, port = api.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            sock.settimeout(max(end - time.monotonic(), 0.01))
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return data, False
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False


GET_NEXT = f"GET {NEXT} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def post_raw(rid: str, body: bytes, what="response") -> bytes:
    return (f"POST {resp_path(rid, what)} HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# --------------------------------------------------------------------------- basics

def test_keep_alive_round_trips_on_one_connection(api):
    rids = [api.enqueue({"n": i}, tenant_id="t1" if i == 1 else None) for i in range(3)]
    conn = connect(api)
    for i, rid in enumerate(rids):
        conn.request("GET", NEXT)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and json.loads(body) == {"n": i}
        assert r.getheader("Lambda-Runtime-Aws-Request-Id") == rid
        assert r.getheader("Content-Type") == "application/json"
        assert int(r.getheader("Lambda-Runtime-Deadline-Ms")) > time.time() * 1000
        assert r.getheader("Lambda-Runtime-Invoked-Function-Arn").startswith("arn:aws:lambda:")
        assert r.getheader("Lambda-Runtime-Trace-Id").startswith("Root=1-")
        assert r.getheader("Lambda-Runtime-Aws-Tenant-Id") == ("t1" if i == 1 else None)
        assert r.getheader("Lambda-Runtime-Client-Context") is None
        assert api.state(rid) == "delivered"
        conn.request("POST", resp_path(rid), body=json.dumps({"echo": i}))
        r = conn.getresponse()
        assert (r.status, r.read()) == (202, b'{"status":"OK"}')
        res = api.wait_result(rid, 1)
        assert (res.kind, res.status, res.json()) == ("response", 202, {"echo": i})
        assert api.state(rid) == "answered"
    conn.close()
    assert api.connections_accepted == 1
    assert api.next_calls == 3
    assert [r.request_id for r in api.results] == rids


def test_event_kinds_and_optional_headers(api):
    rid = api.enqueue("raw text", request_id="abc", deadline_ms=1234,
                      client_context={"custom": {"a": 1}}, cognito_identity={"cognitoIdentityId": "i"},
                      trace_id="Root=1-x", headers={"X-Extra": "1", "Lambda-Runtime-Trace-Id": "T"})
    assert rid == "abc"
    api.enqueue(b"\x00\xff")
    conn = connect(api)
    conn.request("GET", NEXT)
    r = conn.getresponse()
    assert r.read() == b"raw text"
    assert r.getheader("Lambda-Runtime-Deadline-Ms") == "1234"
    assert json.loads(r.getheader("Lambda-Runtime-Client-Context")) == {"custom": {"a": 1}}
    assert json.loads(r.getheader("Lambda-Runtime-Cognito-Identity")) == {"cognitoIdentityId": "i"}
    assert r.getheader("Lambda-Runtime-Trace-Id") == "T"
    assert r.getheader("X-Extra") == "1"
    conn.request("GET", NEXT)
    assert conn.getresponse().read() == b"\x00\xff"
    with pytest.raises(ValueError):
        api.enqueue({}, request_id="abc")


def test_chunked_event_delivery(api):
    api.enqueue({"k": "v" * 10}, chunked=True, chunk_size=7)
    data, _ = raw(api, GET_NEXT, timeout=0.3)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Length" not in head
    event = json.dumps({"k": "v" * 10}).encode()
    assert body.startswith(b"7\r\n" + event[:7] + b"\r\n")
    assert body.endswith(b"0\r\n\r\n")
    api.enqueue([1, 2], chunked=True)
    conn = connect(api)
    conn.request("GET", NEXT)
    assert json.loads(conn.getresponse().read()) == [1, 2]   # http.client de-chunks it


def test_long_poll_blocks_until_enqueue(api):
    got = {}

    def poll():
        conn = connect(api, timeout=5)
        conn.request("GET", NEXT)
        r = conn.getresponse()
        got["body"] = r.read()
        got["at"] = time.monotonic()

    t = threading.Thread(target=poll)
    t.start()
    api.wait_for_next_poll(1, timeout=2)
    time.sleep(0.2)
    assert "body" not in got
    enqueued_at = time.monotonic()
    api.enqueue({"late": True})
    t.join(2)
    assert json.loads(got["body"]) == {"late": True}
    assert got["at"] - enqueued_at < 0.5


def test_stop_releases_long_poll():
    api = MockRuntimeAPI().start()
    result = {}

    def poll():
        try:
            data, closed = raw(api, GET_NEXT, timeout=3)
            result["v"] = (data, closed)
        except OSError as exc:
            result["v"] = (b"", True)

    t = threading.Thread(target=poll)
    t.start()
    api.wait_for_next_poll(1, timeout=2)
    start = time.monotonic()
    api.stop()
    t.join(3)
    assert result["v"] == (b"", True)
    assert time.monotonic() - start < 1.5


def test_dead_poller_does_not_swallow_event(api):
    host, port = api.address.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.sendall(GET_NEXT)
    api.wait_for_next_poll(1)
    sock.close()
    time.sleep(0.4)              # the mock notices the peer is gone
    rid = api.enqueue({})
    conn = connect(api)
    conn.request("GET", NEXT)
    r = conn.getresponse()
    r.read()
    assert r.getheader("Lambda-Runtime-Aws-Request-Id") == rid


# --------------------------------------------------------------------------- results

def test_chunked_response_with_trailers_arrives_incrementally(api):
    rid = api.enqueue({})
    host, port = api.address.rsplit(":", 1)
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"POST {resp_path(rid)} HTTP/1.1\r\nHost: x\r\n"
            "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
            "\r\n5\r\nhello\r\n".encode())
        time.sleep(0.15)
        sock.sendall(b"6;ext=1\r\n world\r\n")
        time.sleep(0.15)
        sock.sendall(b"0\r\nLambda-Runtime-Function-Error-Type: Function.Boom\r\n"
                     b"Lambda-Runtime-Function-Error-Body: eyJ4IjoxfQ==\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 202 ")
    res = api.wait_result(rid, 1)
    assert res.body == b"hello world" and res.streaming
    assert [c for _, c in res.chunks] == [b"hello", b" world"]
    assert res.chunks[1][0] - res.chunks[0][0] > 0.1
    assert res.trailers == {"lambda-runtime-function-error-type": "Function.Boom",
                            "lambda-runtime-function-error-body": "eyJ4IjoxfQ=="}


def test_400_403_413_and_error_types():
    with MockRuntimeAPI(response_limit=100) as api:
        rid = api.enqueue({})
        conn = connect(api)
        conn.request("POST", resp_path("nope"), body=b"{}")
        r = conn.getresponse()
        assert r.status == 400 and json.loads(r.read())["errorType"] == "InvalidRequestID"
        conn.request("POST", resp_path(rid), body=b"x" * 101)
        r = conn.getresponse()
        assert r.status == 413
        assert json.loads(r.read()) == {
            "errorMessage": "Exceeded maximum allowed payload size (100 bytes).",
            "errorType": "RequestEntityTooLarge"}
        assert api.state(rid) == "queued"          # 413 leaves it unanswered
        conn.request("POST", resp_path(rid, "error"), body=b'{"errorMessage":"m"}',
                     headers={"Lambda-Runtime-Function-Error-Type": "bad type"})
        r = conn.getresponse()
        assert r.status == 202 and r.read() == b'{"status":"OK"}'
        conn.request("POST", resp_path(rid), body=b"{}")
        r = conn.getresponse()
        assert r.status == 403 and json.loads(r.read())["errorType"] == "InvalidStateTransition"
        assert [x.status for x in api.results_for(rid)] == [413, 202, 403]
        assert api.wait_result(rid).status == 413
        accepted = api.wait_result(rid, accepted_only=True)
        assert (accepted.kind, accepted.error_type) == ("error", "Runtime.Unknown")
        assert api.wait_result("nope").status == 400
        assert api.pending == []
        conn.request("POST", "/2018-06-01/runtime/init/error", body=b'{"errorType":"X"}',
                     headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"})
        r = conn.getresponse()
        assert r.status == 202
        r.read()
        init = api.wait_init_error(1)
        assert init.error_type == "Runtime.ImportModuleError" and init.json() == {"errorType": "X"}
        conn.request("GET", "/nowhere")
        r = conn.getresponse()
        assert r.status == 404
        r.read()
        assert api.connections_accepted == 1


@pytest.mark.parametrize("size", [5, 3 * 1024 * 1024])
def test_response_body_not_kept_is_read_and_counted(api, size):
    """keep_response_body=False: the body is consumed (the pipelined request behind it is
    served), counted in body_size, checked against the limit, and not kept."""
    dropped = api.enqueue({}, keep_response_body=False)
    kept = api.enqueue({"n": 2})
    body = (b"%d" % size) * size
    body = body[:size]
    host, port = api.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        reader = sock.makefile("rb")
        sock.sendall(GET_NEXT)
        assert reader.readline().startswith(b"HTTP/1.1 200")
        length = 0
        while (line := reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reader.read(length)
        sock.sendall(post_raw(dropped, body) + GET_NEXT)   # the next GET right behind the body
        assert reader.readline().startswith(b"HTTP/1.1 202")
        while reader.readline() != b"\r\n":
            pass
        reader.read(len(b'{"status":"OK"}'))
        assert reader.readline().startswith(b"HTTP/1.1 200")
        res = api.wait_result(dropped, 5)
        assert (res.status, res.body, res.body_size, res.pipelined) == (202, b"", size, True)
        assert api.state(dropped) == "answered" and api.state(kept) == "delivered"
    too_big = MockRuntimeAPI(response_limit=size - 1)
    with too_big:
        rid = too_big.enqueue({}, keep_response_body=False)
        conn = connect(too_big)
        conn.request("POST", resp_path(rid), body=body)
        assert conn.getresponse().status == 413
        assert too_big.wait_result(rid).body_size == size


def test_wait_result_times_out(api):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        api.wait_result("missing", timeout=0.1)
    with pytest.raises(TimeoutError):
        api.wait_for_next_poll(1, timeout=0.1)
    assert time.monotonic() - start < 1


def test_malformed_request_gets_400_and_close(api):
    data, closed = raw(api, b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n")
    assert closed and data.startswith(b"HTTP/1.1 400 ")
    data, closed = raw(api, f"POST {resp_path('a')} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                            "\r\nzz\r\n".encode())
    assert closed and data.startswith(b"HTTP/1.1 400 ")


# --------------------------------------------------------------------------- extensions

def test_extension_register_next_shutdown(api):
    conn = connect(api)
    conn.request("POST", "/2020-01-01/extension/register", body=b'{"events":["SHUTDOWN"]}',
                 headers={"Lambda-Extension-Name": "internal"})
    r = conn.getresponse()
    body = json.loads(r.read())
    ident = r.getheader("Lambda-Extension-Identifier")
    assert r.status == 200 and ident and body["functionName"] == "mock-function"
    assert [(e.name, e.identifier, e.events) for e in api.extensions] == [
        ("internal", ident, ["SHUTDOWN"])]
    got = {}

    def poll():
        conn.request("GET", "/2020-01-01/extension/event/next",
                     headers={"Lambda-Extension-Identifier": ident})
        r = conn.getresponse()
        got["r"] = (r.status, json.loads(r.read()))

    t = threading.Thread(target=poll)
    t.start()
    api.wait_for_extension_poll(1)
    time.sleep(0.1)
    assert "r" not in got
    api.send_shutdown(reason="spindown", deadline_ms=42)
    t.join(2)
    assert got["r"] == (200, {"eventType": "SHUTDOWN", "shutdownReason": "spindown",
                              "deadlineMs": 42})
    conn.request("GET", "/2020-01-01/extension/event/next",
                 headers={"Lambda-Extension-Identifier": "bogus"})
    r = conn.getresponse()
    assert r.status == 403
    r.read()
    conn.request("POST", "/2020-01-01/extension/register", body=b"{}")
    r = conn.getresponse()
    assert r.status == 400


# --------------------------------------------------------------------------- faults


FAULT_CASES = [
    # fault, params, check(head+body bytes, closed, event body)
    (Fault.CLOSE_BEFORE_RESPONSE, {}, lambda d, c, ev: d == b"" and c),
    (Fault.CLOSE_MID_HEADERS, {"at": 10}, lambda d, c, ev: d == b"HTTP/1.1 2" and c),
    (Fault.CLOSE_MID_BODY, {}, lambda d, c, ev: c and d.endswith(b"\r\n\r\n" + ev[:len(ev) // 2])),
    (Fault.CLOSE_AFTER_RESPONSE, {}, lambda d, c, ev: c and d.endswith(b"\r\n\r\n" + ev)
     and b"Content-Length: %d\r\n" % len(ev) in d),
    (Fault.GARBAGE_STATUS_LINE, {}, lambda d, c, ev: d.startswith(b"HTTP/1.1 2x0 Garbage\r\n")),
    (Fault.GARBAGE_STATUS_LINE, {"line": b"SPAM\r\n"}, lambda d, c, ev: d.startswith(b"SPAM\r\nContent-Type")),
    (Fault.GARBAGE_HEADER_LINE, {}, lambda d, c, ev: d.startswith(
        b"HTTP/1.1 200 OK\r\nthis is not a header line\r\n")),
    (Fault.CONTENT_LENGTH_SHORT, {"by": 3}, lambda d, c, ev:
     b"Content-Length: %d\r\n" % (len(ev) - 3) in d and d.endswith(ev)),
    (Fault.CONTENT_LENGTH_LONG, {}, lambda d, c, ev:
     b"Content-Length: %d\r\n" % (len(ev) + 100) in d and d.endswith(ev)),
    (Fault.CONTENT_LENGTH_NEGATIVE, {}, lambda d, c, ev: b"\r\nContent-Length: -1\r\n" in d),
    (Fault.CONTENT_LENGTH_HUGE, {}, lambda d, c, ev:
     b"\r\nContent-Length: %d\r\n" % (2 ** 64 * 1000) in d),
    (Fault.CONTENT_LENGTH_INVALID, {}, lambda d, c, ev: b"\r\nContent-Length: 12abc\r\n" in d),
    (Fault.CONTENT_LENGTH_CONFLICT, {}, lambda d, c, ev:
     b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(ev), len(ev) + 1) in d),
    (Fault.CHUNK_SIZE_MALFORMED, {}, lambda d, c, ev:
     b"Transfer-Encoding: chunked\r\n" in d and d.endswith(b"\r\n\r\nzz\r\n" + ev + b"\r\n0\r\n\r\n")),
    (Fault.CHUNK_SIZE_OVERFLOW, {}, lambda d, c, ev: b"\r\n\r\n" + b"f" * 32 + b"\r\n" in d),
    (Fault.CHUNK_TRUNCATED, {}, lambda d, c, ev:
     d.endswith(b"\r\n\r\n%x\r\n" % len(ev) + ev[:len(ev) // 2])),
    (Fault.STATUS, {"status": 500}, lambda d, c, ev: d.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
     and b'"errorType":"MockFault"' in d and not c),
    (Fault.HOLD, {"seconds": 0.2}, lambda d, c, ev: d == b"" and c),
    (Fault.DELAY, {"seconds": 0.1}, lambda d, c, ev: d.endswith(ev) and not c),
    (Fault.SLOW_BYTES, {"delay": 0.0005, "step": 2}, lambda d, c, ev: d.endswith(ev) and not c),
    (Fault.LONG_HEADER, {"size": 5000}, lambda d, c, ev:
     b"\r\nX-Mock-Long: " + b"a" * (5000 - 13) + b"\r\n" in d and d.endswith(ev)),
    (Fault.MANY_HEADERS, {"count": 300}, lambda d, c, ev:
     d.count(b"\r\nX-Mock-") == 300 and d.endswith(ev)),
    (Fault.RAW, {"data": b"HTTP/1.0 204 No\r\n\r\n"}, lambda d, c, ev: d == b"HTTP/1.0 204 No\r\n\r\n" and c),
]


@pytest.mark.parametrize("fault,params,check", FAULT_CASES,
                         ids=[f"{c[0].name}-{i}" for i, c in enumerate(FAULT_CASES)])
def test_fault_on_next_bytes_and_event_kept(api, fault, params, check):
    event = {"payload": "x" * 40}
    rid = api.enqueue(event)
    inj = api.inject(fault, "next", **params)
    data, closed = raw(api, GET_NEXT, timeout=0.3)
    assert check(data, closed, json.dumps(event).encode()), data[:300]
    # the faulted request is recorded, and the event is still queued (default consume=False)
    (rec,) = inj.hits
    assert rec.kind == "next" and rec.fault == fault.value and not rec.delivered
    assert api.pending == [rid] and api.state(rid) == "queued"
    conn = connect(api)
    conn.request("GET", NEXT)
    r = conn.getresponse()
    assert r.getheader("Lambda-Runtime-Aws-Request-Id") == rid
    assert json.loads(r.read()) == event
    assert api.pending == []


def test_lying_fault_closes_after_linger(api):
    api.enqueue({"a": 1})
    api.inject(Fault.CONTENT_LENGTH_LONG, "next", linger=0.2)
    start = time.monotonic()
    data, closed = raw(api, GET_NEXT, timeout=3)
    assert closed and 0.15 < time.monotonic() - start < 1.5


def test_lying_fault_connection_still_serves_requests(api):
    rid = api.enqueue({"a": 1})
    api.inject(Fault.GARBAGE_HEADER_LINE, "next", consume=True)
    data, closed = raw(api, GET_NEXT + post_raw(rid, b"ok"), timeout=2)
    assert closed                      # linger expired after the POST
    assert b"HTTP/1.1 202 Accepted" in data
    assert api.wait_result(rid, 1).body == b"ok"


def test_consume_true_marks_delivered(api):
    rid = api.enqueue({})
    inj = api.inject(Fault.CLOSE_AFTER_RESPONSE, "next", consume=True)
    data, closed = raw(api, GET_NEXT)
    assert closed and data.endswith(b"{}")
    assert inj.hits[0].delivered and inj.hits[0].request_id == rid
    assert api.pending == [] and api.state(rid) == "delivered"


def test_fault_skip_and_times(api):
    rids = [api.enqueue({"i": i}) for i in range(4)]
    api.inject(Fault.STATUS, "next", skip=1, times=2, status=500)
    conn = connect(api)
    statuses = []
    for _ in range(4):
        conn.request("GET", NEXT)
        r = conn.getresponse()
        r.read()
        statuses.append((r.status, r.getheader("Lambda-Runtime-Aws-Request-Id")))
    assert statuses == [(200, rids[0]), (500, None), (500, None), (200, rids[1])]
    assert api.connections_accepted == 1


@pytest.mark.parametrize("status", [413, 400, 403, 500])
def test_status_fault_on_response_leaves_unanswered(api, status):
    rid = api.enqueue({})
    api.inject(Fault.STATUS, "response", status=status)
    conn = connect(api)
    conn.request("POST", resp_path(rid), body=b'{"r":1}')
    r = conn.getresponse()
    assert r.status == status
    r.read()
    res = api.wait_result(rid, 1)
    assert (res.status, res.fault, res.body) == (status, "status", b'{"r":1}')
    conn.request("POST", resp_path(rid), body=b'{"r":2}')   # retry on the same connection
    r = conn.getresponse()
    assert r.status == 202
    r.read()
    assert api.wait_result(rid, accepted_only=True).body == b'{"r":2}'


def test_close_before_reading_body(api):
    rid = api.enqueue({})
    inj = api.inject(Fault.CLOSE_BEFORE_RESPONSE, "response", read_body=False)
    data, closed = raw(api, post_raw(rid, b"x" * 100))
    assert (data, closed) == (b"", True)
    assert inj.hits[0].body == b"" and api.wait_result(rid, 1).fault == "close_before_response"


def test_hold_until_stop():
    api = MockRuntimeAPI().start()
    api.enqueue({})
    api.inject(Fault.HOLD, "next")
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("v", raw(api, GET_NEXT, timeout=3)))
    t.start()
    api.wait_for_next_poll(1)
    time.sleep(0.3)
    assert "v" not in result
    api.stop()
    t.join(3)
    assert result["v"] == (b"", True)


def test_slow_bytes_takes_time(api):
    api.enqueue(b"abc")
    api.inject(Fault.SLOW_BYTES, "next", delay=0.002)
    start = time.monotonic()
    conn = connect(api)
    conn.request("GET", NEXT)
    assert conn.getresponse().read() == b"abc"
    assert time.monotonic() - start > 0.2        # ~200 header bytes at 2 ms each


# --------------------------------------------------------------------------- throughput

def test_throughput_on_one_connection(api):
    n = 2000
    for i in range(n):
        api.enqueue(b'{"i":%d}' % i, request_id=str(i))
    conn = connect(api)
    start = time.monotonic()
    for i in range(n):
        conn.request("GET", NEXT)
        r = conn.getresponse()
        r.read()
        conn.request("POST", resp_path(str(i)), body=b"ok")
        r = conn.getresponse()
        r.read()
    elapsed = time.monotonic() - start
    assert len(api.results) == n and api.connections_accepted == 1
    assert n / elapsed > 500, f"{n / elapsed:.0f} invocations/s"


# --------------------------------------------------------------------------- smoke runner

FAKE_BOOTSTRAP = f"""#!{PYTHON}
import http.client, json, os, sys, time
mode = os.environ.get("FAKE_MODE", "echo")
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
print("starting", os.environ.get("_HANDLER"), os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
      file=sys.stderr, flush=True)
if mode == "init_error":
    conn.request("POST", "/2018-06-01/runtime/init/error", body=b'{{"errorType":"Runtime.ImportModuleError"}}',
                 headers={{"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}})
    conn.getresponse().read()
    sys.exit(1)
if mode == "die":
    print("fatal: boom", file=sys.stderr)
    sys.exit(7)
conn.request("GET", "/2018-06-01/runtime/invocation/next")
r = conn.getresponse()
event = json.loads(r.read())
rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
if mode == "hang":
    time.sleep(60)
what = "error" if mode == "error" else "response"
body = json.dumps({{"errorMessage": "bad", "errorType": "ValueError"}} if mode == "error"
                  else {{"got": event, "task_root": os.environ["LAMBDA_TASK_ROOT"],
                        "extra": os.environ.get("EXTRA")}})
conn.request("POST", f"/2018-06-01/runtime/invocation/{{rid}}/{{what}}", body=body)
conn.getresponse().read()
while True:
    conn.request("GET", "/2018-06-01/runtime/invocation/next")
    conn.getresponse().read()
"""


@pytest.fixture
def fake_bootstrap(tmp_path):
    path = tmp_path / "bootstrap"
    path.write_text(FAKE_BOOTSTRAP)
    path.chmod(0o755)
    return str(path)


def test_run_bootstrap_once_response(fake_bootstrap, tmp_path):
    res = run_bootstrap_once(fake_bootstrap, {"x": 1}, env={"EXTRA": "e"}, timeout=10,
                             handler="app.handler")
    assert res.kind == "response" and res.status == 202
    assert res.json() == {"got": {"x": 1}, "task_root": str(tmp_path), "extra": "e"}


def test_run_bootstrap_once_failures(fake_bootstrap):
    res = run_bootstrap_once(fake_bootstrap, {}, env={"FAKE_MODE": "init_error"}, timeout=10)
    assert res.kind == "init_error" and res.error_type == "Runtime.ImportModuleError"
    with pytest.raises(BootstrapDied) as info:
        run_bootstrap_once(fake_bootstrap, {}, env={"FAKE_MODE": "die"}, timeout=10)
    assert info.value.returncode == 7 and "fatal: boom" in info.value.stderr
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        run_bootstrap_once(fake_bootstrap, {}, env={"FAKE_MODE": "hang"}, timeout=0.5)
    assert time.monotonic() - start < 4


def test_cli(fake_bootstrap, tmp_path, capsys):
    event = tmp_path / "event.json"
    event.write_text('{"k": "v"}')
    assert main(["--bootstrap", fake_bootstrap, "--event", str(event), "--quiet",
                 "--env", "EXTRA=1"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["got"] == {"k": "v"} and json.loads(out)["extra"] == "1"
    assert main(["--bootstrap", fake_bootstrap, "--event", "{}", "--quiet",
                 "--env", "FAKE_MODE=error"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FUNCTION ERROR (Runtime.Unknown): ") and '"ValueError"' in out
    assert main(["--bootstrap", fake_bootstrap, "--quiet", "--env", "FAKE_MODE=die"]) == 3
    out = capsys.readouterr().out
    assert "BOOTSTRAP DIED (exit status 7)" in out and "fatal: boom" in out
    assert main(["--bootstrap", fake_bootstrap, "--quiet", "--env", "FAKE_MODE=init_error"]) == 2
    assert capsys.readouterr().out.startswith("INIT ERROR (Runtime.ImportModuleError): ")
