#!/usr/bin/env python3
"""Real functions, compiled and under awslambdaric: build times, zip size, cold start, memory
and where the init time goes, against moto's server on 127.0.0.1.

    python bench/real_functions.py [--rounds 10] [--no-build] [--concurrency-only]

- bench/functions/boto3_app (`import boto3`, an S3 client and a DynamoDB resource at init,
  list_buckets per invocation): built from an empty build directory and Nuitka cache
  ("first build"), then after an edit of app.py ("rebuild").
- bench/functions/powertools_app (Powertools' REST API event handler and Logger).
Then, interleaved for `--rounds` rounds: a fresh process per runtime and function,
spawn -> first response and the peak RSS after it; the init's breakdown (breakdown.py:
app.py's init with timestamps); the boto3 function with AWS_LAMBDA_MAX_CONCURRENCY=16, from a
`--python 3.13` build of it (Lambda Managed Instances, where concurrency applies, run Python
3.13 and later only; there the init's heap is made immortal before the fork, which 3.11
cannot do). The other rows measure the default 3.11 builds. --concurrency-only measures that
row alone (building the 3.13 function when it is missing).
Run it from the test venv (it needs moto): .test-venv/bin/python bench/real_functions.py.
awslambdaric runs from bench/.bench-venv/ (bench/requirements.txt, as bench/run.py runs it),
with the function's requirements first on PYTHONPATH: like the managed runtime, it has no
awscrt (the test venv has, through aws-sam-cli, and botocore imports it when present:
+17 MiB and ~50 ms that a managed runtime does not pay).
"""

import argparse
import contextlib
import json
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

import artifacts  # noqa: E402
import measure  # noqa: E402
from devtools.mock_runtime_api import MockRuntimeAPI  # noqa: E402
from devtools.local_services import MotoServer  # noqa: E402

FUNCTIONS = os.path.join(BENCH, "functions")
BENCH_VENV = os.path.join(BENCH, ".bench-venv")
OUT = os.path.join(ROOT, "build", "bench-real")
CONCURRENCY = 16
# The boto3 function again, built for CPython 3.13 (Managed Instances' oldest Python) for the
# concurrency row.
CONCURRENT = "boto3_app_py313"
CONCURRENT_PYTHON = "3.13"
REST_EVENT = json.dumps({
    "resource": "/hello/{name}", "path": "/hello/ada", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
    "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": {"name": "ada"},
    "stageVariables": None, "isBase64Encoded": False, "body": None,
    "requestContext": {"requestId": "r1", "stage": "prod", "path": "/hello/ada", "httpMethod": "GET",
                       "resourcePath": "/hello/{name}", "identity": {"sourceIp": "127.0.0.1"}}}).encode()


def _paths(name):
    out = os.path.join(OUT, name)
    return {"src": os.path.join(out, "src"), "build": os.path.join(out, "build"), "dist": os.path.join(out, "dist")}


def timed_build(name, env=None, options=()):
    paths = _paths(name)
    started = time.monotonic()
    subprocess.run([sys.executable, os.path.join(ROOT, "build.py"), "--src", paths["src"], "--handler", "app.handler",
                    "--out", paths["dist"], "--build-dir", paths["build"], *options], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def fresh_sources(name, function=None):
    shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
    shutil.copytree(os.path.join(FUNCTIONS, function or name), _paths(name)["src"])


def bootstrap_path(name):
    return os.path.join(_paths(name)["dist"], "function", "bootstrap")


def build_all():
    """{"first": s, "rebuild": s} of the boto3 function (empty Nuitka cache, then an edit)."""
    fresh_sources("boto3_app")
    cache = tempfile.mkdtemp(prefix="nuitka-cache-")
    env = dict(os.environ, NUITKA_CACHE_DIR=cache)
    try:
        first = timed_build("boto3_app", env)
        with open(os.path.join(_paths("boto3_app")["src"], "app.py"), "a") as f:
            f.write("\n# edited: %s\n" % time.time())
        rebuild = timed_build("boto3_app", env)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    fresh_sources("powertools_app")
    timed_build("powertools_app")
    build_concurrent()
    return {"first": first, "rebuild": rebuild}


def build_concurrent():
    fresh_sources(CONCURRENT, "boto3_app")
    timed_build(CONCURRENT, options=("--python", CONCURRENT_PYTHON))


def zip_bytes(name):
    return os.path.getsize(os.path.join(_paths(name)["dist"], "function.zip"))


def awslambdaric_python():
    from devtools.venv import ensure_venv

    return ensure_venv(BENCH_VENV, [os.path.join(BENCH, "requirements.txt")], artifacts.BUILD_PYTHON,
                       announce=lambda message: print(message, flush=True))


def runtimes(name, env, handler="app.handler"):
    src = os.path.join(FUNCTIONS, name)
    deps = subprocess.run([sys.executable, "-c", "import build; print(build.requirements_target(%r, %r))"
                           % (src, os.path.join(ROOT, ".cache"))], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    return [
        measure.Runtime("bootstrap", [bootstrap_path(name)], handler, env=env),
        measure.Runtime("awslambdaric", [awslambdaric_python(), "-m", "awslambdaric", handler], handler, cwd=src,
                        env=dict(env, PYTHONPATH=os.pathsep.join([src, deps]), LAMBDA_TASK_ROOT=src)),
    ]


def first_response(runtime, event=b"{}"):
    """(spawn -> first response ms, peak RSS MiB, the response as JSON, spawn time)."""
    with MockRuntimeAPI() as api:
        request_id = api.enqueue(event)
        proc = measure._Process(runtime, api)
        try:
            res = proc.result(request_id, 60)
            rss = measure.peak_rss_kib(proc.popen.pid)
            return (res.received_at - proc.started_at) * 1000, rss / 1024, json.loads(res.body), proc.started_at
        finally:
            proc.stop()


def breakdown(runtime):
    """Where the init goes (ms), from breakdown.py's timestamps (time.monotonic(), as ours)."""
    total, _, answer, spawned = first_response(runtime)
    ms = lambda a, b: (b - a) * 1000  # noqa: E731
    return {"start-up (spawn -> handler module runs)": ms(spawned, answer["started"]),
            "import boto3": ms(answer["started"], answer["imported"]),
            "clients (S3 client, DynamoDB resource)": ms(answer["imported"], answer["clients_made"]),
            "  of which botocore's Loader (listing, models)": answer["in_loader"] * 1000,
            "first invocation (list_buckets) and the rest": total - ms(spawned, answer["clients_made"]),
            "total: spawn -> first response": total}


def _kib(pid, name, key):
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


@contextlib.contextmanager
def concurrent_workers(runtime, workers=CONCURRENCY):
    """(supervisor pid, worker pids) of `runtime` run with AWS_LAMBDA_MAX_CONCURRENCY=workers,
    after 4 invocations per worker; the process is stopped on leaving."""
    runtime = measure.Runtime(runtime.name, runtime.argv, runtime.handler, runtime.cwd,
                              dict(runtime.env, AWS_LAMBDA_MAX_CONCURRENCY=str(workers)))
    with MockRuntimeAPI() as api:
        proc = measure._Process(runtime, api)
        try:
            for request_id in [api.enqueue(b"{}") for _ in range(4 * workers)]:
                proc.result(request_id, 120)
            yield proc.popen.pid, _children(proc.popen.pid)
        finally:
            proc.stop()


def concurrent_tree(runtime, workers=CONCURRENCY):
    """(tree PSS MiB, one worker's RSS MiB, workers) after 4 invocations per worker."""
    with concurrent_workers(runtime, workers) as (supervisor, children):
        tree_pss = sum(_kib(pid, "smaps_rollup", "Pss") for pid in [supervisor] + children)
        one = max(_kib(pid, "status", "VmRSS") for pid in children)
        return tree_pss / 1024, one / 1024, len(children)


def median(values):
    return statistics.median(values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--no-build", action="store_true", help="measure the existing builds")
    parser.add_argument("--also", action="append", default=[], metavar="[FUNCTION:]NAME=BOOTSTRAP",
                        help="measure another build of the boto3 function (or of FUNCTION: powertools) in the same "
                             "rounds (e.g. one made with --compile-package botocore ...)")
    parser.add_argument("--concurrency-only", action="store_true",
                        help="only the AWS_LAMBDA_MAX_CONCURRENCY row (its 3.13 build made when missing)")
    args = parser.parse_args()
    if args.concurrency_only:
        return concurrency_only()
    builds = None if args.no_build else build_all()
    moto = MotoServer()
    try:
        env = moto.env()
        functions = {"boto3": runtimes("boto3_app", env), "powertools": runtimes("powertools_app", {})}
        for spec in args.also:
            name, _, path = spec.partition("=")
            function, _, name = name.rpartition(":")
            function = function or "boto3"
            if function not in functions:
                parser.error("--also %s: FUNCTION is one of %s" % (spec, ", ".join(functions)))
            functions[function].append(measure.Runtime(name, [os.path.abspath(path)], "app.handler",
                                                       env=functions[function][0].env))
        events = {"boto3": b"{}", "powertools": REST_EVENT}
        samples = {(f, rt.name): [] for f, rts in functions.items() for rt in rts}
        for _ in range(args.rounds):
            for function, rts in functions.items():
                for rt in rts:
                    samples[(function, rt.name)].append(first_response(rt, events[function])[:2])
        parts = {}
        for rt in runtimes("boto3_app", env, "breakdown.handler"):
            runs = [breakdown(rt) for _ in range(max(3, args.rounds // 2))]
            parts[rt.name] = {key: median(run[key] for run in runs) for key in runs[0]}
        tree_pss, one_rss, n = concurrent_build_tree(env)
    finally:
        moto.stop()
    report(builds, samples, parts, (tree_pss, one_rss, n), args.rounds)


def concurrency_only():
    if not os.path.exists(bootstrap_path(CONCURRENT)):
        build_concurrent()
    moto = MotoServer()
    try:
        tree_pss, one_rss, n = concurrent_build_tree(moto.env())
    finally:
        moto.stop()
    name, measured, ok, goal = concurrency_target(tree_pss, one_rss, n)
    print("| %s | %s | %s | %s |" % (name, measured, goal, "PASS" if ok else "FAIL"))


def concurrent_build_tree(env):
    """concurrent_tree() of the boto3 function's 3.13 build."""
    return concurrent_tree(measure.Runtime("bootstrap", [bootstrap_path(CONCURRENT)], "app.handler", env=env))


def concurrency_target(tree_pss, one_rss, n):
    return ("boto3 function (its CPython %s build: Managed Instances run 3.13+), AWS_LAMBDA_MAX_CONCURRENCY=%d: "
            "tree PSS / one worker's RSS" % (CONCURRENT_PYTHON, n),
            "%.2fx (%.1f / %.1f MiB; awslambdaric: %d inits, %dx)" % (tree_pss / one_rss, tree_pss, one_rss, n, n),
            tree_pss / one_rss <= 2, "<= 2x")


def report(builds, samples, parts, tree, rounds):
    if builds:
        print("boto3 function: first build %.0f s (empty Nuitka cache), rebuild after an edit %.0f s"
              % (builds["first"], builds["rebuild"]))
    print("\n%d rounds, medians (min)\n" % rounds)
    print("| function | runtime | spawn -> first response (ms) | peak RSS after it (MiB) |")
    print("|---|---|---:|---:|")
    for (function, runtime), values in samples.items():
        times, rss = [v[0] for v in values], [v[1] for v in values]
        print("| %s | %s | %.0f (%.0f) | %.1f |" % (function, runtime, median(times), min(times), median(rss)))
    print("\nwhere the boto3 function's init goes (ms, medians):\n")
    print("| part | bootstrap | awslambdaric |")
    print("|---|---:|---:|")
    for key in parts["bootstrap"]:
        print("| %s | %.1f | %.1f |" % (key, parts["bootstrap"][key], parts["awslambdaric"][key]))
    tree_pss, one_rss, n = tree
    ratio = lambda f, i: (median(v[i] for v in samples[(f, "bootstrap")])  # noqa: E731
                          / median(v[i] for v in samples[(f, "awslambdaric")]))
    zip_mb = zip_bytes("boto3_app") / 1e6
    targets = [
        ("boto3 function: spawn -> first response", "%.2fx" % ratio("boto3", 0), ratio("boto3", 0) <= 0.5,
         "<= 0.5x (moonshot 0.25x)"),
        ("boto3 function: RSS after the first invocation", "%.2fx" % ratio("boto3", 1), ratio("boto3", 1) <= 0.8,
         "<= 0.8x (moonshot 0.5x)"),
        ("boto3 function: zip", "%.2f MB" % zip_mb, zip_mb <= 15, "<= 15 MB (moonshot 8 MB)"),
        ("Powertools REST function: spawn -> first response", "%.2fx" % ratio("powertools", 0),
         ratio("powertools", 0) <= 0.5, "<= 0.5x"),
        concurrency_target(tree_pss, one_rss, n),
    ]
    print("\n| target | measured | goal | verdict |")
    print("|---|---:|---|---|")
    for name, measured, ok, goal in targets:
        print("| %s | %s | %s | %s |" % (name, measured, goal, "PASS" if ok else "FAIL"))


if __name__ == "__main__":
    main()
