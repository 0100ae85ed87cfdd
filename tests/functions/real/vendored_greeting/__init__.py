"""A tiny package standing for one vendored with `pip install -t .`."""

import os
import sys
import weakref

# Its top-level code, which the importer frees once it ran (tests/test_real_functions.py).
TOP_LEVEL_CODE = weakref.ref(sys._getframe().f_code)


def greet(name):
    return "hello, %s" % name


def template():
    with open(os.path.join(os.path.dirname(__file__), "template.txt")) as f:
        return f.read()
