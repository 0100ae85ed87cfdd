"""Cython sources -> C (for the Nuitka build) or -> extension modules (for tests).

The runtime's native modules: runtime.pyx is the built-in module _lambda_runtime,
native/_lambda_http.pyx the HTTP parser it cimports and native/_lambda_json.pyx the JSON
fast path lambda_runtime.marshal wraps. A handler directory may add its own .pyx files;
each becomes a built-in module named after the file.
"""

import os
import subprocess
import sys
import sysconfig

from devtools import facts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE_DIR = os.path.join(ROOT, "native")

RUNTIME_MODULES = tuple((name, os.path.join(ROOT, source)) for name, source in facts.RUNTIME_NATIVE_MODULES)


class NativeBuildError(Exception):
    pass


def cythonize(pyx, module_name, out_dir, python=sys.executable, include_dirs=()):
    """Translates pyx to out_dir/<module_name>.c; returns the C path."""
    os.makedirs(out_dir, exist_ok=True)
    c_file = os.path.join(out_dir, module_name + ".c")
    if os.path.exists(c_file) and os.path.getmtime(c_file) >= _newest_source(pyx, include_dirs):
        return c_file
    command = [python, "-m", "cython", "-3", "--module-name", module_name, "-I", NATIVE_DIR,
               "-X", "embedsignature=False", "-o", c_file, pyx]
    for include in include_dirs:
        command[4:4] = ["-I", include]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise NativeBuildError("Cython failed on %s:\n%s%s" % (pyx, result.stdout, result.stderr))
    return c_file


def _newest_source(pyx, include_dirs):
    paths = [pyx] + [os.path.join(d, f) for d in (NATIVE_DIR,) + tuple(include_dirs)
                     for f in os.listdir(d) if f.endswith((".pxd", ".pyx"))]
    return max(os.path.getmtime(p) for p in paths)


def build_extension(c_file, module_name, out_dir, cc=None):
    """Compiles a Cython C file into an importable extension module (tests, plain CPython)."""
    cc = cc or os.environ.get("CC") or "cc"
    target = os.path.join(out_dir, module_name + sysconfig.get_config_var("EXT_SUFFIX"))
    if os.path.exists(target) and os.path.getmtime(target) >= os.path.getmtime(c_file):
        return target
    command = [cc, "-shared", "-fPIC", "-O2", "-I", sysconfig.get_paths()["include"], "-o", target, c_file]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise NativeBuildError("compiling %s failed:\n%s" % (c_file, result.stderr[-4000:]))
    return target


def build_runtime_extensions(out_dir):
    """Builds _lambda_http and _lambda_runtime as extension modules in out_dir."""
    for name, pyx in RUNTIME_MODULES:
        build_extension(cythonize(pyx, name, out_dir), name, out_dir)
    return out_dir


if __name__ == "__main__":
    print(build_runtime_extensions(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "ext")))
