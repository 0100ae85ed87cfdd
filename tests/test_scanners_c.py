"""The scanners' C (native/swar.pxd) and the 128-bit float routines (native/floatwide.pxd)
on the machines they are built for: the host (SSE2 and SWAR), and aarch64 (NEON and SWAR)
and big-endian s390x (one byte at a time) under qemu when zig (the build's compiler) and
qemu-user are at hand. tests/c/scanner_harness.c compares the scanners with byte-at-a-time
loops and the float routines with CPython's repr() and float(), given here."""

import os
import platform
import random
import shutil
import struct
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
    path.write_text(verbatim_c("swar.pxd") + verbatim_c("floatfmt.pxd") + verbatim_c("floatwide.pxd") + harness)
    return path


FLOAT_CASES = 20000


@pytest.fixture(scope="module")
def floats(tmp_path_factory):
    """CPython's answers: repr() of doubles in floatwide's range, float() of 1-19 digit
    decimals with exponents from -19 to 19."""
    rng = random.Random(15)
    lines = []
    for _ in range(FLOAT_CASES):
        x = rng.uniform(-1, 1) * 10.0 ** rng.randrange(-4, 16)
        lines.append("r %016x %s" % (struct.unpack("<Q", struct.pack("<d", x))[0], repr(x)))
        digits = rng.randrange(1, 20)
        mantissa, exponent = rng.randrange(10 ** (digits - 1), 10 ** digits), rng.randrange(-19, 20)
        value = float("%de%d" % (mantissa, exponent))
        lines.append("p %d %d %016x" % (mantissa, exponent, struct.unpack("<Q", struct.pack("<d", value))[0]))
    path = tmp_path_factory.mktemp("floats") / "floats.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def floats_checked(output):
    return int(output.split(" floats ")[1].split()[0])


def test_host(source, floats, tmp_path):
    run([os.environ.get("CC", "cc"), "-O2", "-o", str(tmp_path / "h"), str(source)])
    vector = {"x86_64": "sse2", "aarch64": "neon"}.get(platform.machine(), "none")
    output = run([str(tmp_path / "h"), floats])
    assert "bad 0 swar 1 vector " + vector in output
    assert floats_checked(output) > FLOAT_CASES  # most of both kinds are in the routines' range


@pytest.mark.parametrize("target, qemu, path", [("aarch64-linux-musl", "qemu-aarch64-static", "swar 1 vector neon"),
                                                ("s390x-linux-musl", "qemu-s390x-static", "swar 0 vector none")])
def test_other_architectures(source, floats, tmp_path, target, qemu, path):
    if not os.path.exists(ZIG) or not shutil.which(qemu):
        pytest.skip("needs the build's zig (.build-venv-3.11) and %s (apt-get install qemu-user-static)" % qemu)
    binary = str(tmp_path / target)
    run([ZIG, "cc", "-O2", "-static", "-target", target, "-o", binary, str(source)])
    output = run([qemu, binary, floats])
    assert "bad 0 " + path in output and floats_checked(output) > FLOAT_CASES
