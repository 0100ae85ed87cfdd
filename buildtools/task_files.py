"""The function's own files, put into the output at their relative paths in --src.

A managed-runtime zip holds everything the user put in it, and code finds its templates,
JSON files and certificates under LAMBDA_TASK_ROOT or next to `__file__`. The bootstrap's
output is LAMBDA_TASK_ROOT, and Nuitka gives compiled modules a `__file__` in it, so each
file goes where it was. The .py sources come along: they are what tracebacks show lines
from. Vendored third-party packages are left to Nuitka (bytecode plus their package data);
every *.dist-info goes to the root for importlib.metadata.
"""

import os
import shutil

from . import packages
from .sources import SourceError

RESERVED = ("bootstrap",)  # the runtime's own file at the root


def vendored_names(src, deps):
    """The third-party packages and modules installed into --src itself."""
    return {name for name in deps.packages + deps.modules
            if os.path.exists(os.path.join(src, name)) or os.path.exists(os.path.join(src, name + ".py"))}


def copy_into(src, dist_dir, deps):
    src = os.path.abspath(src)
    vendored = vendored_names(src, deps)
    copied = 0
    for dirpath, dirnames, filenames in os.walk(src):
        rel_dir = os.path.relpath(dirpath, src)
        if rel_dir == ".":
            dirnames[:] = [d for d in dirnames if d not in vendored and not d.endswith(".dist-info")]
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for filename in sorted(filenames):
            if filename.endswith(".pyc") or filename.startswith("."):
                continue
            rel = os.path.normpath(os.path.join(rel_dir, filename))
            if rel in RESERVED:
                raise SourceError("%s/%s: the name is the runtime's own (the bootstrap); rename it" % (src, rel))
            if rel_dir == "." and filename.endswith(".py") and filename[:-3] in vendored:
                continue
            target = os.path.join(dist_dir, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(dirpath, filename), target)
            copied += 1
    packages.copy_metadata(deps, dist_dir)
    print("    %d files from %s, %d distributions' metadata" % (copied, src, len(deps.dist_infos)))
