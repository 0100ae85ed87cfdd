"""What the benchmark runs and compares besides timings: the built bootstrap (built when
missing or stale, build times recorded), the awslambdaric "layer" zip, the machine.

The bench bootstrap is built with the documented command

    python build.py --src bench/handlers --handler echo.handler --lean-stdlib \
        --out build/bench/dist --build-dir build/bench/build

(--lean-stdlib: the echo benchmark measures the runtime's own weight; the default build's
stdlib tree adds ~9 MB of zip that no echo invocation touches.)

and is stale when any input of the build changed (hash of devtools.facts.BUILD_INPUTS and
bench/handlers/). A stale build is timed twice:
the first build (from an empty --build-dir; the pinned .build-venv-3.11/ and the C compiler
caches are reused when present) and a cached rebuild (the same command right after).
"""

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from devtools import facts  # noqa: E402

BUILD_PYTHON = "/root/.pyenv/versions/3.11.7/bin/python"
OUT = os.path.join(ROOT, "build", "bench")
DIST = os.path.join(OUT, "dist")
BUILD_DIR = os.path.join(OUT, "build")
STAMP = os.path.join(OUT, "build-stamp.json")
BOOTSTRAP = os.path.join(DIST, "function", "bootstrap")
FUNCTION_ZIP = os.path.join(DIST, "function.zip")
BUILD_INPUTS = list(facts.BUILD_INPUTS) + [os.path.join("bench", "handlers")]
BUILD_COMMAND = [BUILD_PYTHON, os.path.join(ROOT, "build.py"), "--src", os.path.join(BENCH, "handlers"),
                 "--handler", "echo.handler", "--lean-stdlib", "--out", DIST, "--build-dir", BUILD_DIR]


def inputs_hash():
    digest = hashlib.sha256()
    for entry in BUILD_INPUTS:
        path = os.path.join(ROOT, entry)
        files = [path] if os.path.isfile(path) else sorted(
            os.path.join(d, f) for d, dirs, fs in os.walk(path) for f in fs
            if "__pycache__" not in d and not f.endswith((".pyc", ".so", ".o")))
        for file in files:
            digest.update(os.path.relpath(file, ROOT).encode() + b"\0")
            with open(file, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
    return digest.hexdigest()


def _read_stamp():
    try:
        with open(STAMP) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _timed_build(log_path):
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        result = subprocess.run(BUILD_COMMAND, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - t0
    if result.returncode != 0:
        with open(log_path) as f:
            raise SystemExit("bench build failed (log %s):\n%s" % (log_path, f.read()[-4000:]))
    return seconds


def ensure_bootstrap(force=False, log=print):
    """Builds the bench bootstrap when missing or stale; returns the stamp
    {"inputs": hash, "first_build_s", "cached_rebuild_s", "built_at"}."""
    wanted = inputs_hash()
    stamp = _read_stamp()
    if not force and stamp and stamp.get("inputs") == wanted and os.path.exists(BOOTSTRAP) \
            and os.path.exists(FUNCTION_ZIP):
        log("bench bootstrap is up to date (built %s)" % stamp["built_at"])
        return stamp
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(BUILD_DIR):
        subprocess.run(["rm", "-rf", BUILD_DIR], check=True)
    log("building the bench bootstrap: %s" % " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a
                                                      for a in BUILD_COMMAND))
    first = _timed_build(os.path.join(OUT, "build-first.log"))
    log("  first build: %.1f s; cached rebuild ..." % first)
    cached = _timed_build(os.path.join(OUT, "build-cached.log"))
    log("  cached rebuild: %.1f s" % cached)
    stamp = {"inputs": wanted, "first_build_s": round(first, 1), "cached_rebuild_s": round(cached, 1),
             "built_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    with open(STAMP, "w") as f:
        json.dump(stamp, f, indent=1)
    return stamp


FLOOR_SOURCE = os.path.join(BENCH, "floor", "echo_runtime.c")
FLOOR_BINARY = os.path.join(OUT, "floor", "echo_runtime")


def ensure_c_floor(log=print):
    """Compiles bench/floor/echo_runtime.c (the echo loop in plain C: the cost of the kernel
    and the mock alone) with the system C compiler. Returns its path."""
    if os.path.exists(FLOOR_BINARY) and os.path.getmtime(FLOOR_BINARY) >= os.path.getmtime(FLOOR_SOURCE):
        return FLOOR_BINARY
    os.makedirs(os.path.dirname(FLOOR_BINARY), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    log("compiling the C floor: %s -O2 %s" % (cc, os.path.relpath(FLOOR_SOURCE, ROOT)))
    subprocess.run([cc, "-O2", "-o", FLOOR_BINARY, FLOOR_SOURCE], check=True)
    return FLOOR_BINARY


def awslambdaric_layer_size(venv_python, version="4.2.2"):
    """Bytes of a zip of awslambdaric and its dependencies as a Lambda layer would hold them
    (`pip install --target python/` of the pinned version, deflate level 9), cached in
    build/bench/. The Python interpreter itself is not counted: a managed python3.x runtime
    provides it, provided.al2023 does not."""
    cache = os.path.join(OUT, "awslambdaric-layer-%s.json" % version)
    try:
        with open(cache) as f:
            return json.load(f)["zip_bytes"]
    except (OSError, ValueError, KeyError):
        pass
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "python")
        subprocess.run([venv_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", "--target", target, "awslambdaric==%s" % version],
                       check=True, stdout=subprocess.DEVNULL)
        zip_path = os.path.join(tmp, "layer.zip")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for dirpath, dirnames, filenames in os.walk(target):
                dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    zf.write(path, os.path.relpath(path, tmp))
        size = os.path.getsize(zip_path)
    os.makedirs(OUT, exist_ok=True)
    with open(cache, "w") as f:
        json.dump({"zip_bytes": size}, f)
    return size


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, Linux %s (%s)" % (model, os.cpu_count() or 0, platform.release(), platform.machine())
