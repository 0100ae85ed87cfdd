"""native/immortal.pxd under plain CPython 3.12 and 3.13 (the host's, as the build finds
them; skipped where there is none): the runtime's extension modules compiled for each (-O0,
a few seconds), then one process that makes objects of every kind, makes its heap immortal
as the Managed-Instances supervisor does before the fork, and reports which objects became
immortal and what dropping the others did. The forked workers themselves are tested
against the 3.13 bootstrap in test_concurrency.py."""

import json
import os
import subprocess
import sys

import pytest

from conftest import BUILD_ROOT, ROOT

from buildtools import native, targets

SCRIPT = r"""
import gc, json, mmap, os, select, sys, weakref
import _lambda_runtime

events = []

class Finalized:
    def __del__(self):
        events.append("__del__")

class Plain:
    pass

def generator():
    try:
        yield 1
    finally:
        events.append("generator closed")

running = generator()
next(running)
buffer = bytearray(b"0123")
weak_values = weakref.WeakValueDictionary()
objects = {
    "plain": Plain(), "list": [1, 2], "dict": {"k": [1]}, "str": "".join(["made ", "here"]),
    "function": lambda: None, "class": type("Made", (), {}), "tuple": (1, "x"), "code": compile("x", "f", "eval"),
    "del": Finalized(), "generator": running, "file": open(os.devnull, "rb"), "view": memoryview(buffer),
    "finalize target": Plain(), "weak value": Plain(), "weakref": weakref.ref(Plain), "epoll": select.epoll(),
    "mmap": mmap.mmap(-1, 4096), "connection": _lambda_runtime.Connection("127.0.0.1:9"),
}
weakref.finalize(objects["finalize target"], events.append, "finalize")
weak_values["v"] = objects["weak value"]
gc.collect()
gc.freeze()                       # lambda_runtime.init_gc after the init
gc.unfreeze()                     # lambda_runtime.concurrency before the fork
made, filled = _lambda_runtime.immortalize_init_heap()
gc.freeze()
immortal = {name: sys.getrefcount(value) > 2 ** 31 for name, value in objects.items()}
fd = objects["file"].fileno()
del running
objects.clear()
try:
    os.fstat(fd)
    file_closed = False
except OSError:
    file_closed = True
try:
    buffer.extend(b"!")
    resizable = True
except BufferError:
    resizable = False
print(json.dumps({"made": made, "filled": filled, "immortal": immortal, "events": sorted(events),
                  "file closed": file_closed, "weak value gone": "v" not in weak_values,
                  "buffer resizable": resizable, "refcount": sys.getrefcount(Plain)}))
"""

IMMORTAL = {"plain", "list", "dict", "str", "function", "class", "tuple", "code"}
ORDINARY = {"del", "generator", "file", "view", "finalize target", "weak value", "weakref", "epoll", "mmap",
            "connection"}


@pytest.fixture(scope="module")
def c_sources():
    """_lambda_http and _lambda_runtime translated to C once (the C serves every version)."""
    out = os.path.join(BUILD_ROOT, "ext-c")
    return {name: native.cythonize(os.path.join(ROOT, pyx), name, out)
            for name, pyx in native.RUNTIME_MODULES if name in ("_lambda_http", "_lambda_runtime")}


def _interpreter(version):
    try:
        return targets.find_interpreter(version)
    except targets.TargetError:
        pytest.skip("no CPython %s on this host" % version)


def _compile(interpreter, c_sources, out):
    query = "import json, sysconfig; print(json.dumps([sysconfig.get_paths()['include'], " \
            "sysconfig.get_config_var('EXT_SUFFIX')]))"
    include, suffix = json.loads(subprocess.run([interpreter, "-I", "-c", query], capture_output=True, text=True,
                                                check=True).stdout)
    for name, c_file in c_sources.items():
        result = subprocess.run([os.environ.get("CC") or "cc", "-shared", "-fPIC", "-O0", "-w", "-I", include,
                                 "-o", os.path.join(out, name + suffix), c_file], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_heap_made_immortal_but_what_must_be_finalized_or_freed(version, c_sources, tmp_path):
    interpreter = _interpreter(version)
    _compile(interpreter, c_sources, str(tmp_path))
    result = subprocess.run([interpreter, "-I", "-c", "import sys; sys.path.insert(0, %r)\n" % str(tmp_path) + SCRIPT],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    print(version, {key: answer[key] for key in ("made", "filled")})
    assert answer["made"] > 1000 and answer["filled"] >= 0
    assert {name for name, yes in answer["immortal"].items() if yes} == IMMORTAL, answer["immortal"]
    assert {name for name, yes in answer["immortal"].items() if not yes} == ORDINARY, answer["immortal"]
    assert answer["refcount"] > 2 ** 31  # a class the module made
    # the ordinary ones, dropped, did what dropping them does
    assert answer["events"] == ["__del__", "finalize", "generator closed"]
    assert answer["file closed"] and answer["weak value gone"] and answer["buffer resizable"]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the test interpreter is not 3.11")
def test_nothing_is_made_immortal_on_3_11(native_modules):
    import _lambda_runtime

    made_here = ["made here"]
    before = sys.getrefcount(made_here)
    assert _lambda_runtime.immortalize_init_heap() == (-1, -1)
    assert sys.getrefcount(made_here) == before
