"""namedtuple's and dataclasses' generated methods, compiled at build time.

Both make methods by compiling a source they write: `collections.namedtuple` evals a
lambda for each class's __new__, `dataclasses` execs each class's __init__, __repr__,
__eq__... buildtools/import_tables.py compiled the sources that importing the function's
packages produces. Installed right after each of the two modules is imported, when the
build wrote the table: the module's `eval` (or `exec`), a module global the module's own
code finds before the builtin, looks the source up and runs its compiled code, the code
eval() and exec() compile from that source; any other source is compiled as usual.
"""

import builtins
import marshal
import sys

FILE = "python/codegen-cache.marshal"  # relative to the bootstrap; buildtools/import_tables.py writes it
GENERATING_CALLS = (("collections", "eval"), ("dataclasses", "exec"))  # (module, the builtin it compiles with)

_tables = {}  # path -> the table, or None when there is none


def header():
    """What the table is valid for: code objects marshal per interpreter version."""
    return (tuple(sys.version_info[:3]), sys.implementation.cache_tag)


def load(path):
    """The table at path: {(mode, source): code}; None when there is none, or when another
    interpreter made it."""
    if path not in _tables:
        try:
            with open(path, "rb") as f:
                made_for, table = marshal.loads(f.read())  # as regex_cache reads its table
            _tables[path] = table if made_for == header() else None
        except (OSError, EOFError, ValueError, TypeError):  # none, or damaged
            _tables[path] = None
    return _tables[path]


def watch(after_import, path):
    """Installs the table at path in each GENERATING_CALLS module once it is imported
    (after_import: lambda_runtime.import_hooks'), if the build wrote one."""
    if load(path) is not None:
        for name, _ in GENERATING_CALLS:
            after_import(name, lambda module: install(module, path))


def install(module, path):
    """Routes `module`'s eval or exec (GENERATING_CALLS) through the table at path. False
    when there is no table."""
    table = load(path)
    if table is None:
        return False
    mode = dict(GENERATING_CALLS)[module.__name__]
    builtin = getattr(builtins, mode)

    def compiled(source, globals=None, locals=None):
        code = table.get((mode, source)) if type(source) is str else None
        if globals is None:  # the caller's namespaces, which the builtin would have taken
            caller = sys._getframe(1)
            globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
        return builtin(source if code is None else code, globals, locals)

    compiled.__wrapped__ = builtin
    setattr(module, mode, compiled)
    return True
