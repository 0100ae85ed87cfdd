"""Deferred standard-library imports in third-party packages (applied as Nuitka reads their
source; the runtime half is lambda_runtime/deferred_imports.py).

A package's module-level `import asyncio` runs asyncio's import (~40 modules with ssl,
socket and subprocess: 15 ms of a Powertools function's 50 ms import) even when asyncio is
only used inside functions that the function never calls. Such a statement becomes

    asyncio = __import__("lambda_runtime.deferred_imports").deferred_imports.DeferredModule("asyncio", globals(), "asyncio")

on the same line: the name holds a stand-in that imports the module on first use of any
of its attributes and puts the real module in its place in the importer's namespace.

Only where the stand-in cannot be told apart by the importer's own code:
  * the statement is `import M` or `import M as N` at module level (not inside try/if, so
    it is not guarding an optional dependency), one module per statement;
  * M is one of DEFERRABLE: standard-library modules whose import only defines names and
    imports other modules (random also seeds itself from os.urandom, at its first use
    then). At-fork hooks on the way (random's reseeding; asyncio's loop reset from
    CPython 3.12) only concern state made before a fork, and a module first imported
    after one sets itself up there; the fork of Managed Instances imports every deferred
    module first anyway (lambda_runtime/concurrency.py);
  * every other mention of the bound name in the module is an attribute of it
    (`asyncio.gather`): no assignment, `del`, `global`, second import, plain use of the
    name (passing the module itself somewhere), or a submodule import that rebinds it.
What does differ: `sys.modules` lacks the module until it is first used, and its import's
time is paid then instead of at init.
"""

import ast

# Standard-library modules whose import only defines names and imports other modules
# (read in CPython 3.11-3.13; at-fork hooks: see above), and that real packages import at
# module level for use in a few functions.
DEFERRABLE = frozenset({
    "asyncio",      # ~40 modules with ssl, socket, subprocess, concurrent.futures
    "bz2", "gzip", "lzma", "zipfile", "tarfile",
    "csv", "difflib", "pprint", "shutil", "tempfile",
    "random",       # seeds itself at import; its at-fork reseeding: see above
    "subprocess", "uuid",
})

_REPLACEMENT = ('{name} = __import__("lambda_runtime.deferred_imports").deferred_imports'
                '.DeferredModule("{module}", globals(), "{name}")')


def _candidates(tree):
    """{bound name: the Import node} of top-level `import M [as N]` with M deferrable."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Import) and len(node.names) == 1:
            alias = node.names[0]
            if alias.name in DEFERRABLE and "." not in alias.name:
                found[alias.asname or alias.name] = node
    return found


def _only_attribute_uses(tree, name, statement):
    """True when every mention of `name`, other than `statement`, reads an attribute of it."""
    attribute_values = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            attribute_values.add(id(node.value))
    for node in ast.walk(tree):
        if node is statement:
            continue
        if isinstance(node, ast.Name) and node.id == name:
            if not (isinstance(node.ctx, ast.Load) and id(node) in attribute_values):
                return False
        elif isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return False
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((alias.asname or alias.name.split(".")[0]) == name for alias in node.names):
                return False
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return False
        elif isinstance(node, ast.arg) and node.arg == name:
            return False
        elif isinstance(node, ast.ExceptHandler) and node.name == name:
            return False
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name == name:
            return False
        elif isinstance(node, ast.MatchMapping) and node.rest == name:
            return False
    return True


def defer_imports(source):
    """(new source, [deferred module names]); the source unchanged when nothing applies or
    it does not parse. Lines keep their numbers: each statement is replaced in place."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source, []
    edits = []
    for name, node in _candidates(tree).items():
        if node.lineno == node.end_lineno and _only_attribute_uses(tree, name, node):
            edits.append((node, name))
    if not edits:
        return source, []
    lines = source.splitlines(keepends=True)
    for node, name in sorted(edits, key=lambda edit: -edit[0].col_offset):
        line = lines[node.lineno - 1]
        start, end = _char_offsets(line, node.col_offset, node.end_col_offset)
        lines[node.lineno - 1] = line[:start] + _REPLACEMENT.format(name=name, module=node.names[0].name) + line[end:]
    return "".join(lines), sorted(node.names[0].name for node, _ in edits)


def _char_offsets(line, start_byte, end_byte):
    """ast's column offsets count UTF-8 bytes."""
    encoded = line.encode("utf-8")
    return len(encoded[:start_byte].decode("utf-8")), len(encoded[:end_byte].decode("utf-8"))
