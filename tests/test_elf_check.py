"""buildtools.elf_check: the ELF reader and the provided.al2023 rules.

Real ELF files are built here: one with zig for glibc 2.34 (passes), some
with the machine's gcc against Debian 12's glibc 2.36 (fail), and edited
copies (wrong arch, truncated, no section table).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys

import pytest

from buildtools import elf_check
from buildtools.elf_check import (
    AL2023_LIBS,
    ElfError,
    ElfInfo,
    Violation,
    check_elf,
    check_tree,
    format_verdict,
    is_elf,
    read_elf,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

C_OK = r"""
#include <stdio.h>
#include <math.h>
#include <pthread.h>
static void *work(void *p) { return p; }
int main(int argc, char **argv) {
    pthread_t t; void *r;
    pthread_create(&t, 0, work, argv);
    pthread_join(t, &r);
    printf("%f\n", sqrt((double)argc));
    return r == argv ? 0 : 1;
}
"""

# arc4random appeared in glibc 2.36 (this machine: Debian 12, glibc 2.36).
C_NEW_GLIBC = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("%u\n", arc4random()); return 0; }
"""

C_LIB = "int foo_value(void) { return 42; }\n"
C_USES_LIB = r"""
#include <stdio.h>
int foo_value(void);
int main(void) { printf("%d\n", foo_value()); return 0; }
"""


def _run(cmd, **kw):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def elfs(tmp_path_factory):
    d = tmp_path_factory.mktemp("elfs")
    (d / "ok.c").write_text(C_OK)
    (d / "new.c").write_text(C_NEW_GLIBC)
    (d / "lib.c").write_text(C_LIB)
    (d / "uses.c").write_text(C_USES_LIB)
    out = {}
    # The rule-abiding binary: what build.py does, zig targeting glibc 2.34.
    out["ok"] = d / "ok"
    _run([sys.executable, "-m", "ziglang", "cc", "-target", "x86_64-linux-gnu.2.34", "-O1",
          str(d / "ok.c"), "-lm", "-lpthread", "-o", str(out["ok"])])
    # Linked against this machine's glibc 2.36.
    out["new"] = d / "new"
    _run(["gcc", "-O1", str(d / "new.c"), "-o", str(out["new"])])
    # A program needing a library that provided.al2023 lacks (libfoo.so.1).
    libdir = d / "libdir"
    libdir.mkdir()
    out["lib"] = libdir / "libfoo.so.1"
    _run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", str(d / "lib.c"),
          "-o", str(out["lib"])])
    out["uses"] = d / "uses"
    _run(["gcc", str(d / "uses.c"), str(out["lib"]), "-o", str(out["uses"])])
    return out


def _copy_patched(src, dst, patches):
    data = bytearray(src.read_bytes())
    for off, fmt, value in patches:
        struct.pack_into(fmt, data, off, value)
    dst.write_bytes(bytes(data))
    return dst


# ---------------------------------------------------------------------------
# a binary that meets the rule


def test_zig_binary_passes(elfs):
    info = read_elf(elfs["ok"])
    assert isinstance(info, ElfInfo)
    assert info.arch == "x86_64"
    assert "libc.so.6" in info.needed
    assert set(info.needed) <= AL2023_LIBS
    assert info.max_glibc is not None and info.max_glibc <= (2, 34)
    assert "GLIBC_2.34" in info.glibc_versions
    assert "__libc_start_main" in info.symbols_by_version["GLIBC_2.34"]
    assert "printf" in {s for syms in info.symbols_by_version.values() for s in syms}
    assert info.interpreter == "/lib64/ld-linux-x86-64.so.2"
    assert check_elf(elfs["ok"], "x86_64") == []
    assert check_elf(elfs["ok"], "amd64") == []


def test_glibc_versions_sorted_numerically(elfs):
    info = read_elf(elfs["new"])
    keys = [tuple(int(x) for x in v[len("GLIBC_"):].split("."))
            for v in info.glibc_versions if v != "GLIBC_PRIVATE"]
    assert keys == sorted(keys)
    assert info.glibc_versions[-1] == "GLIBC_2.36"
    assert info.max_glibc == (2, 36)


def test_is_elf(elfs, tmp_path):
    assert is_elf(elfs["ok"])
    assert is_elf(str(elfs["lib"]))
    text = tmp_path / "x.txt"
    text.write_text("hello")
    assert not is_elf(text)
    assert not is_elf(tmp_path)
    assert not is_elf(tmp_path / "missing")


def test_check_tree_by_magic_and_bundled_libs(elfs, tmp_path):
    tree = tmp_path / "dist"
    (tree / "sub").mkdir(parents=True)
    shutil.copy(elfs["ok"], tree / "bootstrap")
    shutil.copy(elfs["lib"], tree / "sub" / "data.bin")  # ELF without a .so name
    (tree / "handler.py").write_text("def handler(e, c): return e\n")
    (tree / "fake.so").write_text("not an elf")  # extension alone doesn't make an ELF
    infos, violations = check_tree(tree, "x86_64")
    assert sorted(os.path.basename(i.path) for i in infos) == ["bootstrap", "data.bin"]
    assert violations == []
    verdict = format_verdict(infos, violations)
    assert verdict.startswith("al2023 check: 2 ELF files, x86_64, max GLIBC_2.34, needs ")
    assert "libc.so.6" in verdict and verdict.endswith(": OK")

    # A library shipped in the tree satisfies DT_NEEDED (task root is on LD_LIBRARY_PATH)...
    shutil.copy(elfs["uses"], tree / "uses")
    shutil.copy(elfs["lib"], tree / "libfoo.so.1")
    assert check_tree(tree, "x86_64")[1] == []
    # ...and without it the program is flagged.
    os.remove(tree / "libfoo.so.1")
    os.remove(tree / "sub" / "data.bin")
    _, violations = check_tree(tree, "x86_64")
    assert [v.path for v in violations] == [str(tree / "uses")]
    assert "libfoo.so.1" in violations[0].what


# ---------------------------------------------------------------------------
# what must FAIL


def test_newer_glibc_fails_naming_symbol(elfs):
    violations = check_elf(elfs["new"], "x86_64")
    assert len(violations) == 1
    v = violations[0]
    assert "GLIBC_2.36" in v.what and "arc4random" in v.what
    assert "2.34" in v.fix and ("zig" in v.fix and "--docker" in v.fix)
    line = str(v)
    assert "\n" not in line and str(elfs["new"]) in line and "arc4random" in line
    # a looser limit accepts it
    assert check_elf(elfs["new"], "x86_64", max_glibc=(2, 36)) == []


def test_missing_library_fails(elfs):
    violations = check_elf(elfs["uses"], "x86_64")
    assert [v for v in violations if "libfoo.so.1" in v.what]
    assert any("statically" in v.fix for v in violations)
    # allowed when the caller says the library is there
    assert check_elf(elfs["uses"], "x86_64", allowed_libs=AL2023_LIBS | {"libfoo.so.1"},
                     max_glibc=(2, 99)) == []


def test_libgcc_and_libstdcxx_not_assumed():
    for lib in ("libgcc_s.so.1", "libstdc++.so.6", "libz.so.1", "libpython3.11.so.1.0"):
        assert lib not in AL2023_LIBS
    for lib in ("libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
                "libutil.so.1", "libresolv.so.2", "ld-linux-x86-64.so.2",
                "ld-linux-aarch64.so.1"):
        assert lib in AL2023_LIBS


def test_shared_libpython_fails():
    # A real libpython .so (pyenv's, if this machine has it; else a system
    # binary with non-glibc dependencies).
    cands = ["/root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0", "/bin/bash", "/bin/ls"]
    path = next(p for p in cands if os.path.exists(p))
    violations = check_elf(path, "x86_64")
    assert violations, path
    assert all(isinstance(v, Violation) for v in violations)


def test_wrong_arch_fails(elfs, tmp_path):
    arm = _copy_patched(elfs["ok"], tmp_path / "arm", [(18, "<H", 183)])
    assert read_elf(arm).arch == "arm64"
    violations = check_elf(arm, "x86_64")
    assert any("wrong architecture" in v.what and "arm64" in v.what for v in violations)
    assert check_elf(elfs["ok"], "arm64")[0].what.startswith("wrong architecture: x86_64")
    riscv = _copy_patched(elfs["ok"], tmp_path / "rv", [(18, "<H", 243)])
    assert any("wrong architecture" in v.what for v in check_elf(riscv, "arm64"))


def test_32bit_and_big_endian_rejected(elfs, tmp_path):
    b32 = _copy_patched(elfs["ok"], tmp_path / "b32", [(4, "B", 1)])
    with pytest.raises(ElfError, match="32-bit"):
        read_elf(b32)
    be = _copy_patched(elfs["ok"], tmp_path / "be", [(5, "B", 2)])
    with pytest.raises(ElfError, match="big-endian"):
        read_elf(be)
    assert check_elf(b32, "x86_64") and "32-bit" in check_elf(b32, "x86_64")[0].what


def test_non_elf_fails(tmp_path):
    f = tmp_path / "bootstrap"
    f.write_text("#!/bin/sh\necho hi\n")
    with pytest.raises(ElfError, match="not an ELF file"):
        read_elf(f)
    violations = check_elf(f, "x86_64")
    assert len(violations) == 1 and "not an ELF" in violations[0].what
    with pytest.raises(ElfError, match="cannot read"):
        read_elf(tmp_path / "missing")


@pytest.mark.parametrize("keep", [3, 40, 200, 0.5, 0.9])
def test_truncated_elf_fails(elfs, tmp_path, keep):
    data = elfs["ok"].read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep
    f = tmp_path / "trunc"
    f.write_bytes(data[:n])
    if n < 4:
        with pytest.raises(ElfError, match="not an ELF"):
            read_elf(f)
        return
    with pytest.raises(ElfError, match="truncated|corrupt"):
        read_elf(f)
    assert check_elf(f, "x86_64")


def test_truncated_elf_in_tree_is_a_violation(elfs, tmp_path):
    (tmp_path / "bootstrap").write_bytes(elfs["ok"].read_bytes()[:300])
    infos, violations = check_tree(tmp_path, "x86_64")
    assert infos == [] and len(violations) == 1
    assert "FAILED" in format_verdict(infos, violations)


def test_glibc_private_flagged(tmp_path):
    libc = next(p for p in ("/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
                            "/usr/lib/x86_64-linux-gnu/libc.so.6") if os.path.exists(p))
    info = read_elf(libc)
    assert "GLIBC_PRIVATE" in info.glibc_versions
    assert info.glibc_versions[-1] == "GLIBC_PRIVATE"  # non-numeric sorts last
    assert info.symbols_by_version["GLIBC_PRIVATE"]
    violations = check_elf(libc, "x86_64", max_glibc=(2, 99))
    assert any("GLIBC_PRIVATE" in v.what for v in violations)


def test_no_section_table_uses_hash_tables(elfs, tmp_path):
    # Stripped of its section headers, the reader must still find symbols
    # through PT_DYNAMIC (DT_GNU_HASH / DT_HASH).
    for key in ("ok", "new"):
        stripped = _copy_patched(elfs[key], tmp_path / key, [(40, "<Q", 0), (60, "<H", 0)])
        a, b = read_elf(elfs[key]), read_elf(stripped)
        assert b.needed == a.needed
        assert b.glibc_versions == a.glibc_versions
        assert b.symbols_by_version == a.symbols_by_version


def test_verdict_format(elfs):
    info = read_elf(elfs["new"])
    v = check_elf(elfs["new"], "x86_64")
    text = format_verdict([info], v)
    first, *rest = text.splitlines()
    assert first.startswith("al2023 check: 1 ELF file, x86_64, max GLIBC_2.36, needs libc.so.6")
    assert first.endswith("FAILED (1 problem)")
    assert len(rest) == 1 and "arc4random" in rest[0]
    assert format_verdict([], []).endswith("FAILED (no ELF file found)")


# ---------------------------------------------------------------------------
# cross-check against binutils


def _readelf_needed(path):
    out = _run(["readelf", "-dW", path]).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def _objdump_undefined(path):
    out = _run(["objdump", "-TW", path]).stdout
    by_version: dict[str, set[str]] = {}
    for line in out.splitlines():
        m = re.search(r"\*UND\*\s+[0-9a-f]+\s+\(([^)]+)\)\s+(\S+)$", line)
        if m:
            by_version.setdefault(m.group(1), set()).add(m.group(2))
    return by_version


def _readelf_version_names(path):
    out = _run(["readelf", "-VW", path]).stdout
    section = out.split("Version needs section", 1)
    return set(re.findall(r"Name: (\S+)", section[1])) if len(section) > 1 else set()


def _system_binaries():
    cands = ["/bin/bash", "/bin/ls", "/usr/bin/python3", "/usr/bin/readelf",
             "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6",
             os.path.realpath(sys.executable)]
    return [p for p in dict.fromkeys(cands) if os.path.exists(p) and is_elf(p)]


def test_cross_check_with_binutils(elfs):
    paths = _system_binaries() + [str(elfs[k]) for k in ("ok", "new", "uses", "lib")]
    assert len(paths) >= 6
    for path in paths:
        info = read_elf(path)
        assert list(info.needed) == _readelf_needed(path), path
        names = _readelf_version_names(path)
        assert set(info.glibc_versions) == {n for n in names if n.startswith("GLIBC_")}, path
        expected = _objdump_undefined(path)
        got = {k: set(v) for k, v in info.symbols_by_version.items()}
        assert got == expected, path


# ---------------------------------------------------------------------------
# CLI


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "buildtools.elf_check", *args], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def test_cli_ok_and_fail(elfs, tmp_path):
    ok = _cli(str(elfs["ok"]), "--arch", "x86_64")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.match(r"al2023 check: 1 ELF file, x86_64, max GLIBC_2\.34, needs .*libc\.so\.6.*: OK$",
                    ok.stdout.strip())

    bad = _cli(str(elfs["ok"]), str(elfs["new"]), "--arch", "x86_64")
    assert bad.returncode == 1
    assert "FAILED (1 problem)" in bad.stdout and "arc4random" in bad.stdout

    wrong = _cli(str(elfs["ok"]), "--arch", "arm64")
    assert wrong.returncode == 1 and "wrong architecture" in wrong.stdout

    d = tmp_path / "dist"
    d.mkdir()
    shutil.copy(elfs["ok"], d / "bootstrap")
    assert _cli(str(d), "--arch", "x86_64").returncode == 0
    assert _cli(str(d / "nothing"), "--arch", "x86_64").returncode == 1
    assert elf_check.main([str(d), "--arch", "x86_64", "--max-glibc", "2.17"]) == 1
