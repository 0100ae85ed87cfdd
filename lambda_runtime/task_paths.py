"""sys.path as the managed Python runtime orders it, for code that was not compiled in.

Modules compiled into the bootstrap come first (Nuitka's finder sits before the path
finder). Then, as in AWS's runtime: LAMBDA_TASK_ROOT (a .py file in the zip that was
not compiled, a file dropped in later), then the layers' /opt/python/lib/python3.X/site-packages
and /opt/python.
"""

import sys

# Tests stand a directory in for /opt; nothing else should set this.
OPT_ROOT_FOR_TESTS = "_LAMBDA_NATIVE_OPT_ROOT_FOR_TESTS"


def lambda_sys_path(environ):
    opt = environ.get(OPT_ROOT_FOR_TESTS) or "/opt"
    version = "python%d.%d" % sys.version_info[:2]
    entries = []
    task_root = environ.get("LAMBDA_TASK_ROOT")
    if task_root:
        entries.append(task_root)
    entries += [opt + "/python/lib/" + version + "/site-packages", opt + "/python"]
    return entries


def extend_sys_path(environ):
    for entry in lambda_sys_path(environ):
        if entry not in sys.path:
            sys.path.append(entry)
