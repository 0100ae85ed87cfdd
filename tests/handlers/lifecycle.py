"""Test handlers for graceful shutdown and Managed-Instances concurrency."""
import atexit
import os
import time

from lambda_runtime import on_shutdown

# Import-time state the forked workers share copy-on-write (32 MiB, written once).
BALLAST = b"\x5a" * (32 * 1024 * 1024)

_calls = 0


def _mark(what):
    path = os.environ.get("LIFECYCLE_MARKER")
    if path:
        with open(path, "a") as f:
            f.write("%s %d %.6f\n" % (what, os.getpid(), time.time()))


@on_shutdown
def _hook():
    _mark("hook")


atexit.register(_mark, "atexit")


def count(event, context):
    """Counts calls in a module global: per-worker state."""
    global _calls
    _calls += 1
    return {"pid": os.getpid(), "count": _calls}


def sleep(event, context):
    seconds = event.get("seconds", 0.5)
    time.sleep(seconds)
    return {"slept": seconds, "pid": os.getpid(), "request_id": context.aws_request_id}


def refcount(event, context):
    """sys.getrefcount() of an object made at import: immortal in a worker only on 3.12+."""
    import sys

    return {"pid": os.getpid(), "version_info": list(sys.version_info[:2]), "refcount": sys.getrefcount(_MADE_AT_INIT)}


_MADE_AT_INIT = ["made at init"]


def touch(event, context):
    """Reads the ballast (so it is resident) and answers with its length."""
    return {"pid": os.getpid(), "ballast": len(BALLAST)}
