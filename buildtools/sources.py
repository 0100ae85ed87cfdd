"""What is in a handler directory, checked before anything is compiled.

check_project() finds every module the bootstrap will carry (plain .py modules, packages,
Cython .pyx modules), compiles each .py to catch syntax errors with file and line, and
makes sure the default handler's module and function exist.
"""

import ast
import os
from dataclasses import dataclass, field


class SourceError(Exception):
    """A problem in --src or --handler, worded for the user."""


@dataclass
class Project:
    src: str
    python_modules: list = field(default_factory=list)   # top-level .py modules
    packages: list = field(default_factory=list)         # top-level packages
    native_modules: list = field(default_factory=list)   # [(module name, .pyx path)]


def _is_identifier(name):
    return name.isidentifier()


def scan(src):
    if not os.path.isdir(src):
        raise SourceError("--src %s is not a directory" % src)
    project = Project(src=os.path.abspath(src))
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        stem, ext = os.path.splitext(entry)
        if os.path.isdir(path) and os.path.exists(os.path.join(path, "__init__.py")) and _is_identifier(entry):
            project.packages.append(entry)
        elif ext == ".py" and _is_identifier(stem):
            project.python_modules.append(stem)
        elif ext == ".pyx" and _is_identifier(stem):
            project.native_modules.append((stem, os.path.abspath(path)))
    if not (project.python_modules or project.packages or project.native_modules):
        raise SourceError("--src %s holds no Python module (.py, .pyx or package)" % src)
    names = [m for m in project.python_modules] + project.packages
    for name, _ in project.native_modules:
        if name in names:
            raise SourceError("%s is both a .pyx and a Python module in %s" % (name, src))
    return project


def python_files(src):
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for filename in sorted(filenames):
            if filename.endswith(".py"):
                yield os.path.join(dirpath, filename)


def check_syntax(src):
    for path in python_files(src):
        with open(path, "rb") as f:
            code = f.read()
        try:
            compile(code, path, "exec", dont_inherit=True)
        except SyntaxError as error:
            raise SourceError("syntax error in %s, line %s: %s\n    %s" % (
                error.filename, error.lineno, error.msg, (error.text or "").strip())) from None


def module_file(src, module):
    base = os.path.join(src, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py"), base + ".pyx"):
        if os.path.exists(candidate):
            return candidate
    return None


def defined_names(path):
    """Top-level names a .py module binds (def, class, assignment, import)."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), path)
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def check_handler(src, handler):
    module, dot, function = handler.rpartition(".")
    if not dot or not module or not function:
        raise SourceError("--handler %r must be MODULE.FUNCTION" % handler)
    module = module.replace("/", ".")
    path = module_file(src, module)
    if path is None:
        raise SourceError("handler module %r not found in %s (looked for %s.py, a package or a .pyx)"
                          % (module, src, module.replace(".", "/")))
    if path.endswith(".py") and function not in defined_names(path):
        raise SourceError("handler function %r is not defined in %s" % (function, path))


def check_project(src, handler):
    project = scan(src)
    check_syntax(src)
    check_handler(src, handler)
    return project


def top_level_packages(deps_dir):
    """Importable top-level names in a `pip install --target` directory."""
    names = []
    for entry in sorted(os.listdir(deps_dir)):
        path = os.path.join(deps_dir, entry)
        if entry.endswith((".dist-info", ".egg-info", ".data")) or entry in ("bin", "__pycache__") \
                or entry.startswith("."):
            continue
        stem, ext = os.path.splitext(entry)
        if os.path.isdir(path) and _is_identifier(entry):
            names.append(entry)
        elif ext == ".py" and _is_identifier(stem):
            names.append(stem)
    return names
