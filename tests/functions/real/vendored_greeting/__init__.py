"""A tiny package standing for one vendored with `pip install -t .`."""

import os


def greet(name):
    return "hello, %s" % name


def template():
    with open(os.path.join(os.path.dirname(__file__), "template.txt")) as f:
        return f.read()
