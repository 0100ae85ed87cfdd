"""runtime.pyx's Lifecycle: what a SIGTERM means, by the state the process is in (the
states reachable from Python; a SIGTERM during an invocation is tested end to end in
test_shutdown.py)."""

import pytest


@pytest.fixture
def lifecycle(native_modules):
    import _lambda_runtime

    return _lambda_runtime.Lifecycle()


def test_sigterm_when_idle_stops_at_once_and_only_once(lifecycle):
    assert not lifecycle.stop_requested and not lifecycle.invocation_active
    assert lifecycle.stop() is True      # raise Shutdown now
    assert lifecycle.stop_requested
    assert lifecycle.stop() is False     # stopping: a second SIGTERM changes nothing


def test_a_forked_worker_starts_idle_again(lifecycle):
    lifecycle.stop()
    lifecycle.reset()
    assert not lifecycle.stop_requested
    assert lifecycle.stop() is True
