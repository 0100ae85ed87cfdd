"""The build-time code table (buildtools/import_tables.py) and namedtuple's and dataclasses'
generated methods taken from it (lambda_runtime/codegen_cache.py): what training records,
classes whose methods run the table's code and behave as CPython's own, any other source
compiled as usual, a table made by another interpreter left unused."""

import collections
import dataclasses
import marshal
import sys
import textwrap
import types

import pytest

from buildtools import import_tables

runtime = import_tables.runtime_module("codegen_cache")

PACKAGE = '''
import collections
import dataclasses
import typing

Point = collections.namedtuple("Point", "x y")
Pair = typing.NamedTuple("Pair", [("left", int), ("right", str)])


@dataclasses.dataclass(frozen=True)
class Settings:
    name: str
    retries: int = 3
    tags: list = dataclasses.field(default_factory=list)
'''


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(table path, the table) trained by the child process on the package `generated`."""
    root = tmp_path_factory.mktemp("codegen")
    (root / "generated").mkdir()
    (root / "generated" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    dist = root / "dist"
    dist.mkdir()
    import_tables.write(sys.executable, str(dist), ["generated"], [str(root)], types.SimpleNamespace(cross=False))
    path = dist / runtime.FILE
    with open(path, "rb") as f:
        made_for, table = marshal.load(f)
    assert made_for == runtime.header()
    return path, table


@pytest.fixture
def patched():
    """collections and dataclasses as they were, after the test."""
    yield
    for module, name in runtime.GENERATING_CALLS:
        vars(sys.modules[module]).pop(name, None)
    runtime._tables.clear()


def _code_named(code, name):
    """The code object called `name` in code or nested in its constants."""
    if code.co_name == name:
        return code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            found = _code_named(constant, name)
            if found is not None:
                return found
    return None


def _define(source):
    namespace = {}
    exec(textwrap.dedent(source), namespace)
    return namespace


def test_training_records_the_sources_namedtuple_and_dataclasses_compile(trained):
    _, table = trained
    modes = collections.Counter(mode for mode, _ in table)
    assert modes["eval"] == 2               # Point's and Pair's __new__
    assert modes["exec"] >= 1               # Settings' methods (3.11: one source per method)
    assert ("eval", "lambda _cls, x, y: _tuple_new(_cls, (x, y))") in table
    for (mode, source), code in table.items():
        assert code == compile(source, "<string>", mode, dont_inherit=True)


def test_generated_methods_run_the_tables_code_and_behave_as_cpythons(trained, patched):
    path, _ = trained
    reference = _define(PACKAGE)
    for module, _ in runtime.GENERATING_CALLS:
        assert runtime.install(sys.modules[module], str(path))
    cached = _define(PACKAGE)
    table = runtime.load(str(path))   # the objects the installed calls run

    new_source = ("eval", "lambda _cls, x, y: _tuple_new(_cls, (x, y))")
    assert cached["Point"].__new__.__code__ is _code_named(table[new_source], "<lambda>")
    init = [code for (mode, _), code in table.items() if mode == "exec" and _code_named(code, "__init__")]
    assert cached["Settings"].__init__.__code__ in [_code_named(code, "__init__") for code in init]

    Point, Settings, Pair = cached["Point"], cached["Settings"], cached["Pair"]
    assert Point(1, y=2) == (1, 2) and repr(Point(1, 2)) == repr(reference["Point"](1, 2))
    assert Point._make([3, 4]).y == 4 and Pair(1, "a")._asdict() == {"left": 1, "right": "a"}
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        Point(1)
    settings = Settings("s3")
    assert settings == Settings("s3", 3, []) and repr(settings) == repr(reference["Settings"]("s3"))
    assert hash(settings.__class__("a", 1, ())) == hash(reference["Settings"]("a", 1, ()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.name = "other"


def test_any_other_source_is_compiled_as_usual(trained, patched):
    path, _ = trained
    assert runtime.install(collections, str(path))
    table = runtime.load(str(path))
    Other = collections.namedtuple("Other", "a b c")
    assert Other(1, 2, 3).c == 3
    assert all(Other.__new__.__code__ is not _code_named(code, "<lambda>") for code in table.values())
    x = 40  # noqa: F841  (read by the eval below, from this frame, as the builtin would)
    assert collections.eval("x + 2") == 42
    assert collections.eval("y", {"y": 1}) == 1 and collections.eval("y", None, {"y": 2}) == 2


def test_a_table_made_by_another_interpreter_or_damaged_is_not_used(trained, patched, tmp_path):
    path, table = trained
    other = tmp_path / "other.marshal"
    other.write_bytes(marshal.dumps((((3, 11, 0) if sys.version_info[:3] != (3, 11, 0) else (3, 11, 1),
                                      sys.implementation.cache_tag), table)))
    assert not runtime.install(collections, str(other))
    damaged = tmp_path / "damaged.marshal"
    damaged.write_bytes(open(path, "rb").read()[:100])
    assert not runtime.install(collections, str(damaged))
    assert not runtime.install(collections, str(tmp_path / "missing.marshal"))
    assert "eval" not in vars(collections)


def test_no_table_for_a_package_that_generates_nothing_or_a_cross_build(tmp_path):
    (tmp_path / "plain.py").write_text("VALUE = 1\n")
    dist = tmp_path / "dist"
    dist.mkdir()
    import_tables.write(sys.executable, str(dist), ["plain"], [str(tmp_path)], types.SimpleNamespace(cross=False))
    assert not (dist / runtime.FILE).exists()
    import_tables.write(sys.executable, str(dist), ["generated"], [], types.SimpleNamespace(cross=True))
    assert not (dist / runtime.FILE).exists()


def test_watch_installs_in_both_modules_once_imported_and_only_with_a_table(trained, patched, tmp_path):
    path, _ = trained
    watched = []
    runtime.watch(lambda name, callback: watched.append(name) or callback(sys.modules[name]), str(path))
    assert watched == [module for module, _ in runtime.GENERATING_CALLS]
    assert hasattr(collections.eval, "__wrapped__") and hasattr(dataclasses.exec, "__wrapped__")
    runtime.watch(lambda name, callback: watched.append(name), str(tmp_path / "missing.marshal"))
    assert len(watched) == len(runtime.GENERATING_CALLS)
