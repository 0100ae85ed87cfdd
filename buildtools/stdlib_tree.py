"""The standard library the code did not import, as a tree of .pyc files next to `bootstrap`.

Nuitka carries only what it saw imported. A layer, a .py file left uncompiled, a codec
looked up by name or a library's lazy import can still ask for any stdlib module, which
the managed runtime has on disk. Carrying the whole stdlib inside the binary costs ~8 MiB
of RSS in every process (Nuitka's loader walks its whole bytecode table at start-up, and
readahead pages it in); a tree of sourceless .pyc files costs nothing until imported.

Layout (lambda_runtime/stdlib_tree.py finds modules there, after the compiled-in ones;
build.py tells the runtime the directory through the generated main script):
    python/lib/python3.X/<module>.pyc, <package>/__init__.pyc, ...
    python/lib/python3.X/lib-dynload/<extension>.cpython-3X-<arch>-linux-gnu.so
The extension modules find the libraries at the root through DT_RPATH, as Nuitka's own do.
"""

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

TREE_DIR = "python/lib"  # under the bootstrap's directory; passed to the runtime by build.py

# Left out: they need a terminal, a display or a compiler, are test suites, are tools of no
# use in a function, or do not load on provided.al2023.
STDLIB_LEFT_OUT = frozenset({
    "__phello__", "_tkinter", "tkinter", "turtle", "turtledemo", "idlelib", "curses", "_curses",
    "_curses_panel", "readline", "test", "lib2to3", "ensurepip", "venv", "distutils", "pydoc",
    "pydoc_data", "msilib", "_msi", "nturl2path", "_osx_support", "_aix_support", "antigravity",
    "this", "nis", "ossaudiodev", "spwd", "_crypt", "crypt", "xxsubtype", "_xxsubinterpreters",
    "_xxtestfuzz", "_ctypes_test", "xxlimited", "xxlimited_35", "_scproxy",
})

# Run by the build's Python (the bootstrap's version): compiles each module into the tree.
_COMPILE = r"""
import json, os, py_compile, sys, sysconfig
spec = json.load(sys.stdin)
stdlib, dynload = spec["stdlib"] or sysconfig.get_path("stdlib"), spec["dynload"] or sysconfig.get_config_var("DESTSHARED")
ext_suffix = spec["ext_suffix"] or sysconfig.get_config_var("EXT_SUFFIX")
out, skip_top, carried = spec["out"], set(spec["left_out"]), set(spec["carried"])
pure = ext = 0
for dirpath, dirnames, filenames in os.walk(stdlib):
    rel = os.path.relpath(dirpath, stdlib)
    parts = [] if rel == "." else rel.split(os.sep)
    if parts and (parts[0] in skip_top or parts[0].startswith(("config-", "lib-dynload", "site-packages"))
                  or any(p in ("test", "tests", "idle_test", "__pycache__") for p in parts)):
        dirnames[:] = []
        continue
    for filename in filenames:
        if not filename.endswith(".py"):
            continue
        stem = filename[:-3]
        names = parts + ([] if stem == "__init__" else [stem])
        if not names or names[0] in skip_top or ".".join(names) in carried:
            continue
        target = os.path.join(out, *parts, stem + ".pyc")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        try:
            py_compile.compile(os.path.join(dirpath, filename), cfile=target, doraise=True,
                               dfile=os.path.join(spec["display"], *parts, filename),
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            pure += 1
        except py_compile.PyCompileError:
            pass
os.makedirs(os.path.join(out, "lib-dynload"), exist_ok=True)
for filename in sorted(os.listdir(dynload)):
    name = filename.split(".", 1)[0]
    if filename.endswith(ext_suffix) and name not in skip_top and name not in carried and not name.startswith("_test"):
        shutil_copy = __import__("shutil").copy2
        shutil_copy(os.path.join(dynload, filename), os.path.join(out, "lib-dynload", filename))
        ext += 1
print(json.dumps({"pure": pure, "extensions": ext, "version": "%d.%d" % sys.version_info[:2]}))
"""


def _strip(paths):
    """pyenv's extension modules carry debug info (~4x their code)."""
    strip = shutil.which("strip")
    if not strip:
        print("    (no `strip` on PATH: the stdlib's extension modules keep their debug info)")
        return
    for path in paths:
        subprocess.run([strip, "--strip-unneeded", path], check=True)


def strip_extension_modules(dist_dir):
    """The extension modules Nuitka copies to the output's root (the stdlib's, as <name>.so)
    keep pyenv's debug info: ~7 MB, ~2.5 MB of a boto3 function's zip."""
    _strip(sorted(os.path.join(dist_dir, f) for f in os.listdir(dist_dir)
                  if f.endswith(".so") and not f.startswith("lib")))


def carried_modules(report_path):
    """Module names Nuitka put into the build (from its --report XML)."""
    root = ElementTree.parse(report_path).getroot()
    return sorted(m.get("name") for m in root.iter("module") if m.get("name"))


def tree_path(python):
    """The tree's directory relative to the bootstrap's, e.g. python/lib/python3.11."""
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return TREE_DIR + "/python" + version


def write(python, dist_dir, report_path, target=None):
    """target (buildtools/targets.py): whose stdlib sources and extension modules; a cross
    target's are not the build Python's own."""
    cross = target is not None and target.cross
    stdlib, dynload, ext_suffix = (target.stdlib_dir, target.extension_dir, target.ext_suffix) if cross else (None,) * 3
    relative = tree_path(python)
    version = relative.rsplit("python", 1)[1]
    out = os.path.join(dist_dir, relative)
    shutil.rmtree(os.path.join(dist_dir, TREE_DIR), ignore_errors=True)
    spec = {"out": out, "left_out": sorted(STDLIB_LEFT_OUT), "carried": carried_modules(report_path),
            "stdlib": stdlib, "dynload": dynload, "ext_suffix": ext_suffix,
            "display": "/var/task/" + TREE_DIR + "/python" + version}
    result = subprocess.run([python, "-c", _COMPILE], input=json.dumps(spec), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("compiling the stdlib tree failed:\n" + result.stderr[-3000:])
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    if not cross:  # Debian's aarch64 ones come stripped, for a CPU this strip may not know
        tree_dynload = os.path.join(out, "lib-dynload")
        _strip(sorted(os.path.join(tree_dynload, f) for f in os.listdir(tree_dynload)))
    print("    %s/python%s: %d modules as .pyc, %d extension modules (the rest of the stdlib)"
          % (TREE_DIR, version, counts["pure"], counts["extensions"]))
    return out
