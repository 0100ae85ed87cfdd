#!/usr/bin/env python3
"""Measures response streaming of the compiled bootstrap against the mock Runtime API:
first-chunk latency (event delivered -> first chunk at the Runtime API) and throughput.

    LAMBDA_TEST_DIST=/tmp/streamlog/dist python bench/stream_bench.py [--mb 200] [--chunk 65536] [--runs 5]

LAMBDA_TEST_DIST (or --dist) is a build of tests/handlers (build.py --src tests/handlers ...),
whose streams.py has the handlers used here. The mock is pure Python, so the throughput
figure is a lower bound set by the mock's chunk parser as much as by the runtime.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dist", default=os.environ.get("LAMBDA_TEST_DIST", os.path.join(ROOT, "build", "test", "dist")))
    parser.add_argument("--mb", type=int, default=200, help="stream size for the throughput runs")
    parser.add_argument("--chunk", type=int, default=65536)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bootstrap = os.path.join(args.dist, "function", "bootstrap")

    # first-chunk latency: streams.slow yields its first chunk at once
    with MockRuntimeAPI() as api:
        proc = subprocess.Popen([bootstrap], env=lambda_env(bootstrap, api.address, handler="streams.slow"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api.wait_result(api.enqueue({"count": 1}), timeout=20)       # warm up
            latencies = []
            for _ in range(max(args.runs, 20)):
                api.wait_for_next_poll(api.next_calls, timeout=10)
                rid = api.enqueue({"count": 2, "delay": 0.01})
                t0 = time.monotonic()
                res = api.wait_result(rid, timeout=10)
                first = next(t for t, data in res.chunks if data)
                latencies.append((first - t0) * 1000)
        finally:
            proc.kill()
            proc.wait()
    print("first-chunk latency (enqueue -> first chunk received): median %.2f ms, min %.2f ms, max %.2f ms"
          % (statistics.median(latencies), min(latencies), max(latencies)))

    # throughput: streams.large, one reused buffer yielded --mb MiB worth
    total = args.mb * 1024 * 1024
    with MockRuntimeAPI(streaming_limit=total + 1) as api:
        proc = subprocess.Popen([bootstrap], env=lambda_env(bootstrap, api.address, handler="streams.large"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api.wait_result(api.enqueue({"total": 1024}), timeout=20)
            rates = []
            for _ in range(args.runs):
                rid = api.enqueue({"total": total, "chunk": args.chunk})
                res = api.wait_result(rid, timeout=120)
                data = [t for t, d in res.chunks if d]
                seconds = data[-1] - data[0]
                assert len(res.body) == total
                rates.append(total / 1e6 / seconds)
                del res
                api.results.clear()
            with open("/proc/%d/status" % proc.pid) as f:
                hwm = next(line.split()[1] for line in f if line.startswith("VmHWM"))
        finally:
            proc.kill()
            proc.wait()
    print("throughput (%d MiB in %d-byte chunks, first to last chunk): median %.0f MB/s, best %.0f MB/s; "
          "bootstrap VmHWM %s KiB" % (args.mb, args.chunk, statistics.median(rates), max(rates), hwm))


if __name__ == "__main__":
    main()
