"""Fault suite: the compiled bootstrap against a Runtime API that misbehaves.

Every fault of devtools/mock_runtime_api.py is played on GET /next and/or on POST /response,
and the runtime must do what is documented for it (table below): go on (retrying once on
a fresh connection when the server dropped it before answering), post an error for the
invocation, or print a clear ``lambda-runtime: ...`` line on stderr and exit 1 (Lambda then
restarts the environment). Never a hang (every wait is bounded), never a crash (signal), and
no invocation that reached the handler left unreported: at the end each one was answered
(202) or the runtime named it on stderr before exiting.

Fault (endpoint)                               behaviour
---------------------------------------------  -------------------------------------------
close before response (/next, reused conn)     retry once on a new connection, served
close before response (/next, fresh conn)      stderr "the Runtime API closed ..." + exit 1
close before response (/response)              retry once on a new connection: 202
close mid-header / mid-body (/next)            stderr "unreadable answer ..." + exit 1
close mid-header / mid-body (/response)        stderr "invocation ID: ..." + exit 1
close after response (/next, /response)        served; next request reconnects
garbage status line / header line              stderr "unreadable answer ..." + exit 1
Content-Length short (/next)                   event truncated -> Runtime.UnmarshalError
                                               posted; stray bytes dropped by reconnecting
Content-Length short (/response)               202 taken; stray bytes dropped, goes on
Content-Length long / chunk truncated          waits, server closes -> stderr + exit 1
Content-Length negative/huge/invalid/conflict  stderr "invalid/conflicting ..." + exit 1
chunk size malformed / overflowing             stderr "malformed chunk size / overflows" + exit 1
/next 500                                      stderr "GET /runtime/invocation/next answered 500" + exit 1
/response 413                                  posts Function.ResponseSizeTooLarge, goes on
/response 400 / 403                            stderr "invocation ID: POST ... answered 4xx", goes on
/response 500                                  stderr "invocation ID: ... answered 500" + exit 1
accept and never answer (/next)                a long poll: waits; served once the server
                                               answers or closes (then reconnects)
accept and never answer (/response)            30 s post timeout -> stderr + exit 1
slow byte-at-a-time, delayed answer            served
unsafe request id (CR, LF, space, '/', ...)    stderr "refusing an invocation ...", goes on;
                                               never written into a request line

The tests of what a refused post means are portable: they also run against the runtime
under plain CPython (see conftest.py), in the unit tier.

Other bootstraps: LAMBDA_FAULTS_BOOTSTRAP=PATH runs the suite against another executable
(tests/cpython_bootstrap.py: plain CPython + extension modules; tests/valgrind_bootstrap.sh:
the same under valgrind memcheck) and LAMBDA_FAULTS_TIME_SCALE=N stretches every timeout.

Memory safety (valgrind memcheck over the runtime's Cython code, plain CPython):
    rm -rf /tmp/lambda-valgrind
    LAMBDA_NATIVE_EXT=build/test/ext LAMBDA_PYTHON=.test-venv/bin/python \
    LAMBDA_FAULTS_BOOTSTRAP=$PWD/tests/valgrind_bootstrap.sh LAMBDA_FAULTS_TIME_SCALE=15 \
      .test-venv/bin/python -m pytest tests/test_faults.py -q -k "not SLOW and not hold_times"
    sh tests/valgrind_summary.sh
(build/test/ext: the extension modules the native_modules fixture builds, e.g. by running
tests/test_fuzz_http.py first.)
"""

import os
import time
import uuid

import pytest

from conftest import wait_until
from devtools.mock_runtime_api import Fault

SCALE = float(os.environ.get("LAMBDA_FAULTS_TIME_SCALE", "1"))
OTHER_BOOTSTRAP = os.environ.get("LAMBDA_FAULTS_BOOTSTRAP")


def T(seconds):
    return seconds * SCALE


@pytest.fixture
def run(start_bootstrap):
    def start(handler="echo.handler", env=None, server=None):
        return start_bootstrap(handler=handler, env=env, server=server, bootstrap=OTHER_BOOTSTRAP)
    return start


def wait_exit(boot, timeout):
    """Waits for the process to end; returns (returncode, stderr)."""
    try:
        boot.wait(T(timeout))
    except Exception:
        boot.stop()
        _, err = boot.output() if boot.process.returncode is None else ("", "")
        pytest.fail("bootstrap still running after %s s (hang)" % T(timeout))
    out, err = boot.output()
    return boot.process.returncode, err


def assert_served(api, rid, timeout=10):
    res = api.wait_result(rid, T(timeout), accepted_only=True)
    assert res.status == 202
    return res


def assert_alive(boot):
    assert boot.process.poll() is None, boot.output()


def assert_clean_exit(boot, api, rids, timeout=10, expect=None):
    """Exit 1 with a lambda-runtime: stderr line; every invocation in rids (they reached
    the handler) is answered or named in that line (Lambda reports it as failed)."""
    rc, err = wait_exit(boot, timeout)
    assert rc == 1, (rc, err)
    lines = [line for line in err.splitlines() if line.startswith("lambda-runtime: ")]
    assert lines, err
    if expect:
        assert expect in err, err
    for rid in rids:
        state = api.state(rid)
        assert state in ("queued", "answered") or rid in err, (rid, state, err)
    return err


def served_then(api, boot):
    """One invocation served on a fresh connection: the next request reuses it."""
    rid = api.enqueue({"n": 0})
    assert_served(api, rid)
    return rid


# --------------------------------------------------------------------------- GET /next

NEXT_EXIT = [
    (Fault.CLOSE_MID_HEADERS, {}, "unreadable answer"),
    (Fault.CLOSE_MID_BODY, {}, "unreadable answer"),
    (Fault.GARBAGE_STATUS_LINE, {}, "malformed status"),
    (Fault.GARBAGE_STATUS_LINE, {"line": b"\x00\xff\r\n"}, "malformed status"),
    (Fault.GARBAGE_HEADER_LINE, {}, "malformed header line"),
    (Fault.CONTENT_LENGTH_LONG, {}, "unreadable answer"),
    (Fault.CONTENT_LENGTH_NEGATIVE, {}, "invalid Content-Length"),
    (Fault.CONTENT_LENGTH_HUGE, {}, "invalid Content-Length"),
    (Fault.CONTENT_LENGTH_INVALID, {}, "invalid Content-Length"),
    (Fault.CONTENT_LENGTH_CONFLICT, {}, "conflicting Content-Length"),
    (Fault.CHUNK_SIZE_MALFORMED, {}, "malformed chunk size"),
    (Fault.CHUNK_SIZE_OVERFLOW, {}, "chunk size overflows"),
    (Fault.CHUNK_TRUNCATED, {}, "unreadable answer"),
    (Fault.STATUS, {"status": 500}, "invocation/next answered 500"),
    (Fault.RAW, {"data": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}"}, "unreadable answer"),
    (Fault.LONG_HEADER, {"size": 2 * 1024 * 1024}, "response head exceeds"),
]


@pytest.mark.parametrize("fault,params,expect", NEXT_EXIT,
                         ids=[f.name.lower() + "-%d" % i for i, (f, p, _) in enumerate(NEXT_EXIT)])
@pytest.mark.parametrize("consume", [False, True], ids=["kept", "consumed"])
def test_next_fault_exits(run, api, fault, params, expect, consume):
    api.inject(fault, "next", skip=1, consume=consume, **params)
    boot = run()
    first = served_then(api, boot)
    rid = api.enqueue({"n": 1})
    assert_clean_exit(boot, api, [first], timeout=10, expect=expect)
    # the handler never ran for the faulted event: nothing was posted for it, and it is
    # still queued unless the server counted it as delivered
    assert api.results_for(rid) == []
    assert api.state(rid) == ("delivered" if consume else "queued")


NEXT_SERVED = [
    (Fault.CLOSE_BEFORE_RESPONSE, {}),
    (Fault.CLOSE_AFTER_RESPONSE, {}),
    (Fault.HOLD, {"seconds": 1.5}),
    (Fault.DELAY, {"seconds": 0.5}),
    (Fault.SLOW_BYTES, {"delay": 0.001}),
    (Fault.SLOW_BYTES, {"step": 7, "delay": 0.001}),
]


@pytest.mark.parametrize("fault,params", NEXT_SERVED,
                         ids=[f.name.lower() + ("-" + "-".join(map(str, p.values())) if p else "")
                              for f, p in NEXT_SERVED])
def test_next_fault_served(run, api, fault, params):
    api.inject(fault, "next", skip=1, **params)
    boot = run()
    served_then(api, boot)
    rid = api.enqueue({"n": 1, "pad": "p" * 300})
    res = assert_served(api, rid, timeout=15)
    assert res.json() == {"n": 1, "pad": "p" * 300}
    rid2 = api.enqueue({"n": 2})
    assert_served(api, rid2)
    assert_alive(boot)


def test_next_close_before_response_on_fresh_connection_exits(run, api):
    """A connection that fails before its first answer is not retried: Lambda restarts us.
    (Without the shutdown extension, whose registration would be the connection's first request.)"""
    api.inject(Fault.CLOSE_BEFORE_RESPONSE, "next")
    boot = run(env={"LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN": "0"})
    rid = api.enqueue({"n": 1})
    assert_clean_exit(boot, api, [rid], expect="closed the connection")
    assert api.state(rid) == "queued"


# The mock's CONTENT_LENGTH_* faults send the lying value next to the true one (so the
# runtime sees a conflict); a lone lying Content-Length is sent here with Fault.RAW.

def raw_answer(status, body, lengths, request_id=None):
    head = b"HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\n" % status
    if request_id:
        head += b"Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %d\r\n" % (
            request_id.encode(), int(time.time() * 1000) + 30000)
    head += b"".join(b"Content-Length: %s\r\n" % str(v).encode() for v in lengths)
    return head + b"\r\n" + body


LONE_LENGTHS = [
    ("long", lambda n: [n + 100], "closed after"),
    ("negative", lambda n: [-1], "invalid Content-Length"),
    ("huge", lambda n: [2 ** 64 * 1000], "invalid Content-Length"),
    ("over-limit", lambda n: [2 ** 40], "exceeds the"),
    ("invalid", lambda n: ["12abc"], "invalid Content-Length"),
    ("hex", lambda n: ["0x10"], "invalid Content-Length"),
    ("conflicting-list", lambda n: ["%d, %d" % (n, n + 1)], "conflicting Content-Length"),
    ("conflicting", lambda n: [n, n + 1], "conflicting Content-Length"),
]


@pytest.mark.parametrize("name,lengths,expect", LONE_LENGTHS, ids=[c[0] for c in LONE_LENGTHS])
@pytest.mark.parametrize("endpoint", ["next", "response"])
def test_lone_content_length_lie_exits(run, api, name, lengths, expect, endpoint):
    rid = str(uuid.uuid4())
    if endpoint == "next":
        body = b'{"n": 1}'
        api.inject(Fault.RAW, "next", skip=1, data=raw_answer(200, body, lengths(len(body)), rid),
                   then="linger")
    else:
        body = b'{"status":"OK"}'
        api.inject(Fault.RAW, "response", skip=1, data=raw_answer(202, body, lengths(len(body))),
                   then="linger", consume=True)
    boot = run()
    first = served_then(api, boot)
    api.enqueue({"n": 1}, request_id=rid)
    if endpoint == "next":
        assert_clean_exit(boot, api, [first], expect=expect)
        assert api.results_for(rid) == []
    else:
        assert_clean_exit(boot, api, [first, rid], expect=expect)
        assert api.state(rid) == "answered"


def test_repeated_equal_content_length_accepted(run, api):
    rid = str(uuid.uuid4())
    body = b'{"n": 1}'
    api.inject(Fault.RAW, "next", data=raw_answer(200, body, [8, "8, 8"], rid), then="keep")
    boot = run()
    api.enqueue({"n": 1}, request_id=rid)
    assert assert_served(api, rid).json() == {"n": 1}
    assert_alive(boot)


def test_next_content_length_short(run, api):
    """The event is cut at the lying length: it does not decode, the runtime posts
    Runtime.UnmarshalError for it, drops the stray bytes (reconnects) and goes on."""
    rid = str(uuid.uuid4())
    body = b'{"n": 1, "pad": "%s"}' % (b"p" * 100)
    # Queued first: the raw answer names it without taking it from the queue, so the
    # runtime's error for it always finds it delivered-or-queued (never "unknown id").
    api.enqueue({"n": 1, "pad": "p" * 100}, request_id=rid)
    api.inject(Fault.RAW, "next", data=raw_answer(200, body, [len(body) - 50], rid), then="keep")
    boot = run()
    res = assert_served(api, rid)
    assert res.kind == "error" and res.error_type == "Runtime.UnmarshalError"
    rid2 = api.enqueue({"n": 2})
    assert assert_served(api, rid2).json() == {"n": 2}
    assert_alive(boot)


def test_next_hold_is_a_long_poll(run, api):
    """A server that accepts /next and says nothing: the runtime waits (no timeout on a
    long poll), without spinning, and serves the event the server finally closes over."""
    api.inject(Fault.HOLD, "next", skip=1, seconds=3)
    boot = run()
    served_then(api, boot)
    api.wait_for_next_poll(2, T(5))
    cpu0 = _cpu_seconds(boot.process.pid)
    time.sleep(2)
    assert _cpu_seconds(boot.process.pid) - cpu0 < 0.2 * SCALE
    rid = api.enqueue({"n": 1})
    assert_served(api, rid, timeout=10)
    assert_alive(boot)


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- POST /response

RESPONSE_EXIT = [
    (Fault.CLOSE_MID_HEADERS, {}),
    (Fault.CLOSE_MID_BODY, {}),
    (Fault.GARBAGE_STATUS_LINE, {}),
    (Fault.GARBAGE_HEADER_LINE, {}),
    (Fault.CONTENT_LENGTH_LONG, {}),
    (Fault.CONTENT_LENGTH_NEGATIVE, {}),
    (Fault.CONTENT_LENGTH_HUGE, {}),
    (Fault.CONTENT_LENGTH_INVALID, {}),
    (Fault.CONTENT_LENGTH_CONFLICT, {}),
    (Fault.CHUNK_SIZE_MALFORMED, {}),
    (Fault.CHUNK_SIZE_OVERFLOW, {}),
    (Fault.CHUNK_TRUNCATED, {}),
    (Fault.STATUS, {"status": 500}),
    (Fault.STATUS, {"status": 502, "body": b"<html>bad gateway</html>"}),
]


# A status fault is the whole answer: "consumed" (answered, then corrupted) does not apply to it.
RESPONSE_EXIT_CASES = [(f, p, consume) for f, p in RESPONSE_EXIT for consume in (False, True)
                       if not (f is Fault.STATUS and consume)]


@pytest.mark.portable
@pytest.mark.parametrize("fault,params,consume", RESPONSE_EXIT_CASES,
                         ids=[f.name.lower() + ("-%s" % p["status"] if p else "") + ("-consumed" if c else "-kept")
                              for f, p, c in RESPONSE_EXIT_CASES])
def test_response_fault_exits(run, api, fault, params, consume):
    api.inject(fault, "response", consume=consume, **params)
    boot = run()
    rid = api.enqueue({"n": 1})
    err = assert_clean_exit(boot, api, [rid], timeout=10)
    assert api.results_for(rid), "the handler's result was never posted"
    if not consume:
        assert rid in err


@pytest.mark.parametrize("fault", [Fault.CLOSE_BEFORE_RESPONSE, Fault.CLOSE_AFTER_RESPONSE,
                                   Fault.SLOW_BYTES, Fault.DELAY])
def test_response_fault_served(run, api, fault):
    consume = fault is not Fault.CLOSE_BEFORE_RESPONSE
    api.inject(fault, "response", consume=consume,
               **({"delay": 0.001} if fault is Fault.SLOW_BYTES else {}))
    boot = run()
    rid = api.enqueue({"n": 1})
    res = assert_served(api, rid)
    assert res.json() == {"n": 1}
    rid2 = api.enqueue({"n": 2})
    assert_served(api, rid2)
    assert_alive(boot)
    assert all(api.state(r) == "answered" for r in (rid, rid2))


def test_response_content_length_short(run, api):
    """A 202 whose Content-Length is short: taken as 202; the stray bytes are dropped
    (the next request opens a new connection) and the runtime goes on."""
    api.inject(Fault.RAW, "response", data=raw_answer(202, b'{"status":"OK"}', [5]),
               then="keep", consume=True)
    boot = run()
    rid = api.enqueue({"n": 1})
    api.wait_result(rid, T(10))
    rid2 = api.enqueue({"n": 2})
    assert_served(api, rid2)
    assert_alive(boot)
    assert api.state(rid) == "answered"


@pytest.mark.portable
def test_response_413_posts_size_error(run, api):
    api.inject(Fault.STATUS, "response", status=413)
    boot = run()
    rid = api.enqueue({"n": 1})
    res = assert_served(api, rid)
    assert res.kind == "error" and res.error_type == "Function.ResponseSizeTooLarge"
    # The refused response had a GET /next pipelined behind it, which Lambda answers only
    # once this invocation has its error: the error goes on a connection of its own.
    # The mock records a result after writing its answer: the refused response may be
    # recorded after the error it led to.
    wait_until(lambda: any(r.kind == "response" for r in api.results_for(rid)))
    refused = next(r for r in api.results_for(rid) if r.kind == "response")
    assert refused.status == 413 and refused.pipelined
    assert res.conn_id != refused.conn_id
    assert_served(api, api.enqueue({"n": 2}))
    assert_alive(boot)


@pytest.mark.portable
@pytest.mark.parametrize("status", [400, 403])
def test_response_4xx_logged_and_goes_on(run, api, status):
    api.inject(Fault.STATUS, "response", status=status)
    boot = run()
    rid = api.enqueue({"n": 1})
    api.wait_result(rid, T(10))
    rid2 = api.enqueue({"n": 2})
    assert_served(api, rid2)
    assert_alive(boot)
    boot.stop()
    _, err = boot.output()
    assert "lambda-runtime: invocation %s: POST invocation/%s/response answered %d" % (rid, rid, status) in err


@pytest.mark.portable
def test_error_post_500_exits(run, api):
    api.inject(Fault.STATUS, "error", status=500)
    boot = run(handler="failing.value_error")
    rid = api.enqueue({"n": 1})
    err = assert_clean_exit(boot, api, [rid])
    assert "answered 500" in err


def test_response_hold_times_out(run, api):
    """A /response that is accepted and never answered: the 30 s post timeout, then exit."""
    api.inject(Fault.HOLD, "response")
    boot = run()
    rid = api.enqueue({"n": 1})
    err = assert_clean_exit(boot, api, [rid], timeout=45, expect="did not answer within 30000 ms")
    assert rid in err


# --------------------------------------------------------------------------- request ids

UNSAFE_IDS = ["a\rb", "a\nb", "a b", "a/b", "../../init/error", "a\tb", "x" * 200, "\u00e9t\u00e9",
              "a?b", "a%2Fb"]


def test_unsafe_request_ids_refused(run, api):
    boot = run()
    bad = [api.enqueue({"n": i}, request_id=rid) for i, rid in enumerate(UNSAFE_IDS)]
    good = api.enqueue({"n": "good"})
    assert_served(api, good)
    assert_alive(boot)
    boot.stop()
    _, err = boot.output()
    assert err.count("lambda-runtime: refusing an invocation with an unsafe request id") == len(bad)
    for req in api.requests:
        if req.kind in ("response", "error"):
            assert req.request_id == good, req.path
        for rid in bad:
            assert rid not in req.raw_head.decode("latin-1")
        assert b"\r\n\r\n" == req.raw_head[-4:] and req.raw_head.count(b"\r\n\r\n") == 1


def test_request_id_with_crlf_never_echoed(run, api):
    """CRLF in the id splits the header on the wire: what arrives is "x" plus a stray
    header; the runtime answers "x" (unknown id -> 400, logged) and never writes the rest."""
    boot = run()
    rid = api.enqueue({"n": 1}, request_id="x\r\nX-Injected: 1")
    api.wait_for_next_poll(1, T(5))
    good = api.enqueue({"n": 2})
    assert_served(api, good)
    assert_alive(boot)
    for req in api.requests:
        assert b"X-Injected" not in req.raw_head
    assert api.state(rid) == "delivered"   # unanswerable: the mock sees id "x" as unknown


# --------------------------------------------------------------------------- limits

SIX_MB = 6 * 1024 * 1024


def _size_event(total):
    """A JSON event of exactly `total` bytes: {"data": "ab...z"}."""
    n = total - len(b'{"data": ""}')
    data = ("abcdefghijklmnopqrstuvwxyz" * (n // 26 + 1))[:n]
    body = ('{"data": "%s"}' % data).encode()
    assert len(body) == total
    return body, data


@pytest.mark.parametrize("total", [SIX_MB, SIX_MB + 1], ids=["6MiB", "6MiB+1"])
def test_event_at_limit(run, api, total):
    body, data = _size_event(total)
    boot = run(handler="echo.size")
    rid = api.enqueue(body)
    res = assert_served(api, rid, timeout=30)
    assert res.json() == {"length": len(data), "checksum": sum(data.encode()) % 4294967296,
                          "head": data[:32], "tail": data[-32:]}
    assert_alive(boot)


def test_response_at_limit_and_over(run, api):
    boot = run(handler="echo.big_response")
    limit = api.response_limit
    ok = api.enqueue({"length": limit - 2})          # JSON string: length + 2 quotes
    res = assert_served(api, ok, timeout=30)
    assert res.kind == "response" and len(res.body) == limit
    over = api.enqueue({"length": limit - 1})
    res = assert_served(api, over, timeout=30)
    assert res.kind == "error" and res.error_type == "Function.ResponseSizeTooLarge"
    assert b"exceeded maximum allowed payload size" in res.body
    assert_served(api, api.enqueue({"length": 3}))
    assert_alive(boot)


@pytest.mark.parametrize("fault,params", [(Fault.MANY_HEADERS, {"count": 10000}),
                                          (Fault.LONG_HEADER, {"size": 65536})],
                         ids=["10000-headers", "64KiB-header-line"])
def test_big_heads_on_next(run, api, fault, params):
    api.inject(fault, "next", **params)
    boot = run()
    rid = api.enqueue({"n": 1})
    assert assert_served(api, rid).json() == {"n": 1}
    assert_served(api, api.enqueue({"n": 2}))
    assert_alive(boot)


# --------------------------------------------------------------------------- idle

def test_SLOW_next_idle_30s(run, api):
    """SLOW (30 s, the only one): /next held idle for 30 s, then an invocation is served.
    The 10-minute form: python tests/soak.py --idle 600"""
    boot = run()
    served_then(api, boot)
    api.wait_for_next_poll(2, T(5))
    time.sleep(30)
    assert_alive(boot)
    rid = api.enqueue({"after": "idle"})
    assert assert_served(api, rid).json() == {"after": "idle"}


def test_trace_id_per_invocation_in_environ(run, api):
    """_X_AMZN_TRACE_ID follows each invocation (set in os.environ's mapping: no setenv(),
    whose replaced values glibc never frees -- the soak's RSS drift)."""
    run(handler="echo.context_fields")
    for trace in ("Root=1-a;Parent=b;Sampled=0", "Root=1-c;Parent=d;Sampled=1"):
        rid = api.enqueue({}, trace_id=trace)
        assert assert_served(api, rid).json()["trace_id"] == trace
