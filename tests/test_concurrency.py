"""AWS_LAMBDA_MAX_CONCURRENCY=N: a supervisor forks N workers after importing the handler."""

import json
import os
import signal
import time

from conftest import wait_until

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
