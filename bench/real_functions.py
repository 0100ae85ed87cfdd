#!/usr/bin/env python3
"""A boto3 function, compiled and under awslambdaric: build times, zip size, cold start and
memory, against moto's server on 127.0.0.1.

    python bench/real_functions.py [--rounds 10] [--no-build]

Builds bench/functions/boto3_app twice: from an empty build directory and an empty Nuitka
cache ("first build"), then after an edit of app.py ("rebuild"). Then, interleaved for
`--rounds` rounds: a fresh process per runtime, spawn -> first response (the S3 client and
a DynamoDB resource made at init, list_buckets in the handler), and its peak RSS.
Run it from the test venv (it needs moto and awslambdaric): .test-venv/bin/python bench/...
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

import measure  # noqa: E402
from devtools.mock_runtime_api import MockRuntimeAPI  # noqa: E402
from devtools.local_services import MotoServer  # noqa: E402

APP = os.path.join(BENCH, "functions", "boto3_app")
OUT = os.path.join(ROOT, "build", "bench-boto3")


def timed_build(src, build_dir, out, log, env=None):
    started = time.monotonic()
    with open(log, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "build.py"), "--src", src, "--handler", "app.handler",
                        "--out", out, "--build-dir", build_dir], check=True, env=env, stdout=f,
                       stderr=subprocess.STDOUT)
    return time.monotonic() - started


def build_twice():
    """(first build s, rebuild s, zip bytes, dist dir)."""
    shutil.rmtree(OUT, ignore_errors=True)
    src = os.path.join(OUT, "src")  # a copy, edited for the rebuild; build logs beside it
    shutil.copytree(APP, src)
    cache = tempfile.mkdtemp(prefix="nuitka-cache-")
    env = dict(os.environ, NUITKA_CACHE_DIR=cache)
    try:
        first = timed_build(src, os.path.join(OUT, "build"), os.path.join(OUT, "dist"),
                            os.path.join(OUT, "first-build.log"), env)
        with open(os.path.join(src, "app.py"), "a") as f:
            f.write("\n# edited: %s\n" % time.time())
        rebuild = timed_build(src, os.path.join(OUT, "build"), os.path.join(OUT, "dist"),
                              os.path.join(OUT, "rebuild.log"), env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return first, rebuild, os.path.getsize(os.path.join(OUT, "dist", "function.zip"))


def cold_start_and_rss(runtime):
    with MockRuntimeAPI() as api:
        request_id = api.enqueue(b"{}")
        proc = measure._Process(runtime, api)
        try:
            res = proc.result(request_id, 60)
            rss = measure.peak_rss_kib(proc.popen.pid)
            return (res.received_at - proc.started_at) * 1000, rss / 1024
        finally:
            proc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-build", action="store_true", help="measure the existing build")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=BOOTSTRAP",
                        help="measure another build of the same function in the same rounds (e.g. one made "
                             "with --compile-package botocore ...)")
    args = parser.parse_args()
    if not args.no_build:
        first, rebuild, zip_bytes = build_twice()
        print("first build %.0f s, rebuild after an edit %.0f s, zip %.2f MB" % (first, rebuild, zip_bytes / 1e6))
    deps = subprocess.run([sys.executable, "-c", "import build, sys; print(build.requirements_target(%r, %r))"
                           % (APP, os.path.join(ROOT, ".cache"))], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    moto = MotoServer()
    try:
        env = moto.env()
        runtimes = [
            measure.Runtime("bootstrap", [os.path.join(OUT, "dist", "function", "bootstrap")], "app.handler",
                            env=env),
            measure.Runtime("awslambdaric", [sys.executable, "-m", "awslambdaric", "app.handler"], "app.handler",
                            cwd=APP, env=dict(env, PYTHONPATH=os.pathsep.join([APP, deps]))),
        ]
        for spec in args.also:
            name, _, path = spec.partition("=")
            runtimes.append(measure.Runtime(name, [os.path.abspath(path)], "app.handler", env=env))
        samples = {rt.name: [] for rt in runtimes}
        for _ in range(args.rounds):
            for rt in runtimes:
                samples[rt.name].append(cold_start_and_rss(rt))
    finally:
        moto.stop()
    print("| runtime | spawn -> first response, median (ms) | min (ms) | peak RSS, median (MiB) |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        times, rss = [v[0] for v in values], [v[1] for v in values]
        print("| %s | %.0f | %.0f | %.1f |" % (name, statistics.median(times), min(times), statistics.median(rss)))
    theirs = samples["awslambdaric"]
    for name, ours in samples.items():
        if name != "awslambdaric":
            print("%s / awslambdaric (medians): cold start %.2fx, RSS %.2fx" % (
                name, statistics.median(v[0] for v in ours) / statistics.median(v[0] for v in theirs),
                statistics.median(v[1] for v in ours) / statistics.median(v[1] for v in theirs)))


if __name__ == "__main__":
    main()
