"""Handlers for AWS_LAMBDA_MAX_CONCURRENCY (Managed Instances) on CPython 3.13: what the
init made, seen from a forked worker, where the init's heap is immortal (native/immortal.pxd)
but for what must still be finalized or freed when the handler drops it."""
import os
import sys
import weakref

IMMORTAL = 2 ** 31  # sys.getrefcount() of an immortal object is 2 ** 32 - 1 on 3.12+

_events = []


class Finalized:
    def __del__(self):
        _events.append("__del__")


class Target:
    pass


PLAIN = ["made at init"]
PLAIN_CLASS = Target
_buffer = bytearray(b"0123456789")
_weak_values = weakref.WeakValueDictionary()
_kept = {"del": Finalized(), "finalize": Target(), "weak value": Target(), "view": memoryview(_buffer),
         "file": open(os.devnull, "rb")}
weakref.finalize(_kept["finalize"], _events.append, "finalize")
_weak_values["v"] = _kept["weak value"]


def _immortal(value):
    return sys.getrefcount(value) > IMMORTAL


def state(event, context):
    """Which of the init's objects are immortal here."""
    return {"pid": os.getpid(), "version_info": list(sys.version_info[:2]), "events": list(_events),
            "immortal": {"plain": _immortal(PLAIN), "class": _immortal(PLAIN_CLASS),
                         "function": _immortal(state), "module": _immortal(sys.modules[__name__]),
                         **{name: _immortal(value) for name, value in _kept.items()}}}


_dropped = {}


def drop(event, context):
    """Drops the init's objects that must be finalized or freed, and says what that did (the
    first time in a worker; again after that)."""
    if _dropped:
        return _dropped
    fd = _kept["file"].fileno()
    _kept.clear()
    try:
        os.fstat(fd)
        file_closed = False
    except OSError:
        file_closed = True
    try:
        _buffer.extend(b"!")  # refused while a memoryview of it is alive
        resizable = True
    except BufferError:
        resizable = False
    _dropped.update({"pid": os.getpid(), "events": sorted(_events), "file_closed": file_closed,
                     "weak value gone": "v" not in _weak_values, "buffer resizable": resizable})
    return _dropped
