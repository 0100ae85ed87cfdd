"""What a function's packages compute when imported, computed once at build time.

Importing boto3 compiles 126 regular expressions (12 ms of its ~200 ms under CPython, the
same in the bootstrap, where re's modules are bytecode too) and the sources of 33
namedtuples' and 6 dataclasses' generated methods (~2 ms). The build learns both by
importing, in a child process of the build's interpreter (the bootstrap's CPython
version), the function's third-party packages and the modules of them that its code
imports (never a module of the function's own), recording:

- every `_sre.compile` call: the regex table, read by lambda_runtime/regex_cache.py, which
  hands re's compiler the program CPython's parser and compiler made for that pattern;
- every source that `collections.namedtuple` evals and `dataclasses` execs, compiled: the
  code table, read by lambda_runtime/codegen_cache.py, which evals the compiled code of a
  source it finds there.

The runtime modules name the files and define their headers. Left out of the regex table:
patterns whose compilation warned (the warning must still be given at run time) and
re.DEBUG ones (they print). A table with nothing in it is not written, and a cross build
(another architecture's CPython, another patch release) writes none: it would not be used.

    python buildtools/import_tables.py [--path DIR]... DIST MODULE...   # the child process
"""

import argparse
import ast
import importlib.util
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 300


def runtime_module(name):
    """lambda_runtime/<name>.py on its own (the package needs the runtime's native modules):
    the table's file name and header are defined there."""
    path = os.path.join(ROOT, "lambda_runtime", name + ".py")
    spec = importlib.util.spec_from_file_location("_lambda_" + name, path)
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
    """The build step: trains in a child process, which writes the tables into dist_dir."""
    if target.cross:
        print("    no import tables for a cross build (the target's CPython differs from the build's)")
        return
    command = [python, "-I", os.path.abspath(__file__)]
    for directory in search_path:
        command += ["--path", directory]
    command.append(dist_dir)
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    result = subprocess.run(command + list(modules), env=env, cwd=dist_dir, capture_output=True, text=True,
                            timeout=TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError("import tables: the training process failed:\n" + result.stderr[-3000:])
    for line in result.stdout.strip().splitlines()[-2:]:
        print("    " + line)


# -- the child process ------------------------------------------------------------------------

class RegexRecorder:
    """{(pattern, flags): _sre.compile's other arguments} for the patterns re compiles."""

    def __init__(self):
        from re import _compiler

        self.runtime = runtime_module("regex_cache")
        self.table = {}
        self._compiler = _compiler
        self._original = _compiler.compile
        self._real_sre = _compiler._sre

    def start(self):
        from re import DEBUG
        import warnings

        real_sre, original, table, last_call = self._real_sre, self._original, self.table, []

        class RecordingSre:
            """Stands for _sre inside re._compiler: notes the arguments of compile() (as plain
            ints: the code holds re._constants' int subclasses, which marshal refuses)."""

            def __getattr__(self, name):
                return getattr(real_sre, name)

            def compile(self, pattern, flags, code, groups, groupindex, indexgroup):
                last_call.append((int(flags), [int(word) for word in code], int(groups), dict(groupindex),
                                  tuple(indexgroup)))
                return real_sre.compile(pattern, flags, code, groups, groupindex, indexgroup)

        def compile(p, flags=0):
            del last_call[:]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                compiled = original(p, flags)
            if isinstance(p, (str, bytes)) and not caught and not flags & DEBUG and len(last_call) == 1:
                table[p, int(flags)] = last_call[0]
            return compiled

        self._compiler._sre = RecordingSre()
        self._compiler.compile = compile

    def stop(self):
        self._compiler.compile = self._original
        self._compiler._sre = self._real_sre

    def header(self):
        return self.runtime.header(self._real_sre)

    def summary(self):
        return "regex table: %d patterns" % len(self.table)


class CodegenRecorder:
    """{(mode, source): code} for what collections.namedtuple evals and dataclasses execs,
    compiled as eval() and exec() compile a source string."""

    def __init__(self):
        self.runtime = runtime_module("codegen_cache")
        self.table = {}
        self._modules = [(importlib.import_module(module), name) for module, name in self.runtime.GENERATING_CALLS]

    def start(self):
        import builtins

        table = self.table

        def recording(mode, builtin):
            def call(source, globals=None, locals=None):
                if type(source) is str:
                    table.setdefault((mode, source), compile(source, "<string>", mode, dont_inherit=True))
                return builtin(source, globals, locals)
            return call

        for module, name in self._modules:
            setattr(module, name, recording(name, getattr(builtins, name)))

    def stop(self):
        for module, name in self._modules:
            delattr(module, name)

    def header(self):
        return self.runtime.header()

    def summary(self):
        return "code table: %d generated sources" % len(self.table)


def train(modules, recorders):
    """Imports `modules` with the recorders on; returns the names that failed to import."""
    import types

    for recorder in recorders:
        recorder.start()
    failed = []
    try:
        for name in modules:
            parent, _, attribute = name.rpartition(".")
            if not isinstance(getattr(sys.modules.get(parent), attribute, sys), types.ModuleType):
                continue  # `from package import Name`: a name, not a module
            try:
                importlib.import_module(name)
            except BaseException:  # an optional dependency missing, a module that exits: not ours to judge
                failed.append(name)
    finally:
        for recorder in recorders:
            recorder.stop()
    return failed


def _main():
    import marshal

    parser = argparse.ArgumentParser()
    parser.add_argument("dist")
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args()
    sys.path[:0] = args.path
    recorders = [RegexRecorder(), CodegenRecorder()]
    failed = train(args.modules, recorders)
    for recorder in recorders:
        if recorder.table:  # none at all: the build ships no file
            out = os.path.join(args.dist, recorder.runtime.FILE)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "wb") as f:
                marshal.dump((recorder.header(), recorder.table), f)
    print("imported %d modules%s" % (len(args.modules), " (%d did not import: %s)" % (
        len(failed), ", ".join(failed[:8])) if failed else ""))
    print("; ".join(recorder.summary() for recorder in recorders))


if __name__ == "__main__":
    _main()
