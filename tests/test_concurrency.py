"""AWS_LAMBDA_MAX_CONCURRENCY=N: a supervisor forks N workers after importing the handler."""

import json
import os
import signal
import subprocess
import time

import pytest

from conftest import RunningBootstrap, wait_until
from devtools.mock_runtime_api import lambda_env

N = 4


def _children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return sorted(found)


def _kib(pid, path, field):
    try:
        with open("/proc/%d/%s" % (pid, path)) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _start(start_bootstrap, tmp_path, handler, **env):
    env = dict({"AWS_LAMBDA_MAX_CONCURRENCY": str(N), "LIFECYCLE_MARKER": str(tmp_path / "marker")},
               **env)
    return start_bootstrap(handler=handler, env=env)


def _stop(running):
    running.process.send_signal(signal.SIGTERM)
    status = running.wait(10)
    out, err = running.output()
    return status, out, err


def test_n_invocations_at_once(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.sleep")
    api.wait_for_next_poll(N)
    workers = _children(running.process.pid)
    assert len(workers) == N
    started = time.monotonic()
    rids = [api.enqueue({"seconds": 0.5}) for _ in range(8)]
    results = [json.loads(api.wait_result(rid).body) for rid in rids]
    elapsed = time.monotonic() - started
    print("8 invocations of 0.5 s with N=%d: %.3f s" % (N, elapsed))
    assert elapsed < 1.5
    assert {r["pid"] for r in results} <= set(workers)
    assert [r["request_id"] for r in results] == rids
    status, _, err = _stop(running)
    assert status == 0, err
    with open(tmp_path / "marker") as f:
        marks = [line.split()[:2] for line in f]
    # every worker ran its hook and atexit handler; the supervisor ran neither
    assert sorted(int(pid) for what, pid in marks if what == "hook") == workers
    assert sorted(int(pid) for what, pid in marks if what == "atexit") == workers


def test_per_worker_state_is_independent(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.count")
    api.wait_for_next_poll(N)
    counts = {}
    rids = [api.enqueue({}) for _ in range(24)]
    for rid in rids:
        answer = json.loads(api.wait_result(rid).body)
        counts.setdefault(answer["pid"], []).append(answer["count"])
    print("calls per worker:", {pid: len(c) for pid, c in counts.items()})
    assert set(counts) <= set(_children(running.process.pid))
    for pid, seen in counts.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), (pid, seen)
    assert sum(len(c) for c in counts.values()) == 24
    assert _stop(running)[0] == 0


def test_memory_is_shared_copy_on_write(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.touch")
    api.wait_for_next_poll(N)
    rids = [api.enqueue({}) for _ in range(4 * N)]
    for rid in rids:
        assert api.wait_result(rid).status == 202
    supervisor = running.process.pid
    workers = _children(supervisor)
    assert len(workers) == N
    tree = [supervisor] + workers
    rss = {pid: _kib(pid, "status", "VmRSS") for pid in tree}
    pss = {pid: _kib(pid, "smaps_rollup", "Pss") for pid in tree}
    one_worker = max(rss[pid] for pid in workers)
    tree_rss = sum(rss.values())
    print("one worker VmRSS %d KiB; tree (supervisor + %d workers) VmRSS sum %d KiB"
          % (one_worker, N, tree_rss))
    if all(v is not None for v in pss.values()):
        tree_pss = sum(pss.values())
        print("tree PSS %d KiB = %.2f x one worker's RSS (N x = %d KiB)"
              % (tree_pss, tree_pss / one_worker, N * one_worker))
        assert tree_pss < 0.5 * N * one_worker
    assert one_worker > 32 * 1024  # the 32 MiB ballast is resident in every worker ...
    assert _stop(running)[0] == 0


def test_a_killed_worker_is_replaced(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.sleep")
    api.wait_for_next_poll(N)
    before = _children(running.process.pid)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    after = wait_until(lambda: (lambda c: c if len(c) == N and victim not in c else None)(
        _children(running.process.pid)))
    replacement = (set(after) - set(before)).pop()
    wait_until(lambda: api.next_calls >= N + 1)
    rids = [api.enqueue({"seconds": 0.2}) for _ in range(2 * N)]
    pids = {json.loads(api.wait_result(rid).body)["pid"] for rid in rids}
    assert pids <= set(after)
    status, _, err = _stop(running)
    assert status == 0, err
    assert "worker %d was killed by SIGKILL; replaced by worker %d" % (victim, replacement) in err


def test_workers_that_keep_dying_end_the_runtime(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.sleep")
    api.wait_for_next_poll(N)
    for _ in range(10):
        for pid in _children(running.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if running.process.poll() is not None:
            break
        time.sleep(0.05)
    assert running.wait(5) == 1
    _, err = running.output()
    assert "giving up" in err


# -- the init's heap made immortal before the fork (native/immortal.pxd) -----------------------
# Managed Instances run CPython 3.13+ (the 3.13 build of tests/target_handlers); 3.11 has no
# immortal objects, and there the init's objects stay ordinary ones.

IMMORTAL = 2 ** 31


@pytest.fixture
def start_py313(py313_build, api):
    """start_py313(handler, concurrency) -> RunningBootstrap: the 3.13 bootstrap against `api`."""
    started = []

    def start(handler, concurrency=N):
        env = {"AWS_LAMBDA_MAX_CONCURRENCY": str(concurrency)} if concurrency else {}
        process = subprocess.Popen([py313_build.bootstrap],
                                   env=lambda_env(py313_build.bootstrap, api.address, handler=handler, env=env),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(RunningBootstrap(process, api))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def test_init_objects_are_immortal_in_a_3_13_worker_but_what_must_be_freed(api, start_py313):
    running = start_py313("managed.state")
    api.wait_for_next_poll(N)
    workers = _children(running.process.pid)
    answers = [json.loads(api.wait_result(rid).body) for rid in [api.enqueue({}) for _ in range(2 * N)]]
    assert {a["pid"] for a in answers} <= set(workers)
    for answer in answers:
        assert answer["version_info"] == [3, 13]
        assert answer["immortal"] == {"plain": True, "class": True, "function": True, "module": True,
                                      "del": False, "finalize": False, "weak value": False, "view": False,
                                      "file": False}, answer
        assert answer["events"] == []
    assert _stop(running)[0] == 0


def test_without_concurrency_nothing_is_made_immortal(api, start_py313):
    start_py313("managed.state", concurrency=None)
    answer = json.loads(api.wait_result(api.enqueue({})).body)
    assert answer["version_info"] == [3, 13]
    assert not any(answer["immortal"].values()), answer


def test_a_3_13_worker_still_finalizes_what_the_init_made_and_it_drops(api, start_py313):
    running = start_py313("managed.drop")
    api.wait_for_next_poll(N)
    answers = [json.loads(api.wait_result(rid).body) for rid in [api.enqueue({}) for _ in range(N)]]
    for answer in answers:  # each worker drops its own copy
        assert answer["events"] == ["__del__", "finalize"], answer
        assert answer["file_closed"] and answer["weak value gone"] and answer["buffer resizable"], answer
    assert _stop(running)[0] == 0


def test_3_13_workers_answer_correctly(api, start_py313):
    running = start_py313("app.echo")
    api.wait_for_next_poll(N)
    events = [{"n": i, "text": "é" * i, "items": list(range(i))} for i in range(8 * N)]
    rids = [api.enqueue(event) for event in events]
    assert [json.loads(api.wait_result(rid).body) for rid in rids] == events
    assert _stop(running)[0] == 0


def test_init_objects_stay_ordinary_on_3_11(api, start_bootstrap, tmp_path):
    running = _start(start_bootstrap, tmp_path, "lifecycle.refcount")
    api.wait_for_next_poll(N)
    for rid in [api.enqueue({}) for _ in range(N)]:
        answer = json.loads(api.wait_result(rid).body)
        assert answer["version_info"] == [3, 11]
        assert 0 < answer["refcount"] < 100, answer  # Nuitka passes the global borrowed: 1
    assert _stop(running)[0] == 0

