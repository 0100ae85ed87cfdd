#!/usr/bin/env python3
"""Soak: one bootstrap through many invocations (a mix of sizes and errors), sampling its
RSS (/proc/PID/status VmRSS) and open fds (/proc/PID/fd) at invocation 1,000 and at the end.

    python tests/soak.py --invocations 100000            # the long form (issue 8)
    python tests/soak.py --idle 600                      # /next held idle 10 min, then served
    python tests/soak.py --bootstrap PATH ...            # default: LAMBDA_TEST_DIST or build/test/dist

Mix per 100 invocations: 80 small JSON echoes, 10 of 16 KiB, 4 of 256 KiB, 5 invalid JSON
(-> Runtime.UnmarshalError posted to /error), 1 chunked event. Prints one line per sample
and a final "drift" line; exits 1 if RSS drift > --max-rss-drift-kib (1024) or fds grew.
"""
import argparse
import json
import os
import sys
import time

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, ROOT)

from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env  # noqa: E402


def default_bootstrap():
    dist = os.environ.get("LAMBDA_TEST_DIST") or os.path.join(ROOT, "build", "test", "dist")
    return os.path.join(dist, "function", "bootstrap")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def sample(pid):
    return {"rss_kib": rss_kib(pid), "fds": fd_count(pid)}


SMALL = {"n": 1, "s": "small event"}
MEDIUM = {"data": "m" * 16384}
LARGE = {"data": "L" * 262144}


def event_for(i):
    k = i % 100
    if k < 5:
        return b'{"broken": ', False
    if k == 5:
        return SMALL, True
    if k < 16:
        return MEDIUM, False
    if k < 20:
        return LARGE, False
    return SMALL, False


def run_soak(bootstrap, invocations, idle=0.0, warmup=1000, quiet=False, window=1):
    """Returns a dict with samples and drift; raises on a lost invocation or a dead process."""
    import subprocess
    with MockRuntimeAPI() as api:
        env = lambda_env(bootstrap, api.address, handler="echo.handler")
        proc = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            samples = {}
            errors = 0
            t0 = time.monotonic()
            if idle:
                api.wait_for_next_poll(1, 30)
                if not quiet:
                    print("holding /next idle for %.0f s ..." % idle, flush=True)
                time.sleep(idle)
                if proc.poll() is not None:
                    raise RuntimeError("bootstrap died while idle: %s" % proc.returncode)
            pending = []
            for i in range(1, invocations + 1):
                event, chunked = event_for(i)
                pending.append(api.enqueue(event, chunked=chunked, chunk_size=4096 if chunked else None))
                if len(pending) >= window:
                    for rid in pending:
                        res = api.wait_result(rid, 30)
                        if res.status != 202:
                            raise RuntimeError("invocation %s answered %s" % (rid, res.status))
                        errors += res.kind == "error"
                    pending.clear()
                if proc.poll() is not None:
                    raise RuntimeError("bootstrap exited with %s at %d" % (proc.returncode, i))
                if i == warmup or i == invocations:
                    for rid in pending:
                        api.wait_result(rid, 30)
                    pending.clear()
                    api.wait_for_next_poll(i + 1, 30)      # idle in /next: a quiet moment
                    samples[i] = sample(proc.pid)
                    if not quiet:
                        print("invocation %d: RSS %d KiB, %d fds (%.1f s)" % (
                            i, samples[i]["rss_kib"], samples[i]["fds"], time.monotonic() - t0),
                            flush=True)
            first, last = samples[min(samples)], samples[max(samples)]
            result = {"invocations": invocations, "errors_posted": errors,
                      "seconds": round(time.monotonic() - t0, 1), "samples": samples,
                      "rss_drift_kib": last["rss_kib"] - first["rss_kib"],
                      "fd_drift": last["fds"] - first["fds"],
                      "results": len(api.results), "idle_seconds": idle}
            if len(api.results) != invocations:
                raise RuntimeError("%d results for %d invocations" % (len(api.results), invocations))
            return result
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default=default_bootstrap())
    parser.add_argument("--invocations", type=int, default=100000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=0.0,
                        help="hold /next idle this many seconds first (then run --invocations)")
    parser.add_argument("--max-rss-drift-kib", type=int, default=1024)
    args = parser.parse_args(argv)
    invocations = args.invocations
    warmup = min(args.warmup, invocations)
    if args.idle and "--invocations" not in " ".join(argv or sys.argv):
        invocations, warmup = 10, 1
    result = run_soak(args.bootstrap, invocations, idle=args.idle, warmup=warmup)
    print("drift: RSS %+d KiB, fds %+d over invocations %d..%d; %d errors posted; %.1f s"
          % (result["rss_drift_kib"], result["fd_drift"], warmup, invocations,
             result["errors_posted"], result["seconds"]))
    print(json.dumps(result))
    ok = result["rss_drift_kib"] <= args.max_rss_drift_kib and result["fd_drift"] <= 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
