"""The libraries beyond glibc that a build ships next to `bootstrap`, and which copy wins.

Nuitka copies every library an extension module needs (libssl, libcrypto, libz, libffi,
liblzma, libbz2, libuuid, ...) into the output and gives each ELF DT_RPATH=$ORIGIN. The
loader searches DT_RPATH before LD_LIBRARY_PATH, so the shipped copy always wins: the
versions the build tested are the versions that run. That is the policy for every
library but OpenSSL.

OpenSSL is the one whose security updates matter most and whose ABI allows a swap: every
OpenSSL 3.x keeps the OPENSSL_3.0.0 symbol versions that CPython's _ssl and _hashlib were
linked against, and provided.al2023 carries an OpenSSL 3 that AWS patches (3.0.8 to 3.5.x
over time). So the ELFs that need libssl/libcrypto get DT_RUNPATH instead: searched after
LD_LIBRARY_PATH, whose system directories (/lib64, /usr/lib64) come first on Lambda. The
system's patched copy is used when it is there, the shipped one when it is not (a bare
root). The CA bundle then follows the library in use (see lambda_runtime/tls.py).
"""

import os
import shutil
import subprocess
from dataclasses import dataclass

from devtools import facts

from . import elf_check

# Sonames looked up in the system's directories first (DT_RUNPATH), shipped as the fallback.
SYSTEM_FIRST = frozenset({"libssl.so.3", "libcrypto.so.3"})

# Never shipped: the C++ runtime and GCC's unwinder. manylinux wheels (numpy, pydantic-core)
# rely on the system's, as everywhere; al2023 has GCC 11's. This machine's (GCC 12) need
# glibc 2.35/2.36, so they could not load on Lambda anyway.
SYSTEM_ONLY = frozenset({"libstdc++.so.6", "libgcc_s.so.1"})

# Symbols whose newest glibc version keeps the C signature of the one glibc 2.34 has
# (only the implementation changed). An ELF built against a newer glibc that needs them
# gets its reference unversioned, so it binds to whichever the system has.
SAME_SIGNATURE_SYMBOLS = {"hypot": (2, 35)}

# Where the build machine's libraries live, per target architecture (Debian multiarch).
HOST_LIBRARY_DIRS = {arch: ("/lib/" + triplet, "/usr/lib/" + triplet) for arch, triplet in facts.GNU_TARGETS.items()}


@dataclass
class BundledLibrary:
    name: str          # file name in the output, e.g. libssl.so.3
    origin: str        # where it was copied from, e.g. "libssl3 3.0.17-1~deb12u2", or "a wheel"
    system_first: bool


def is_shared_library(filename):
    return filename.startswith("lib") and ".so" in filename


def drop_system_only(dist_dir):
    """Removes the SYSTEM_ONLY libraries Nuitka copied in. Returns their names."""
    dropped = []
    for name in sorted(SYSTEM_ONLY):
        path = os.path.join(dist_dir, name)
        if os.path.exists(path):
            os.unlink(path)
            dropped.append(name)
    return dropped


def unversion_same_signature_symbols(infos, patchelf, max_glibc=elf_check.AL2023_GLIBC):
    """Clears the version of SAME_SIGNATURE_SYMBOLS references newer than max_glibc, then
    points the version requirement no symbol uses any more at a version the ELF already
    needs from the same library (the loader checks every requirement, used or not)."""
    fixed = []
    for info in infos:
        for version, symbols in info.symbols_by_version.items():
            number = _glibc_number(version)
            if number <= max_glibc or not symbols:
                continue
            if all(SAME_SIGNATURE_SYMBOLS.get(symbol) == number[:2] for symbol in symbols):
                for symbol in symbols:
                    subprocess.run([patchelf, "--clear-symbol-version", symbol, info.path], check=True)
                _retarget_version_need(info.path, version, max_glibc)
                fixed += ["%s:%s" % (os.path.basename(info.path), symbol) for symbol in symbols]
    return fixed


def _glibc_number(version):
    if not version.startswith("GLIBC_2"):
        return ()
    return tuple(int(part) for part in version[len("GLIBC_"):].split("."))


def _retarget_version_need(path, version, max_glibc):
    """Rewrites the Vernaux entry named `version` (ELF64 little-endian) to the name and hash
    of another requirement of the same Verneed that is at most max_glibc."""
    import struct

    with open(path, "r+b") as f:
        data = bytearray(f.read())
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
        for sh_name, sh_type, _, _, sh_offset, _, sh_link, sh_info, _, _ in sections:
            if sh_type != 0x6FFFFFFE:  # SHT_GNU_verneed
                continue
            strtab = sections[sh_link][4]

            def name_at(offset):
                return bytes(data[strtab + offset:data.index(0, strtab + offset)]).decode()

            need = sh_offset
            for _ in range(sh_info):
                vn_version, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", data, need)
                entries, aux = [], need + vn_aux
                for _ in range(vn_cnt):
                    entries.append((aux,) + struct.unpack_from("<IHHII", data, aux))
                    aux += entries[-1][5]
                target = [e for e in entries if name_at(e[4]) == version]
                donors = [e for e in entries if _glibc_number(name_at(e[4])) and
                          _glibc_number(name_at(e[4])) <= max_glibc]
                if target and donors:
                    offset, donor = target[0][0], donors[0]
                    struct.pack_into("<I", data, offset, donor[1])          # vna_hash
                    struct.pack_into("<I", data, offset + 8, donor[4])      # vna_name
                need += vn_next
        f.seek(0)
        f.write(data)


def ship_needed_libraries(dist_dir, arch, patchelf):
    """Copies to the output's root every library beyond glibc that an ELF in the output needs
    and that is not there yet (the stdlib tree's extension modules: Nuitka did its own), and
    points each such ELF whose search path is not relative to itself at the root. Returns
    the names copied."""
    copied = []
    while True:
        infos, _ = elf_check.check_tree(dist_dir, arch)
        present = {os.path.basename(i.path) for i in infos} | {i.soname for i in infos if i.soname}
        for info in infos:
            if set(info.needed) - elf_check.AL2023_LIBS - SYSTEM_ONLY \
                    and not _read_rpath(patchelf, info.path).startswith("$ORIGIN"):  # none, or the build machine's
                to_root = os.path.relpath(dist_dir, os.path.dirname(info.path))
                rpath = "$ORIGIN" if to_root == "." else "$ORIGIN/" + to_root
                subprocess.run([patchelf, "--force-rpath", "--set-rpath", rpath, info.path], check=True)
        missing = sorted({lib for i in infos for lib in i.needed} - present - elf_check.AL2023_LIBS - SYSTEM_ONLY)
        found = [(lib, _host_library(lib, arch)) for lib in missing]
        found = [(lib, path) for lib, path in found if path]
        if not found:
            return copied
        for lib, path in found:
            target = os.path.join(dist_dir, lib)
            shutil.copy2(path, target)
            os.chmod(target, 0o644)
            copied.append(lib)


def _host_library(filename, arch):
    for directory in HOST_LIBRARY_DIRS.get(arch, ()):
        candidate = os.path.join(directory, filename)
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return None


def apply_search_order(infos, patchelf):
    """Switches every ELF that needs (or is) a SYSTEM_FIRST library from DT_RPATH to
    DT_RUNPATH, keeping its search path. `infos` are elf_check.ElfInfo of the output."""
    changed = []
    for info in infos:
        name = os.path.basename(info.path)
        if not (SYSTEM_FIRST & set(info.needed) or name in SYSTEM_FIRST):
            continue
        rpath = _read_rpath(patchelf, info.path) or "$ORIGIN"
        # Without --force-rpath, patchelf writes DT_RUNPATH (and drops DT_RPATH).
        subprocess.run([patchelf, "--set-rpath", rpath, info.path], check=True)
        changed.append(name)
    return changed


def drop_idle_search_paths(dist_dir, arch, patchelf):
    """An output that ships no library searches no directory of its own: the loader would
    look for libc and libm in the bootstrap's directory and its glibc-hwcaps/tls/haswell
    subdirectories first (~20 failed opens per cold start). Removes Nuitka's $ORIGIN from
    every ELF then (they all need glibc only). Returns the names changed."""
    if bundled_libraries(dist_dir, arch):
        return []
    infos, _ = elf_check.check_tree(dist_dir, arch)
    changed = []
    for info in infos:
        if set(info.needed) <= elf_check.AL2023_LIBS and _read_rpath(patchelf, info.path):
            subprocess.run([patchelf, "--remove-rpath", info.path], check=True)
            changed.append(os.path.relpath(info.path, dist_dir))
    return changed


def _read_rpath(patchelf, path):
    result = subprocess.run([patchelf, "--print-rpath", path], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def bundled_libraries(dist_dir, arch):
    """Every shared library (not an extension module) in the output, with where it came from."""
    found = []
    for dirpath, dirnames, filenames in os.walk(dist_dir):
        dirnames.sort()
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            if is_shared_library(filename) and elf_check.is_elf(path):
                found.append(BundledLibrary(os.path.relpath(path, dist_dir), _origin(filename, arch),
                                            filename in SYSTEM_FIRST))
    return found


def _origin(filename, arch):
    path = _host_library(filename, arch)
    if path is None:
        return "a wheel"
    return _debian_package(path) or path


def _debian_package(path):
    """'libssl3 3.0.17-1~deb12u2' for a file dpkg knows, else None."""
    try:
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode != 0:
            # dpkg records /lib paths for /usr/lib files on merged-/usr systems and vice versa
            alt = path[4:] if path.startswith("/usr/") else "/usr" + path
            owner = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
        if owner.returncode != 0:
            return None
        package = owner.stdout.split(": ", 1)[0].strip()  # "libssl3:amd64"
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                                 capture_output=True, text=True).stdout.strip()
        return "%s %s" % (package.split(":")[0], version)
    except OSError:  # not a Debian machine
        return None


def format_report(libraries):
    if not libraries:
        return "no shared library beyond glibc"
    lines = []
    for lib in libraries:
        order = "system copy first, this one as fallback" if lib.system_first else "always this copy"
        lines.append("%s (%s): %s" % (lib.name, lib.origin, order))
    return "\n".join(lines)
