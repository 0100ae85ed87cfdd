"""The regular expressions a function's packages compile when imported, compiled at build time.

CPython compiles a pattern in Python (re/_parser.py, then re/_compiler.py) and hands the
resulting program to `_sre.compile`. A boto3 init compiles 126 patterns that way: 12 ms of
its ~200 ms under CPython, the same in the bootstrap, where re's modules are bytecode too.

The build learns the patterns by importing, in a child process of the build's interpreter
(the bootstrap's CPython version), the function's third-party packages and the modules of
them that its code imports (never a module of the function's own), with every
`_sre.compile` call recorded. The table goes into the zip (lambda_runtime/regex_cache.py
names the file, defines its header and reads it); at run time re's compiler takes a pattern from it instead of
parsing and compiling it again.

Left out of the table: patterns whose compilation warned (the warning must still be given
at run time) and re.DEBUG ones (they print). A cross build (another architecture's
CPython, another patch release) writes no table: it would not be used.

    python buildtools/regex_cache.py [--path DIR]... OUT MODULE...   # the child process
"""

import argparse
import ast
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 300


def runtime_module():
    """lambda_runtime/regex_cache.py on its own (the package needs the runtime's native
    modules): the file's name and the table's header are defined there."""
    path = os.path.join(ROOT, "lambda_runtime", "regex_cache.py")
    spec = importlib.util.spec_from_file_location("_lambda_regex_cache", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def modules_to_train(src, deps, skip=()):
    """The function's third-party top-level names, and the modules of them that a file of
    `src` imports (from its import statements), in a stable order."""
    third_party = set(deps.packages) | set(deps.modules)
    wanted = set(third_party)
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in third_party and d not in skip and not d.startswith(".")]
        for filename in filenames:
            if filename.endswith(".py"):
                wanted.update(_imported_modules(os.path.join(dirpath, filename), third_party))
    return sorted(wanted)


def _imported_modules(path, third_party):
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (SyntaxError, ValueError):  # sources.check_project reports the function's own errors
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update("%s.%s" % (node.module, alias.name) for alias in node.names if alias.name != "*")
    return {name for name in names if name.split(".")[0] in third_party}


def write(python, dist_dir, modules, search_path, target):
    """The build step: trains in a child process and writes dist_dir/FILE."""
    if target.cross:
        print("    no regex table for a cross build (the target's CPython differs from the build's)")
        return
    out = os.path.join(dist_dir, runtime_module().FILE)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    command = [python, "-I", os.path.abspath(__file__)]
    for directory in search_path:
        command += ["--path", directory]
    command.append(out)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    result = subprocess.run(command + list(modules), env=env, cwd=dist_dir, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError("regex table: the training process failed:\n" + result.stderr[-3000:])
    if not os.path.exists(out) and not os.listdir(os.path.dirname(out)):
        os.rmdir(os.path.dirname(out))
    print("    " + result.stdout.strip().splitlines()[-1])


# -- the child process ------------------------------------------------------------------------

def train(modules):
    """{(pattern, flags): _sre.compile's other arguments} for what importing `modules`
    compiles, and the names that failed to import."""
    import importlib
    import types
    import warnings
    from re import DEBUG, _compiler

    real_sre = _compiler._sre
    last_call = []

    class RecordingSre:
        """Stands for _sre inside re._compiler: notes the arguments of compile() (as plain
        ints: the code holds re._constants' int subclasses, which marshal refuses)."""

        def __getattr__(self, name):
            return getattr(real_sre, name)

        def compile(self, pattern, flags, code, groups, groupindex, indexgroup):
            last_call.append((int(flags), [int(word) for word in code], int(groups), dict(groupindex),
                              tuple(indexgroup)))
            return real_sre.compile(pattern, flags, code, groups, groupindex, indexgroup)

    table = {}
    original = _compiler.compile

    def compile(p, flags=0):
        del last_call[:]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled = original(p, flags)
        if isinstance(p, (str, bytes)) and not caught and not flags & DEBUG and len(last_call) == 1:
            table[p, int(flags)] = last_call[0]
        return compiled

    _compiler._sre = RecordingSre()
    _compiler.compile = compile
    failed = []
    for name in modules:
        parent, _, attribute = name.rpartition(".")
        if not isinstance(getattr(sys.modules.get(parent), attribute, sys), types.ModuleType):
            continue  # `from package import Name`: a name, not a module
        try:
            importlib.import_module(name)
        except BaseException:  # an optional dependency missing, a module that exits: not ours to judge
            failed.append(name)
    _compiler.compile = original
    _compiler._sre = real_sre
    return table, failed


def _main():
    import marshal

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args()
    sys.path[:0] = args.path
    table, failed = train(args.modules)
    import _sre

    if table:  # none at all: the build ships no file
        with open(args.out, "wb") as f:
            marshal.dump((runtime_module().header(_sre), table), f)
    print("regex table: %d patterns from importing %d modules%s" % (
        len(table), len(args.modules), " (%d did not import: %s)" % (len(failed), ", ".join(failed[:8]))
        if failed else ""))


if __name__ == "__main__":
    _main()
