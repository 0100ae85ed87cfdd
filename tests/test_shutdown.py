"""Graceful shutdown: the runtime registers a no-op internal extension so that Lambda sends
it SIGTERM, and on SIGTERM runs the on_shutdown hooks and atexit handlers, then exits 0.
It registers only when the init left something to run at shutdown (a hook or an atexit
handler), or when LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN=1 forces it."""

import json
import os
import signal
import time

from conftest import wait_until


def _start(start_bootstrap, tmp_path, handler="lifecycle.sleep", **env):
    marker = str(tmp_path / "marker")
    env = dict({"LIFECYCLE_MARKER": marker}, **env)
    return start_bootstrap(handler=handler, env=env), marker


def _marks(marker):
    if not os.path.exists(marker):
        return []
    with open(marker) as f:
        return [line.split()[0] for line in f]


def test_registers_an_internal_extension(api, start_bootstrap, tmp_path):
    running, _ = _start(start_bootstrap, tmp_path)
    api.wait_for_next_poll(1)
    assert len(api.extensions) == 1
    extension = api.extensions[0]
    assert extension.name == "lambda-native-python"
    assert extension.events == []  # internal extensions may not subscribe to SHUTDOWN
    api.wait_for_extension_poll(1)  # its long poll is open, on its own connection
    rid = api.enqueue({"seconds": 0})
    assert api.wait_result(rid).status == 202
    assert running.process.poll() is None


def test_sigterm_while_idle_runs_hooks_and_exits_0_in_time(api, start_bootstrap, tmp_path):
    running, marker = _start(start_bootstrap, tmp_path)
    api.wait_for_next_poll(1)
    rid = api.enqueue({"seconds": 0})
    assert api.wait_result(rid).status == 202
    api.wait_for_next_poll(2)  # blocked in GET /next again
    time.sleep(0.05)
    sent = time.monotonic()
    running.process.send_signal(signal.SIGTERM)
    status = running.wait(2)
    elapsed = time.monotonic() - sent
    print("SIGTERM while idle -> exit %d in %.1f ms" % (status, elapsed * 1000))
    assert status == 0, running.output()
    assert elapsed < 0.5
    assert _marks(marker) == ["hook", "atexit"]


def test_sigterm_during_an_invocation_lets_it_finish(api, start_bootstrap, tmp_path):
    running, marker = _start(start_bootstrap, tmp_path)
    api.wait_for_next_poll(1)
    rid = api.enqueue({"seconds": 1})
    wait_until(lambda: api.state(rid) == "delivered")
    time.sleep(0.2)
    sent = time.monotonic()
    running.process.send_signal(signal.SIGTERM)
    status = running.wait(5)
    elapsed = time.monotonic() - sent
    result = api.wait_result(rid, timeout=1)
    print("SIGTERM 0.2 s into a 1 s invocation -> result posted, exit %d after %.1f ms"
          % (status, elapsed * 1000))
    assert status == 0, running.output()
    assert result.status == 202 and result.kind == "response"
    assert json.loads(result.body)["slept"] == 1
    assert result.received_at <= time.monotonic()
    assert elapsed >= 0.7  # it waited for the invocation
    assert _marks(marker) == ["hook", "atexit"]
    assert api.next_calls == 1  # no GET /next after the result


def test_sigterm_during_an_invocation_of_compiled_code(api, start_bootstrap, tmp_path):
    """echo.sleep from the brief: the result is posted before the exit."""
    running, _ = _start(start_bootstrap, tmp_path, handler="echo.sleep", LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN="1")
    api.wait_for_next_poll(1)
    rid = api.enqueue({"seconds": 1})
    wait_until(lambda: api.state(rid) == "delivered")
    time.sleep(0.1)
    running.process.send_signal(signal.SIGTERM)
    assert running.wait(5) == 0
    assert api.wait_result(rid, timeout=1).status == 202


def test_repeated_sigterm_while_idle(api, start_bootstrap, tmp_path):
    """A second SIGTERM during the hooks does not interrupt them."""
    running, marker = _start(start_bootstrap, tmp_path)
    api.wait_for_next_poll(1)
    for _ in range(3):
        running.process.send_signal(signal.SIGTERM)
    assert running.wait(2) == 0
    assert _marks(marker) == ["hook", "atexit"]


def test_opt_out(api, start_bootstrap, tmp_path):
    running, marker = _start(start_bootstrap, tmp_path, LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN="0")
    api.wait_for_next_poll(1)
    assert api.extensions == []
    running.process.send_signal(signal.SIGTERM)
    assert running.wait(2) == -signal.SIGTERM
    assert _marks(marker) == []


def test_sigterm_during_a_burst_loses_no_delivered_invocation(start_bootstrap, tmp_path):
    """SIGTERM at random moments while queued events are served back to back: every
    invocation the runtime was handed is answered before it exits (none 'delivered' only)."""
    import random

    from devtools.mock_runtime_api import MockRuntimeAPI

    rng = random.Random(7)
    for _ in range(60):  # a signal whose wakeup byte was drained beside an answer hung ~1 in 40
        with MockRuntimeAPI() as server:
            running = start_bootstrap(handler="echo.handler", server=server,
                                      env={"LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN": "1"})
            server.wait_for_next_poll(1)
            rids = [server.enqueue({"i": i}) for i in range(200)]
            time.sleep(rng.uniform(0, 0.03))
            running.process.send_signal(signal.SIGTERM)
            assert running.wait(5) == 0
            states = [server.state(rid) for rid in rids]
            assert states.count("delivered") == 0, states


def test_registration_shares_the_first_connection_with_get_next(api, start_bootstrap, tmp_path):
    """The registration and the first GET /next go out together on the runtime's connection
    (pipelined): no extra round trip or connection on the cold-start path."""
    _start(start_bootstrap, tmp_path)
    api.wait_for_next_poll(1)
    first, second = api.requests[0], api.requests[1]
    assert first.path == "/2020-01-01/extension/register"
    assert second.path == "/2018-06-01/runtime/invocation/next"
    assert first.conn_id == second.conn_id
    rid = api.enqueue({"seconds": 0})
    assert api.wait_result(rid).status == 202


def test_no_registration_when_nothing_would_run_at_shutdown(api, start_bootstrap):
    """echo.py registers no hook and no atexit handler: no extension, no second connection,
    and SIGTERM keeps its default action (Lambda would not send one anyway)."""
    running = start_bootstrap(handler="echo.handler")
    api.wait_for_next_poll(1)
    rid = api.enqueue({"x": 1})
    assert api.wait_result(rid).status == 202
    assert api.extensions == []
    assert [r.path for r in api.requests][0] == "/2018-06-01/runtime/invocation/next"
    assert len({r.conn_id for r in api.requests}) == 1
    running.process.send_signal(signal.SIGTERM)
    assert running.wait(2) == -signal.SIGTERM


def test_an_atexit_handler_alone_turns_registration_on(api, start_bootstrap, tmp_path):
    marker = str(tmp_path / "marker")
    running = start_bootstrap(handler="atexit_only.handler", env={"LIFECYCLE_MARKER": marker})
    api.wait_for_next_poll(1)
    assert [e.name for e in api.extensions] == ["lambda-native-python"]
    rid = api.enqueue({"x": 1})
    assert api.wait_result(rid).status == 202
    running.process.send_signal(signal.SIGTERM)
    assert running.wait(2) == 0, running.output()
    assert _marks(marker) == ["atexit"]


def test_forced_on_without_hooks(api, start_bootstrap):
    running = start_bootstrap(handler="echo.handler", env={"LAMBDA_RUNTIME_GRACEFUL_SHUTDOWN": "1"})
    api.wait_for_next_poll(1)
    assert [e.name for e in api.extensions] == ["lambda-native-python"]
    running.process.send_signal(signal.SIGTERM)
    assert running.wait(2) == 0, running.output()
