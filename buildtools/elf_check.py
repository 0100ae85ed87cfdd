"""Check that ELF files will load on AWS Lambda's ``provided.al2023`` image.

Pure standard library (no pyelftools): reads ELF64 little-endian files
(x86_64 and aarch64), and reports

* the architecture (``e_machine``),
* the shared libraries they need (``DT_NEEDED`` from ``PT_DYNAMIC``),
* the glibc symbol versions they require (``DT_VERNEED``) and which imported
  symbols need each version (``.dynsym`` + ``DT_VERSYM``).

``check_elf`` / ``check_tree`` turn that into a list of ``Violation`` objects
against the rules of provided.al2023 (glibc 2.34, only glibc's own libraries
present); ``format_verdict`` gives the one-line summary the build prints.

CLI::

    python -m buildtools.elf_check dist/bootstrap dist/ --arch x86_64

prints the verdict and exits 1 when something would not load.
"""

from __future__ import annotations

import argparse
import os
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from devtools import facts

__all__ = [
    "AL2023_GLIBC",
    "AL2023_LIBS",
    "ElfError",
    "ElfInfo",
    "Violation",
    "check_elf",
    "check_info",
    "check_tree",
    "format_verdict",
    "is_elf",
    "main",
    "normalize_arch",
    "read_elf",
    "verdict_ok",
]

#: glibc version of Amazon Linux 2023 (and so of Lambda's provided.al2023).
AL2023_GLIBC: tuple[int, int] = tuple(int(part) for part in facts.GLIBC_TARGET.split("."))

#: Shared libraries that glibc 2.34 itself installs, i.e. what any AL2023
#: image (including the minimal provided.al2023 one) is guaranteed to have.
#: Deliberately NOT listed: libgcc_s.so.1, libstdc++.so.6, libz, libcrypt
#: (AL2023 builds glibc with --disable-crypt; libcrypt comes from libxcrypt,
#: which the minimal image need not carry), libnsl (compat-only since 2.28).
AL2023_LIBS: frozenset[str] = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libanl.so.1",
        "libBrokenLocale.so.1",
        "libthread_db.so.1",
        "libc_malloc_debug.so.0",
        "libnss_files.so.2",
        "libnss_dns.so.2",
        "libnss_compat.so.2",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
    }
)

# e_machine -> our architecture names (the ones build.py uses: x86_64 / arm64).
_MACHINES = {62: "x86_64", 183: "arm64"}
_OTHER_MACHINES = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    22: "s390",
    40: "arm (32-bit)",
    243: "riscv",
}
_ARCH_ALIASES = facts.ARCH_ALIASES
# The program interpreter a glibc executable must ask for on each arch.
_INTERPRETERS = {
    "x86_64": ("/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-x86-64.so.2",
               "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
               "/usr/lib64/ld-linux-x86-64.so.2"),
    "arm64": ("/lib/ld-linux-aarch64.so.1", "/lib64/ld-linux-aarch64.so.1",
              "/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1",
              "/usr/lib64/ld-linux-aarch64.so.1"),
}

_ELF_MAGIC = b"\x7fELF"

# ELF constants
_PT_LOAD, _PT_DYNAMIC, _PT_INTERP = 1, 2, 3
_DT_NULL, _DT_NEEDED, _DT_HASH, _DT_STRTAB, _DT_SYMTAB = 0, 1, 4, 5, 6
_DT_STRSZ, _DT_SYMENT, _DT_SONAME, _DT_RPATH, _DT_RUNPATH = 10, 11, 14, 15, 29
_DT_GNU_HASH = 0x6FFFFEF5
_DT_VERSYM = 0x6FFFFFF0
_DT_VERNEED, _DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
_SHT_DYNSYM = 11
_ET_NAMES = {1: "relocatable", 2: "executable", 3: "shared object", 4: "core"}

_GLIBC_RE = re.compile(r"^GLIBC_(\d+(?:\.\d+)*)$")
# Version markers glibc uses that are not plain numbers, with the release that
# introduced them (a binary requiring one will not start on older glibc).
_GLIBC_MARKERS = {"GLIBC_ABI_DT_RELR": (2, 36), "GLIBC_ABI_GNU2_TLS": (2, 42),
                  "GLIBC_ABI_GNU_TLS": (2, 42)}


class ElfError(Exception):
    """The file is not an ELF64 little-endian file we can read."""


@dataclass(frozen=True)
class ElfInfo:
    path: str
    arch: str
    needed: tuple[str, ...]
    #: GLIBC_* version names required, sorted by version (GLIBC_PRIVATE and
    #: other non-numeric markers last).
    glibc_versions: tuple[str, ...]
    #: highest numeric GLIBC version required, as (major, minor); None if none.
    max_glibc: tuple[int, int] | None
    #: version name -> sorted imported symbol names that need it.
    symbols_by_version: dict[str, list[str]] = field(default_factory=dict, hash=False)
    interpreter: str | None = None
    soname: str | None = None
    elf_type: str = "executable"
    runpath: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    path: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what} -> fix: {self.fix}"


# --------------------------------------------------------------------------
# Reading


normalize_arch = facts.normalize_arch


def is_elf(path: str | os.PathLike) -> bool:
    """True if ``path`` is a regular file starting with the ELF magic."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            return f.read(4) == _ELF_MAGIC
    except OSError:
        return False


def _glibc_key(name: str) -> tuple:
    m = _GLIBC_RE.match(name)
    if m:
        return (0, tuple(int(p) for p in m.group(1).split(".")), name)
    return (1, (), name)


def _glibc_tuple(name: str) -> tuple[int, ...] | None:
    m = _GLIBC_RE.match(name)
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


class _Reader:
    def __init__(self, data: bytes, path: str):
        self.data = data
        self.path = path

    def take(self, fmt: str, off: int, what: str) -> tuple:
        size = struct.calcsize(fmt)
        if off < 0 or off + size > len(self.data):
            raise ElfError(
                f"{self.path}: truncated or corrupt ELF file ({what} at offset "
                f"{off:#x} lies past the end of the {len(self.data)}-byte file)"
            )
        return struct.unpack_from(fmt, self.data, off)

    def cstr(self, off: int, what: str) -> str:
        if off < 0 or off >= len(self.data):
            raise ElfError(f"{self.path}: truncated or corrupt ELF file ({what} at {off:#x})")
        end = self.data.find(b"\0", off)
        if end < 0:
            raise ElfError(f"{self.path}: truncated or corrupt ELF file (unterminated {what})")
        return self.data[off:end].decode("utf-8", "replace")


def read_elf(path: str | os.PathLike) -> ElfInfo:
    """Parse an ELF64 little-endian file; raise ElfError with a clear message otherwise."""
    spath = os.fspath(path)
    try:
        with open(spath, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ElfError(f"{spath}: cannot read: {e.strerror or e}") from None
    if data[:4] != _ELF_MAGIC:
        raise ElfError(f"{spath}: not an ELF file (no \\x7fELF magic)")
    if len(data) < 64:
        raise ElfError(f"{spath}: truncated ELF file ({len(data)} bytes, header needs 64)")
    ei_class, ei_data = data[4], data[5]
    if ei_class != 2:
        kind = "32-bit" if ei_class == 1 else f"class {ei_class}"
        raise ElfError(f"{spath}: {kind} ELF; Lambda needs a 64-bit (ELF64) x86_64 or arm64 binary")
    if ei_data != 1:
        raise ElfError(f"{spath}: big-endian ELF; Lambda needs a little-endian x86_64 or arm64 binary")

    r = _Reader(data, spath)
    (e_type, e_machine, _ver, _entry, e_phoff, e_shoff, _flags, _ehsize,
     e_phentsize, e_phnum, e_shentsize, e_shnum, _shstrndx) = r.take(
        "<HHIQQQIHHHHHH", 16, "ELF header")
    arch = _MACHINES.get(e_machine) or _OTHER_MACHINES.get(e_machine) or f"e_machine={e_machine}"

    # Program headers: loadable segments (for address -> offset), dynamic, interp.
    loads: list[tuple[int, int, int]] = []  # (vaddr, filesz, offset)
    dyn_off = dyn_size = None
    interpreter = None
    if e_phnum and e_phentsize < 56:
        raise ElfError(f"{spath}: corrupt ELF file (program header size {e_phentsize})")
    for i in range(e_phnum):
        p_type, _pf, p_offset, p_vaddr, _pa, p_filesz, _memsz, _al = r.take(
            "<IIQQQQQQ", e_phoff + i * e_phentsize, "program header")
        if p_type == _PT_LOAD:
            if p_offset + p_filesz > len(data):
                raise ElfError(
                    f"{spath}: truncated ELF file (a loadable segment ends at "
                    f"{p_offset + p_filesz:#x}, the file at {len(data):#x})")
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == _PT_DYNAMIC:
            dyn_off, dyn_size = p_offset, p_filesz
        elif p_type == _PT_INTERP:
            interpreter = r.cstr(p_offset, "program interpreter")

    def addr(vaddr: int, what: str) -> int:
        for v, sz, off in loads:
            if v <= vaddr < v + sz:
                return off + (vaddr - v)
        if not loads:  # shared objects from odd linkers: treat as offsets
            return vaddr
        raise ElfError(f"{spath}: corrupt ELF file ({what} address {vaddr:#x} is in no segment)")

    # Section headers (optional; only used to size .dynsym).
    dynsym_count = None
    if e_shoff and e_shnum and e_shentsize >= 64:
        for i in range(e_shnum):
            off = e_shoff + i * e_shentsize
            (_n, sh_type, _f, _a, _o, sh_size, _l, _i, _al, sh_entsize) = r.take(
                "<IIQQQQIIQQ", off, "section header")
            if sh_type == _SHT_DYNSYM and sh_entsize:
                dynsym_count = sh_size // sh_entsize

    needed_off: list[int] = []
    runpath_off: list[int] = []
    soname_off = None
    tags: dict[int, int] = {}
    if dyn_off is not None:
        n = (dyn_size or 0) // 16
        for i in range(n):
            d_tag, d_val = r.take("<qQ", dyn_off + i * 16, "dynamic entry")
            if d_tag == _DT_NULL:
                break
            if d_tag == _DT_NEEDED:
                needed_off.append(d_val)
            elif d_tag in (_DT_RPATH, _DT_RUNPATH):
                runpath_off.append(d_val)
            elif d_tag == _DT_SONAME:
                soname_off = d_val
            else:
                tags[d_tag] = d_val

    needed: list[str] = []
    runpath: list[str] = []
    soname = None
    versions_needed: dict[int, tuple[str, str]] = {}  # versym index -> (version, file)
    symbols_by_version: dict[str, list[str]] = {}

    if dyn_off is not None and _DT_STRTAB in tags:
        strtab = addr(tags[_DT_STRTAB], "DT_STRTAB")
        dynstr = lambda o, what: r.cstr(strtab + o, what)  # noqa: E731
        needed = [dynstr(o, "DT_NEEDED name") for o in needed_off]
        for o in runpath_off:
            runpath.extend(p for p in dynstr(o, "DT_RUNPATH").split(":") if p)
        if soname_off is not None:
            soname = dynstr(soname_off, "DT_SONAME")

        # DT_VERNEED: Elf64_Verneed {vn_version H, vn_cnt H, vn_file I, vn_aux I, vn_next I}
        #             Elf64_Vernaux {vna_hash I, vna_flags H, vna_other H, vna_name I, vna_next I}
        if _DT_VERNEED in tags:
            vn = addr(tags[_DT_VERNEED], "DT_VERNEED")
            count = tags.get(_DT_VERNEEDNUM, 0)
            for _ in range(min(count, 10_000)):
                _v, vn_cnt, vn_file, vn_aux, vn_next = r.take("<HHIII", vn, "version need entry")
                lib = dynstr(vn_file, "version need file")
                aux = vn + vn_aux
                for _ in range(min(vn_cnt, 10_000)):
                    _h, _fl, vna_other, vna_name, vna_next = r.take(
                        "<IHHII", aux, "version need aux entry")
                    versions_needed[vna_other] = (dynstr(vna_name, "version name"), lib)
                    if not vna_next:
                        break
                    aux += vna_next
                if not vn_next:
                    break
                vn += vn_next

        # Imported symbols and the version each one needs.
        if versions_needed and _DT_SYMTAB in tags and _DT_VERSYM in tags:
            symtab = addr(tags[_DT_SYMTAB], "DT_SYMTAB")
            versym = addr(tags[_DT_VERSYM], "DT_VERSYM")
            syment = tags.get(_DT_SYMENT, 24) or 24
            if dynsym_count is None:
                dynsym_count = _count_dynsyms(r, tags, addr, symtab, syment)
            for i in range(1, dynsym_count or 0):
                st_name, _info, _other, st_shndx = r.take("<IBBH", symtab + i * syment, "symbol")
                if st_shndx != 0:  # defined here, not imported
                    continue
                (vs,) = r.take("<H", versym + 2 * i, "symbol version")
                entry = versions_needed.get(vs & 0x7FFF)
                if entry is None:
                    continue
                name = dynstr(st_name, "symbol name")
                symbols_by_version.setdefault(entry[0], []).append(name)
            for names in symbols_by_version.values():
                names.sort()

    glibc_names = sorted(
        {v for v, _lib in versions_needed.values() if v.startswith("GLIBC_")}, key=_glibc_key)
    numeric = [t for t in (_glibc_tuple(v) for v in glibc_names) if t]
    max_glibc = None
    if numeric:
        top = max(numeric)
        max_glibc = (top[0], top[1] if len(top) > 1 else 0)

    return ElfInfo(
        path=spath,
        arch=arch,
        needed=tuple(needed),
        glibc_versions=tuple(glibc_names),
        max_glibc=max_glibc,
        symbols_by_version=symbols_by_version,
        interpreter=interpreter,
        soname=soname,
        elf_type=("PIE executable" if e_type == 3 and interpreter
                  else _ET_NAMES.get(e_type, f"type {e_type}")),
        runpath=tuple(runpath),
    )


def _count_dynsyms(r: _Reader, tags: dict[int, int], addr, symtab: int, syment: int) -> int:
    """Number of .dynsym entries when there is no section table (stripped)."""
    if _DT_HASH in tags:
        (_nbucket, nchain) = r.take("<II", addr(tags[_DT_HASH], "DT_HASH"), "DT_HASH")
        return nchain
    if _DT_GNU_HASH in tags:
        h = addr(tags[_DT_GNU_HASH], "DT_GNU_HASH")
        nbuckets, symoffset, bloom_size, _shift = r.take("<IIII", h, "DT_GNU_HASH")
        buckets = h + 16 + 8 * bloom_size
        chains = buckets + 4 * nbuckets
        last = 0
        for b in range(nbuckets):
            (v,) = r.take("<I", buckets + 4 * b, "GNU hash bucket")
            last = max(last, v)
        if last < symoffset:
            return symoffset
        while True:
            (hv,) = r.take("<I", chains + 4 * (last - symoffset), "GNU hash chain")
            if hv & 1:
                return last + 1
            last += 1
    # Last resort: symbols usually sit right before the string table.
    if _DT_STRTAB in tags:
        strtab = addr(tags[_DT_STRTAB], "DT_STRTAB")
        if strtab > symtab:
            return (strtab - symtab) // syment
    return 0


# --------------------------------------------------------------------------
# Checking


def _fmt_version(v: tuple[int, ...]) -> str:
    return "GLIBC_" + ".".join(str(x) for x in v)


def _glibc_fix(arch: str, max_glibc: tuple[int, int]) -> str:
    target = facts.zig_target(arch if arch in facts.GNU_TARGETS else "x86_64", f"{max_glibc[0]}.{max_glibc[1]}")
    return (f"build with zig targeting {target} (the default `python build.py`) "
            f"or inside Amazon Linux 2023 with `python build.py --docker`")


def _lib_fix(lib: str) -> str:
    if lib.startswith("libpython"):
        return ("link libpython statically (Nuitka --static-libpython=yes, with a Python "
                "built --disable-shared), use the zig build, or `python build.py --docker`")
    return ("link it statically, ship it next to bootstrap in the zip, use the zig build, "
            "or build with `python build.py --docker`")


def _shown(syms: Sequence[str], limit: int = 8) -> str:
    more = f" and {len(syms) - limit} more" if len(syms) > limit else ""
    return ", ".join(syms[:limit]) + more


def check_info(info: ElfInfo, arch: str, max_glibc: tuple[int, int] = AL2023_GLIBC,
               allowed_libs: Iterable[str] = AL2023_LIBS) -> list[Violation]:
    """The rules of check_elf, applied to an already-read ElfInfo."""
    arch = normalize_arch(arch)
    allowed = set(allowed_libs)
    out: list[Violation] = []
    p = info.path
    if info.arch != arch:
        out.append(Violation(p, f"wrong architecture: {info.arch}, expected {arch}",
                             f"build for {arch} (`python build.py --arch {arch}`)"))
    if info.interpreter and info.arch in _INTERPRETERS and info.arch == arch \
            and info.interpreter not in _INTERPRETERS[arch]:
        out.append(Violation(p, f"program interpreter {info.interpreter} does not exist on "
                                f"provided.al2023 (expected {_INTERPRETERS[arch][0]})",
                             "link against glibc (zig -target "
                             f"{_ZIG_TARGET[arch]}) or build with `python build.py --docker`"))
    for lib in info.needed:
        if lib not in allowed:
            out.append(Violation(p, f"needs {lib}, which provided.al2023 does not have",
                                 _lib_fix(lib)))
    too_new: list[tuple[tuple[int, ...], str]] = []
    for v in info.glibc_versions:
        t = _glibc_tuple(v)
        if t is not None:
            if t[:2] > tuple(max_glibc) or (len(t) > 2 and t[:2] == tuple(max_glibc) and any(t[2:])):
                too_new.append((t, v))
        elif v == "GLIBC_PRIVATE":
            syms = _shown(info.symbols_by_version.get(v, [])) or "unknown symbols"
            out.append(Violation(p, f"uses GLIBC_PRIVATE symbols ({syms}): internal glibc ABI "
                                    "that differs between glibc builds",
                                 "do not link against glibc internals; build with zig or "
                                 "`python build.py --docker`"))
        else:
            since = _GLIBC_MARKERS.get(v)
            since_s = f"glibc {since[0]}.{since[1]}" if since else "an unknown glibc"
            out.append(Violation(p, f"requires {v} (from {since_s}); provided.al2023 has "
                                    f"glibc {max_glibc[0]}.{max_glibc[1]}",
                                 _glibc_fix(arch, tuple(max_glibc))))
    for t, v in too_new:
        shown = _shown(info.symbols_by_version.get(v, []))
        out.append(Violation(
            p, f"needs {v} ({shown or 'no named symbol'}) but provided.al2023 has glibc "
               f"{max_glibc[0]}.{max_glibc[1]}",
            _glibc_fix(arch, tuple(max_glibc))))
    return out


def check_elf(path: str | os.PathLike, arch: str, max_glibc: tuple[int, int] = AL2023_GLIBC,
              allowed_libs: Iterable[str] = AL2023_LIBS) -> list[Violation]:
    """Violations that would stop ``path`` loading on provided.al2023 for ``arch``.

    An unreadable / non-ELF64 file is reported as a Violation (not raised).
    """
    arch = normalize_arch(arch)
    try:
        info = read_elf(path)
    except ElfError as e:
        return [Violation(os.fspath(path), str(e).split(": ", 1)[-1],
                          f"ship a 64-bit {arch} Linux ELF built by `python build.py`")]
    return check_info(info, arch, max_glibc, allowed_libs)


def _iter_files(root: str) -> Iterable[str]:
    if os.path.isfile(root):
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                yield full


def check_tree(root: str | os.PathLike, arch: str, max_glibc: tuple[int, int] = AL2023_GLIBC,
               allowed_libs: Iterable[str] = AL2023_LIBS
               ) -> tuple[list[ElfInfo], list[Violation]]:
    """Check every ELF file under ``root`` (found by magic, not by extension).

    A library shipped in the tree itself (by file name or DT_SONAME) counts as
    present: Lambda puts the task root on LD_LIBRARY_PATH.
    """
    arch = normalize_arch(arch)
    infos: list[ElfInfo] = []
    violations: list[Violation] = []
    for path in _iter_files(os.fspath(root)):
        if not is_elf(path):
            continue
        try:
            infos.append(read_elf(path))
        except ElfError as e:
            violations.append(Violation(path, str(e).split(": ", 1)[-1],
                                        f"ship a 64-bit {arch} Linux ELF built by `python build.py`"))
    bundled = {os.path.basename(i.path) for i in infos} | {i.soname for i in infos if i.soname}
    allowed = set(allowed_libs) | bundled
    for info in infos:
        violations.extend(check_info(info, arch, max_glibc, allowed))
    return infos, violations


def format_verdict(infos: Sequence[ElfInfo], violations: Sequence[Violation]) -> str:
    """Short summary, e.g.
    ``al2023 check: 2 ELF files, x86_64, max GLIBC_2.34, needs libc.so.6 libm.so.6: OK``;
    on failure the first line ends in ``FAILED (N problems)`` and one line per
    violation follows.
    """
    n = len(infos)
    parts = [f"{n} ELF file{'s' if n != 1 else ''}"]
    archs = sorted({i.arch for i in infos})
    if archs:
        parts.append("/".join(archs))
    versions = [t for i in infos for t in (_glibc_tuple(v) for v in i.glibc_versions) if t]
    parts.append(f"max {_fmt_version(max(versions))}" if versions else "no GLIBC versions")
    needed = sorted({lib for i in infos for lib in i.needed})
    parts.append("needs " + " ".join(needed) if needed else "no shared libraries")
    head = "al2023 check: " + ", ".join(parts)
    if n == 0 and not violations:
        return head + ": FAILED (no ELF file found)"
    if not violations:
        return head + ": OK"
    k = len(violations)
    lines = [f"{head}: FAILED ({k} problem{'s' if k != 1 else ''})"]
    lines.extend(f"  - {v}" for v in violations)
    return "\n".join(lines)


def verdict_ok(infos: Sequence[ElfInfo], violations: Sequence[Violation]) -> bool:
    """True when the tree passes (at least one ELF, no violation)."""
    return bool(infos) and not violations


def _parse_version(s: str) -> tuple[int, int]:
    m = re.fullmatch(r"(?:GLIBC_)?(\d+)\.(\d+)", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected a version like 2.34, got {s!r}")
    return int(m.group(1)), int(m.group(2))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m buildtools.elf_check",
        description="Check that ELF files load on AWS Lambda provided.al2023 "
                    "(glibc 2.34, glibc's own libraries only).")
    ap.add_argument("paths", nargs="+", metavar="PATH", help="ELF files or directories")
    ap.add_argument("--arch", required=True, choices=sorted(_ARCH_ALIASES),
                    help="target Lambda architecture")
    ap.add_argument("--max-glibc", type=_parse_version, default=AL2023_GLIBC,
                    help="highest glibc version allowed (default 2.34)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="also list each file's needs")
    args = ap.parse_args(argv)

    infos: list[ElfInfo] = []
    violations: list[Violation] = []
    for p in args.paths:
        if not os.path.exists(p):
            violations.append(Violation(p, "does not exist", "run `python build.py` first"))
            continue
        if os.path.isdir(p):
            i, v = check_tree(p, args.arch, args.max_glibc)
        else:
            v = check_elf(p, args.arch, args.max_glibc)
            try:
                i = [read_elf(p)]
            except ElfError:
                i = []
        infos.extend(i)
        violations.extend(v)
    if args.verbose:
        for i in infos:
            top = f"GLIBC_{i.max_glibc[0]}.{i.max_glibc[1]}" if i.max_glibc else "-"
            print(f"{i.path}: {i.arch} {i.elf_type}, max {top}, needs {' '.join(i.needed) or '-'}")
    print(format_verdict(infos, violations))
    return 0 if verdict_ok(infos, violations) else 1


if __name__ == "__main__":
    sys.exit(main())
