#!/usr/bin/env python3
"""Coverage-guided fuzzing of _lambda_http.ResponseParser with atheris (libFuzzer).

Long run (prints libFuzzer stats; the final line "Done N runs" is the input count):
    .test-venv/bin/python tests/fuzz_http_atheris.py -runs=2000000 -max_len=4096
    .test-venv/bin/python tests/fuzz_http_atheris.py -max_total_time=600
A crash or an exception other than HttpProtocolError stops the run and writes the input
to ./crash-*. The extension modules are built (once) by buildtools.native into
build/test/ext, or taken from LAMBDA_NATIVE_EXT. Only the Python harness is
coverage-instrumented (the Cython C code is not built with -fsanitize=fuzzer), so the
search is guided by the harness and by how far the parser got (the returned state).
"""
import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, ROOT)

import atheris  # noqa: E402

ext = os.environ.get("LAMBDA_NATIVE_EXT")
if not ext:
    from buildtools import native
    ext = native.build_runtime_extensions(os.path.join(ROOT, "build", "test", "ext"))
sys.path.insert(0, ext)

with atheris.instrument_imports():
    import _lambda_http

SEEDS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nLambda-Runtime-Aws-Request-Id: r\r\n\r\nhello",
    b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 E\r\n\r\nbody",
]


def one_input(data):
    fdp = atheris.FuzzedDataProvider(data)
    split = fdp.ConsumeIntInRange(0, 8)
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    if split == 8 and payload:
        payload = SEEDS[payload[0] % len(SEEDS)] + payload[1:]
    parser = _lambda_http.ResponseParser(max_head=4096, max_body=1 << 16)
    step = max(1, split * 7)
    try:
        for i in range(0, len(payload), step):
            parser.feed(payload[i:i + step])
            for _ in range(64):
                r = parser.next_response()
                if r is None:
                    break
                if "content-length" in r.headers and not r.headers.get("transfer-encoding"):
                    assert len(r.body) == int(r.headers["content-length"].split(",")[0])
        parser.close()
    except _lambda_http.HttpProtocolError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
