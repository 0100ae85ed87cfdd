"""The scanners' C (native/swar.pxd) on the machines it is built for: the host (SSE2 and
SWAR), and aarch64 (NEON and SWAR) and big-endian s390x (one byte at a time) under qemu
when zig (the build's compiler) and qemu-user are at hand. tests/c/scanner_harness.c
compares them with byte-at-a-time loops."""

import os
import platform
import shutil
import subprocess

import pytest

from buildtools import targets

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
ZIG = os.path.join(targets.build_venv(ROOT), "lib", "python" + targets.DEFAULT_PYTHON, "site-packages", "ziglang", "zig")


def verbatim_c(pxd):
    """The C block of a `cdef extern from *:` in a .pxd, unindented."""
    with open(os.path.join(ROOT, "native", pxd)) as f:
        text = f.read()
    start = text.index('"""', text.index("cdef extern from *:")) + 3
    block = text[start:text.index('"""', start)]
    return "\n".join(line[4:] if line.startswith("    ") else line for line in block.splitlines()) + "\n"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("scanners") / "harness.c"
    with open(os.path.join(TESTS, "c", "scanner_harness.c")) as f:
        harness = f.read()
    path.write_text(verbatim_c("swar.pxd") + verbatim_c("floatfmt.pxd") + harness)
    return path


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_host(source, tmp_path):
    run([os.environ.get("CC", "cc"), "-O2", "-o", str(tmp_path / "h"), str(source)])
    vector = {"x86_64": "sse2", "aarch64": "neon"}.get(platform.machine(), "none")
    assert "bad 0 swar 1 vector " + vector in run([str(tmp_path / "h")])


@pytest.mark.parametrize("target, qemu, path", [("aarch64-linux-musl", "qemu-aarch64-static", "swar 1 vector neon"),
                                                ("s390x-linux-musl", "qemu-s390x-static", "swar 0 vector none")])
def test_other_architectures(source, tmp_path, target, qemu, path):
    if not os.path.exists(ZIG) or not shutil.which(qemu):
        pytest.skip("needs the build's zig (.build-venv-3.11) and %s (apt-get install qemu-user-static)" % qemu)
    binary = str(tmp_path / target)
    run([ZIG, "cc", "-O2", "-static", "-target", target, "-o", binary, str(source)])
    assert "bad 0 " + path in run([qemu, binary])
