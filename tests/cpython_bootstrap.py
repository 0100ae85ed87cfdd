#!/usr/bin/env python3
"""The runtime under plain CPython: lambda_runtime + the extension modules that the
`native_modules` fixture (or buildtools.native.build_runtime_extensions) built.

Used as a stand-in for the compiled bootstrap, e.g. under valgrind (see test_faults.py):
    LAMBDA_NATIVE_EXT=/tmp/faults/ext python tests/cpython_bootstrap.py
The handler comes from _HANDLER (default echo.handler); tests/handlers is on sys.path.
"""
import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path[:0] = [os.environ.get("LAMBDA_NATIVE_EXT", os.path.join(ROOT, "build", "test", "ext")),
                ROOT, os.path.join(TESTS, "handlers")]

from lambda_runtime.bootstrap import main  # noqa: E402

if __name__ == "__main__":
    main("echo.handler")
