#!/usr/bin/env python3
"""Every target side by side: builds the echo handler (bench/handlers/echo.py, with
--lean-stdlib as bench/run.py does) for each (architecture, CPython version) and measures
build time, zip size, cold start (spawn -> first response against the mock, median and
min) and peak RSS after small invocations. An arm64 bootstrap on an x86_64 machine runs under qemu-user: its numbers
show that it runs, not how fast it is on Graviton.

    python bench/targets.py [--cold N] [--target x86_64/3.11 ...]

Run it with the test venv's Python (it uses the mock): .test-venv/bin/python bench/targets.py
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from buildtools import targets  # noqa: E402
from measure import HANDLERS, SMALL_EVENT, Runtime, cold_start, warm  # noqa: E402

DEFAULT_TARGETS = ["x86_64/3.11", "x86_64/3.12", "x86_64/3.13", "arm64/3.11"]


def build(arch, python, work):
    out = os.path.join(work, "dist")
    t0 = time.monotonic()
    subprocess.run([sys.executable, os.path.join(ROOT, "build.py"), "--src", HANDLERS, "--handler", "echo.handler",
                    "--arch", arch, "--python", python, "--lean-stdlib",  # the runtime's own weight, as bench/run.py
                    "--out", out, "--build-dir", os.path.join(work, "build")],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0, os.path.join(out, "function.zip"), os.path.join(out, "function", "bootstrap")


def measure(name, bootstrap, cold_runs):
    runtime = Runtime(name, targets.emulator_prefix(targets.bootstrap_arch(bootstrap)) + [bootstrap],
                      cwd=os.path.dirname(bootstrap),
                      env={"LAMBDA_TASK_ROOT": os.path.dirname(bootstrap)})
    cold = [cold_start(runtime).to_response_ms for _ in range(cold_runs)]
    rss = warm(runtime, [("small", SMALL_EVENT, 200)])["small"].peak_rss_kib / 1024
    return statistics.median(cold), min(cold), rss


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", type=int, default=20, help="cold starts per target (default: %(default)s)")
    parser.add_argument("--target", action="append", help="ARCH/VERSION (default: all)")
    args = parser.parse_args(argv)
    rows = []
    for spec in args.target or DEFAULT_TARGETS:
        arch, python = spec.split("/")
        built, zip_path, bootstrap = build(arch, python, os.path.join(ROOT, "build", "bench-targets", arch + "-" + python))
        median, best, rss = measure(spec, bootstrap, args.cold)
        emulated = " (qemu)" if targets.emulator_prefix(arch) else ""
        rows.append("| %s%s | %.1f | %.3f | %.1f | %.1f | %.1f |" % (
            spec, emulated, built, os.path.getsize(zip_path) / 1e6, median, best, rss))
        print(rows[-1], flush=True)
    print("\n| target | build (s) | zip (MB) | cold start median (ms) | min (ms) | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
