"""The build-time regex table (buildtools/import_tables.py) and re's compiler answering from it
(lambda_runtime/regex_cache.py): what training records and leaves out, Patterns equal to
CPython's own compilation (Pattern.__eq__ compares the compiled code) without re's parser
running, and a table made by another interpreter left unused."""

import marshal
import re
import sys
import textwrap
import types

import pytest

from buildtools import import_tables

runtime = import_tables.runtime_module("regex_cache")

PACKAGE = '''
import re
import warnings

PLAIN = re.compile(r"(?P<scheme>[a-z]+)://(?P<host>[^/:]+)(?::(?P<port>\\d+))?")
FLAGGED = re.compile(r"""
    ^\\s*(?P<key>\\w+)   # a key
    \\s*=\\s*(?P<value>.*)$
""", re.VERBOSE | re.MULTILINE | re.IGNORECASE)
BYTES = re.compile(rb"\\x00[\\x01-\\x7f]+")
UNICODE = re.compile("[\\u00e9\\u4e2d]+|(?<=x)y", re.ASCII)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    WARNS = re.compile("[[a]")   # FutureWarning: possible nested set
try:
    re.compile("(unclosed")
except re.error:
    pass
'''
PATTERNS = [(r"(?P<scheme>[a-z]+)://(?P<host>[^/:]+)(?::(?P<port>\d+))?", 0),
            (rb"\x00[\x01-\x7f]+", 0),
            ("[\u00e9\u4e2d]+|(?<=x)y", re.ASCII)]


@pytest.fixture
def package(tmp_path):
    (tmp_path / "regexy").mkdir()
    (tmp_path / "regexy" / "__init__.py").write_text(textwrap.dedent(PACKAGE))
    return tmp_path


@pytest.fixture
def trained(package, tmp_path):
    """(table path, the table) trained by the child process on `regexy`."""
    dist = tmp_path / "dist"
    dist.mkdir()
    import_tables.write(sys.executable, str(dist), ["regexy", "not_installed"], [str(package)],
                      types.SimpleNamespace(cross=False))
    path = dist / runtime.FILE
    with open(path, "rb") as f:
        return path, marshal.load(f)[1]


@pytest.fixture
def cached_re():
    """This interpreter's re, its compiler restored after the test."""
    from re import _compiler

    original = _compiler.compile
    re.purge()
    yield re
    _compiler.compile = original
    re.purge()


def test_training_records_what_importing_compiles_but_not_what_warned_or_failed(trained):
    _, table = trained
    for key in PATTERNS:
        assert key in table
    verbose = [key for key in table if isinstance(key[0], str) and "a key" in key[0]]
    assert len(verbose) == 1 and verbose[0][1] == re.VERBOSE | re.MULTILINE | re.IGNORECASE
    assert ("[[a]", 0) not in table
    assert ("(unclosed", 0) not in table


def test_patterns_from_the_table_equal_cpythons_and_skip_the_parser(trained, cached_re, monkeypatch):
    path, table = trained
    from re import _compiler, _parser

    original = _compiler.compile
    assert runtime.install(cached_re, str(path))
    parsed = []
    real_parse = _parser.parse
    monkeypatch.setattr(_parser, "parse", lambda *a: parsed.append(a) or real_parse(*a))
    for pattern, flags in table:
        compiled = cached_re.compile(pattern, flags)
        expected = original(pattern, flags)
        assert compiled == expected
        assert (compiled.pattern, compiled.flags, compiled.groups, compiled.groupindex) == \
            (expected.pattern, expected.flags, expected.groups, expected.groupindex)
    assert len(parsed) == len(table)  # the `original` calls alone
    match = cached_re.compile(PATTERNS[0][0]).match("https://example.com:8443/x")
    assert match.groupdict() == {"scheme": "https", "host": "example.com", "port": "8443"}


def test_patterns_not_in_the_table_and_errors_go_to_cpythons_compiler(trained, cached_re):
    path, _ = trained
    assert runtime.install(cached_re, str(path))
    assert cached_re.compile(r"(\d+)-(\d+)").match("12-34").groups() == ("12", "34")
    with pytest.raises(re.error, match="missing \\), unterminated subpattern"):
        cached_re.compile("(unclosed")
    with pytest.warns(FutureWarning):
        cached_re.compile("[[a]")


def test_every_pattern_the_stdlib_and_botocore_compile_at_import_comes_out_equal(tmp_path, cached_re):
    """The property over real code: every recorded pattern, rebuilt from the table's arguments."""
    dist = tmp_path / "dist"
    dist.mkdir()
    modules = ["email.utils", "http.cookiejar", "string", "textwrap", "tokenize", "botocore.session",
               "botocore.utils", "urllib3"]
    import_tables.write(sys.executable, str(dist), modules, [p for p in sys.path if p], types.SimpleNamespace(cross=False))
    path = dist / runtime.FILE
    with open(path, "rb") as f:
        table = marshal.load(f)[1]
    assert len(table) > 60
    from re import _compiler

    original = _compiler.compile
    assert runtime.install(cached_re, str(path))
    for pattern, flags in table:
        assert _compiler.compile(pattern, flags) == original(pattern, flags)


def test_a_table_made_by_another_interpreter_is_not_used(trained, cached_re, tmp_path):
    path, table = trained
    other = tmp_path / "other.marshal"
    from re import _compiler

    header = list(runtime.header(_compiler._sre))
    header[0] = (3, 11, 0) if header[0] != (3, 11, 0) else (3, 11, 1)
    other.write_bytes(marshal.dumps((tuple(header), table)))
    original = _compiler.compile
    assert not runtime.install(cached_re, str(other))
    assert _compiler.compile is original
    assert not runtime.install(cached_re, str(tmp_path / "missing.marshal"))


def test_a_damaged_table_is_not_used(trained, cached_re, tmp_path):
    path, table = trained
    from re import _compiler

    original = _compiler.compile
    data = open(path, "rb").read()
    for damaged in (data[:len(data) // 2], b"", marshal.dumps("not a table")):
        (tmp_path / "damaged.marshal").write_bytes(damaged)
        assert not runtime.install(cached_re, str(tmp_path / "damaged.marshal"))
        assert _compiler.compile is original


def test_no_table_when_nothing_compiles_a_pattern(tmp_path, package):
    (package / "plain.py").write_text("VALUE = 1\n")
    dist = tmp_path / "dist"
    dist.mkdir()
    import_tables.write(sys.executable, str(dist), ["plain"], [str(package)], types.SimpleNamespace(cross=False))
    assert list(dist.iterdir()) == []


def test_a_cross_build_writes_no_table(tmp_path):
    import_tables.write(sys.executable, str(tmp_path), ["json"], [], types.SimpleNamespace(cross=True))
    assert not (tmp_path / runtime.FILE).exists()


def test_modules_to_train_are_third_party_names_and_what_the_code_imports_of_them(tmp_path):
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "app.py").write_text("import boto3\nfrom botocore.config import Config\nimport mine\n"
                                "from . import sibling\nimport json\n")
    (src / "pkg" / "mod.py").write_text("from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n")
    (src / "broken.py").write_text("def (:\n")
    deps = types.SimpleNamespace(packages=["boto3", "botocore", "aws_lambda_powertools"], modules=["six"])
    assert import_tables.modules_to_train(str(src), deps) == [
        "aws_lambda_powertools", "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.event_handler.APIGatewayRestResolver", "boto3", "botocore", "botocore.config",
        "botocore.config.Config", "six"]
