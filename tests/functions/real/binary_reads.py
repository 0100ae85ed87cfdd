"""Imports made after the handler replaced the bootstrap's own file descriptor (Nuitka
plugin (8): modules carried as bytecode are read from the binary through an fd it keeps)."""

import os
import sys


def _fds_on(path):
    fds = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.path.realpath("/proc/self/fd/" + name) == path:
                fds.append(int(name))
        except OSError:
            pass
    return fds


def replaced_then_import(event, context):
    """Puts /dev/zero (which reads as zeros at any offset) under every fd open on the running
    program, then imports a package not imported yet (jmespath: carried as bytecode)."""
    binary_fds = _fds_on(os.path.realpath("/proc/self/exe"))
    other = os.open("/dev/zero", os.O_RDONLY)
    for fd in binary_fds:
        os.dup2(other, fd)
    os.close(other)
    assert "jmespath" not in sys.modules
    import jmespath

    return {"binary_fds": len(binary_fds), "carried_as_bytecode": hasattr(jmespath, "__uncompiled__"),
            "search": jmespath.search("a.b[1]", {"a": {"b": [1, 2, 3]}})}
