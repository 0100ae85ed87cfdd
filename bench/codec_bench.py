#!/usr/bin/env python3
"""The runtime's JSON codec alone, on the benchmark's event shapes, against orjson and json.

    .test-venv/bin/python bench/codec_bench.py [--repeat 30]     # standalone
    bench/run.py calls measure() and prints its target lines

The codec is what the bootstrap runs (native/_lambda_json.pyx behind
lambda_runtime.marshal.event_codec), built as extension modules of this interpreter.
orjson is a timing anchor only (it is never in the runtime): it writes UTF-8 where AWS's
rules escape non-ASCII, so its encode is a lower bound. Times are the best of `repeat`
calls (ms): the machine is shared, the minimum is what the code costs.
"""

import argparse
import gc
import json
import os
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
EXT_DIR = os.path.join(ROOT, "build", "bench", "ext")
BUILD_VENV_PYTHON = os.path.join(ROOT, ".build-venv-3.11", "bin", "python")  # buildtools.targets.build_venv


def load_codec():
    """lambda_runtime.marshal.event_codec over freshly built extension modules."""
    sys.path.insert(0, ROOT)
    from buildtools import native

    # Cython runs in whichever venv has it (this one, or the build's).
    python = sys.executable
    try:
        import Cython  # noqa: F401
    except ImportError:
        python = BUILD_VENV_PYTHON
    for name, pyx in native.RUNTIME_MODULES:  # lambda_runtime imports _lambda_runtime too
        native.build_extension(native.cythonize(pyx, name, EXT_DIR, python=python), name, EXT_DIR)
    sys.path.insert(0, EXT_DIR)
    from lambda_runtime import marshal

    return marshal.event_codec


def orjson_version():
    import orjson

    return orjson.__version__


def best_ms(function, arg, repeat):
    times = []
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            function(arg)
            times.append(time.perf_counter() - t0)
    finally:
        gc.enable()
    return min(times) * 1000


def measure(events, repeat=30):
    """{shape: {library: {"decode": ms, "encode": ms}}} for each event (bytes) in events."""
    import orjson

    codec = load_codec()
    libraries = {"runtime": (codec.loads, codec.dumps), "orjson": (orjson.loads, orjson.dumps),
                 "json": (json.loads, json.dumps)}
    out = {}
    for shape, event in events.items():
        value = json.loads(event)
        if codec.loads(event) != value or json.loads(codec.dumps(value)) != value:
            raise SystemExit("the runtime codec does not round-trip the %s event" % shape)
        if codec.dumps(value) != json.dumps(value).encode():
            raise SystemExit("the runtime codec does not write what json writes for the %s event" % shape)
        out[shape] = {}
        for _ in range(2):  # interleaved twice: each library's best over both passes
            for name, (loads, dumps) in libraries.items():
                decode, encode = best_ms(loads, event, repeat), best_ms(dumps, value, repeat)
                prior = out[shape].get(name)
                if prior:
                    decode, encode = min(decode, prior["decode"]), min(encode, prior["encode"])
                out[shape][name] = {"decode": decode, "encode": encode}
    return out


def lines(results):
    """Text lines: one per shape and library, then the ratio to orjson."""
    text = []
    for shape, libs in results.items():
        for name, t in libs.items():
            text.append("%-8s %-8s decode %7.3f ms  encode %7.3f ms  total %7.3f ms"
                        % (shape, name, t["decode"], t["encode"], t["decode"] + t["encode"]))
    return text


def ratio_to_orjson(results, shape):
    ours, anchor = results[shape]["runtime"], results[shape]["orjson"]
    return (ours["decode"] + ours["encode"]) / (anchor["decode"] + anchor["encode"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, BENCH)
    import shapes

    results = measure({name: make() for name, make in shapes.SHAPES.items()}, args.repeat)
    for line in lines(results):
        print(line)
    for shape in results:
        print("%s: runtime decode+encode = %.2fx orjson's" % (shape, ratio_to_orjson(results, shape)))


if __name__ == "__main__":
    main()
