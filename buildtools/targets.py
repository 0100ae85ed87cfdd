"""What a bootstrap is built for: a CPU architecture and a CPython version, and every fact
that follows from the pair, in one object (`Target`) that the build steps, invoke.py and
sam-deploy/deploy.py ask.

    target = targets.resolve("arm64", "3.11", work_dir)
    target.libpython        # the static libpython3.11.a for aarch64
    target.library_dirs     # where the target's shared libraries live (libssl.so.3, ...)
    target.run_command(p)   # how to run a bootstrap on this machine (qemu for arm64 on x86_64)

A native target is the host's own CPython X.Y (pyenv's, with its static libpython); arm64
on x86_64 is Nuitka run by the host's CPython 3.11, compiling against Debian's aarch64
CPython 3.11 (buildtools/debian_arm64.py). Nuitka's plugin gets the resolved target through
the environment (`to_env` / `from_env`) rather than working it out again.
"""

import dataclasses
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

from buildtools import elf_check, shared_libs
from devtools import facts

PYTHONS = ("3.11", "3.12", "3.13")
DEFAULT_PYTHON = "3.11"  # the smallest and leanest (README, "Benchmark")

_ENV = "LAMBDA_TARGET"

# Printed by the target's interpreter: the sysconfig facts a native target needs.
_QUERY = r"""
import json, sys, sysconfig
v = sysconfig.get_config_var
print(json.dumps({"version": "%d.%d" % sys.version_info[:2], "full_version": sys.version.split()[0],
                  "libpl": v("LIBPL"), "library": v("LIBRARY"), "include": sysconfig.get_paths()["include"],
                  "stdlib": sysconfig.get_paths()["stdlib"], "dynload": v("DESTSHARED"),
                  "ext_suffix": v("EXT_SUFFIX"), "libdir": v("LIBDIR"),
                  "builtins": sorted(sys.builtin_module_names)}))
"""


class TargetError(Exception):
    """The target cannot be built here; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Target:
    arch: str                 # x86_64 | arm64 (Lambda's names)
    python: str               # "3.11"
    full_version: str         # of the target's libpython, e.g. "3.11.2"
    interpreter: str          # the host CPython X.Y that runs Nuitka (the build venv is made from it)
    libpython: str            # static libpythonX.Y.a for `arch`
    include_dir: str          # Python.h and the pyconfig.h of `arch`
    stdlib_dir: str           # the .py stdlib matching libpython
    extension_dir: str        # the target's compiled stdlib modules (lib-dynload)
    ext_suffix: str           # their file name suffix
    builtin_modules: tuple    # modules built into libpython
    link_dir: str             # static archives libpython needs (-L, only those), or ""
    link_libraries: tuple     # their names (-l)
    library_dirs: tuple       # where the target's shared libraries live
    cross: bool               # built on a machine of another architecture

    @property
    def zig_target(self):
        return facts.zig_target(self.arch)

    @property
    def description(self):
        how = "cross-compiled against Debian's aarch64 CPython" if self.cross else "native"
        return "%s, CPython %s (%s)" % (self.arch, self.full_version, how)

    def find_library(self, name):
        """Path of the target's shared library `name` (e.g. "libssl.so.3"), or None."""
        return next((os.path.join(d, name) for d in self.library_dirs if os.path.exists(os.path.join(d, name))),
                    None)

    def pip_options(self):
        """pip install options that pick the wheels of this target: none for a native target
        (pip asks the running interpreter, capped at manylinux_2_34 by buildtools/pip_glibc);
        for a cross target its platform tags (every manylinux_2_Y up to glibc 2.34 and the
        legacy manylinux2014 alias), CPython version and ABI, and wheels only (an sdist would
        be built for the host)."""
        if not self.cross:
            return []
        return ["--only-binary=:all:", "--python-version", self.python, "--implementation", "cp",
                "--abi", "cp" + self.python.replace(".", "")] + [
                    option for tag in manylinux_tags(self.arch) for option in ("--platform", tag)]

    def venv_dir(self, root):
        return build_venv(root, self.python)

    def run_command(self, bootstrap):
        """argv that runs `bootstrap` (built for this target) on this machine."""
        return emulator_prefix(self.arch) + [bootstrap]

    def to_env(self):
        return {_ENV: json.dumps(dataclasses.asdict(self))}


def manylinux_tags(arch, glibc=facts.GLIBC_TARGET):
    """Wheel platform tags a bootstrap for `arch` can load, newest first: manylinux_2_34_aarch64
    ... manylinux_2_17_aarch64, manylinux2014_aarch64 (the same as 2_17, older wheels' name)."""
    machine = facts.GNU_TARGETS[arch].split("-")[0]
    major, minor = (int(part) for part in glibc.split("."))
    return ["manylinux_%d_%d_%s" % (major, y, machine) for y in range(minor, 16, -1)] + ["manylinux2014_" + machine]


def build_venv(root, python=DEFAULT_PYTHON):
    """The build venv of CPython `python`: one per version (it runs on the host, whatever the arch)."""
    return os.path.join(root, ".build-venv-" + python)


def from_env(environ=os.environ):
    """The Target build.py resolved (inside Nuitka's plugin), or None."""
    data = environ.get(_ENV)
    if not data:
        return None
    fields = json.loads(data)
    for name in ("builtin_modules", "link_libraries", "library_dirs"):
        fields[name] = tuple(fields[name])
    return Target(**fields)


def emulator_prefix(arch):
    """[] when this machine runs `arch` natively, else the qemu-user command to run it with."""
    if arch == facts.host_arch():
        return []
    from buildtools import debian_arm64

    if arch != "arm64":
        raise TargetError("cannot run a %s bootstrap on this %s machine" % (arch, facts.host_arch()))
    qemu = shutil.which(debian_arm64.QEMU)
    if not qemu:
        raise TargetError("running an arm64 bootstrap here needs %s: `python buildtools/debian_arm64.py`"
                          % debian_arm64.QEMU)
    return [qemu]


def launcher(bootstrap, directory):
    """An executable path that runs `bootstrap` here, for tools that take a path rather than
    an argv: the bootstrap itself, or a script in `directory` that runs it under qemu."""
    prefix = emulator_prefix(bootstrap_arch(bootstrap))
    if not prefix:
        return bootstrap
    path = os.path.join(directory, "bootstrap")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nexec %s \"$@\"\n" % shlex.join(prefix + [os.path.abspath(bootstrap)]))
    os.chmod(path, 0o755)
    return path


def bootstrap_arch(path):
    """Architecture of a built bootstrap (from its ELF header)."""
    return elf_check.read_elf(path).arch


# -- resolving ------------------------------------------------------------------------

def resolve(arch, python, work_dir, docker=False):
    """The Target for `arch` and `python` ("3.12") on this machine; work_dir holds what a
    cross target needs prepared (headers and link directory)."""
    arch = facts.normalize_arch(arch)
    if python not in PYTHONS:
        raise TargetError("--python %s: supported are %s" % (python, ", ".join(PYTHONS)))
    if arch == facts.host_arch():
        return _native(arch, python, sys.executable if docker else find_interpreter(python))
    if arch == "arm64" and facts.host_arch() == "x86_64":
        if python != "3.11":
            raise TargetError("arm64 on this x86_64 machine is built against Debian 12's aarch64 CPython, "
                              "which is 3.11 only; for --python %s use `python build.py --docker --arch arm64 "
                              "--python %s`" % (python, python))
        return _debian_arm64(find_interpreter(python), work_dir)
    raise TargetError("--arch %s cannot be built on a %s machine without Docker: "
                      "`python build.py --docker --arch %s`" % (arch, facts.host_arch(), arch))


def find_interpreter(python):
    """A host CPython `python` (X.Y): the one running this, else pyenv's newest X.Y.*, else pythonX.Y."""
    if "%d.%d" % sys.version_info[:2] == python:
        return getattr(sys, "_base_executable", None) or sys.executable
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = sorted(glob.glob(os.path.join(pyenv_root, "versions", python + ".*", "bin", "python" + python)),
                        key=_version_key, reverse=True)
    on_path = shutil.which("python" + python)
    for candidate in candidates + ([on_path] if on_path else []):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    raise TargetError("no CPython %s found (looked in %s/versions and for python%s on PATH): "
                      "`pyenv install %s`, which builds the static libpython a bootstrap needs"
                      % (python, pyenv_root, python, python))


def _version_key(path):
    match = re.search(r"/versions/(\d+)\.(\d+)\.(\d+)", path)
    return tuple(int(n) for n in match.groups()) if match else (0,)


def _query(interpreter):
    result = subprocess.run([interpreter, "-I", "-c", _QUERY], capture_output=True, text=True)
    if result.returncode != 0:
        raise TargetError("%s does not run: %s" % (interpreter, result.stderr[-500:]))
    return json.loads(result.stdout)


def _native(arch, python, interpreter):
    info = _query(interpreter)
    if info["version"] != python:
        raise TargetError("%s is CPython %s, not %s" % (interpreter, info["version"], python))
    libpython = os.path.join(info["libpl"] or "", info["library"] or "")
    if not libpython.endswith(".a") or not os.path.exists(libpython):
        raise TargetError(
            "%s has no static libpython (%s): a bootstrap must not need libpython.so, which Lambda does "
            "not have. Use a Python built with a static library (pyenv's are) or build with --docker."
            % (interpreter, libpython or "LIBPL/LIBRARY unknown"))
    return Target(arch=arch, python=python, full_version=info["full_version"], interpreter=interpreter,
                  libpython=libpython, include_dir=info["include"], stdlib_dir=info["stdlib"],
                  extension_dir=info["dynload"], ext_suffix=info["ext_suffix"],
                  builtin_modules=tuple(info["builtins"]), link_dir="", link_libraries=(),
                  library_dirs=tuple(d for d in (info["libdir"],) + shared_libs.HOST_LIBRARY_DIRS[arch]
                                     if d and os.path.isdir(d)),
                  cross=False)


def _debian_arm64(interpreter, work_dir):
    from buildtools import debian_arm64

    try:
        debian_arm64.check()
    except debian_arm64.MissingPackages as error:
        raise TargetError(str(error)) from None
    variables = {}
    with open(debian_arm64.SYSCONFIGDATA) as f:
        exec(f.read(), variables)  # a dict literal written by CPython's build
    config = variables["build_time_vars"]
    target_dir = os.path.join(work_dir, "target-arm64-3.11")
    return Target(arch="arm64", python="3.11", full_version=_header_version(config["INCLUDEPY"]),
                  interpreter=interpreter, libpython=os.path.join(config["LIBPL"], debian_arm64.LIBRARY),
                  include_dir=_include_overlay(config["INCLUDEPY"], debian_arm64.MULTIARCH,
                                               os.path.join(target_dir, "include")),
                  stdlib_dir=config["LIBDEST"], extension_dir=config["DESTSHARED"],
                  ext_suffix=config["EXT_SUFFIX"],
                  builtin_modules=_inittab_modules(os.path.join(config["LIBPL"], "config.c")),
                  link_dir=_static_link_dir(config["MODLIBS"], shared_libs.HOST_LIBRARY_DIRS["arm64"],
                                            os.path.join(target_dir, "lib")),
                  link_libraries=_static_libraries(config["MODLIBS"]),
                  library_dirs=shared_libs.HOST_LIBRARY_DIRS["arm64"], cross=True)


def _header_version(include_dir):
    with open(os.path.join(include_dir, "patchlevel.h")) as f:
        return re.search(r'#define PY_VERSION\s+"([^"]+)"', f.read()).group(1)


def _include_overlay(include_dir, multiarch, out_dir):
    """Debian's pythonX.Y/pyconfig.h picks <multiarch/pythonX.Y/pyconfig.h> from /usr/include,
    which the compiler must not search (its glibc headers are not the target's): a directory
    of links to the headers with the target's pyconfig.h in place of that switch."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    for name in os.listdir(include_dir):
        os.symlink(os.path.join(include_dir, name), os.path.join(out_dir, name))
    os.unlink(os.path.join(out_dir, "pyconfig.h"))
    name = os.path.basename(include_dir)
    os.symlink(os.path.join("/usr/include", multiarch, name, "pyconfig.h"), os.path.join(out_dir, "pyconfig.h"))
    return out_dir


def _inittab_modules(config_c):
    """Modules built into libpython: the entries of its config.c's _PyImport_Inittab."""
    with open(config_c) as f:
        return tuple(sorted(set(re.findall(r'\{"(\w+)",', f.read())) - {"__main__"}))


def _static_libraries(modlibs):
    """Libraries the built-in modules need (Debian builds zlib and pyexpat into libpython),
    beyond the ones zig's glibc provides."""
    names = []
    for name in re.findall(r"-l(\S+)", modlibs):
        if name not in ("m", "c", "dl", "pthread", "util", "rt") and name not in names:
            names.append(name)
    return tuple(names)


def _static_link_dir(modlibs, library_dirs, out_dir):
    """A directory holding only the static archives of _static_libraries(): linked into the
    bootstrap (libz.so and libexpat.so are not on provided.al2023), and the linker finds no
    shared library or glibc of the host there."""
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    for name in _static_libraries(modlibs):
        archive = next((os.path.join(d, "lib%s.a" % name) for d in library_dirs
                        if os.path.exists(os.path.join(d, "lib%s.a" % name))), None)
        if archive is None:
            raise TargetError("lib%s.a for arm64 is missing (libpython3.11-dev:arm64 depends on it)" % name)
        os.symlink(archive, os.path.join(out_dir, "lib%s.a" % name))
    return out_dir
