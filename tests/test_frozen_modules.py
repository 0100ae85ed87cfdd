"""buildtools/frozen_modules.py: the replacement for CPython 3.11's deepfreeze.o must define
every symbol the static libpython takes from deepfreeze.o, or the linker pulls deepfreeze.o
back in (duplicate symbols). The bootstrap side is tested end to end in
test_runtime_e2e.py (test_frozen_modules_without_deepfreeze)."""

import marshal
import os
import re
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "buildtools"))

import frozen_modules  # noqa: E402


def _libpython_archive():
    path = os.path.join(sysconfig.get_config_var("LIBPL"), sysconfig.get_config_var("LIBRARY"))
    assert os.path.isfile(path), path
    return path


def _undefined_symbols(tmp_path, member):
    data = subprocess.run(["ar", "p", _libpython_archive(), member], capture_output=True, check=True).stdout
    obj = tmp_path / member
    obj.write_bytes(data)
    out = subprocess.run(["nm", "--undefined-only", str(obj)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def _defined_functions(source):
    return set(re.findall(r"^(?:PyObject \*|int |void )(\w+)\(void\)", source, re.M))


def test_defines_everything_libpython_takes_from_deepfreeze(tmp_path):
    wanted = {s for s in _undefined_symbols(tmp_path, "frozen.o") if s.startswith("_Py_get_")}
    wanted |= {s for s in _undefined_symbols(tmp_path, "pylifecycle.o") if "Deepfreeze" in s}
    assert len(wanted) > 20 and {"_Py_Deepfreeze_Init", "_Py_Deepfreeze_Fini"} <= wanted
    assert wanted <= _defined_functions(frozen_modules.c_source())


def test_bytecode_is_the_modules_own(tmp_path):
    path = frozen_modules.source_path("importlib._bootstrap")
    code = marshal.loads(frozen_modules.bytecode("importlib._bootstrap", path))
    assert code.co_filename == "<frozen importlib._bootstrap>"
    assert "_install" in code.co_names
    assert frozen_modules.source_path("no_such_module_here") is None


def test_zipimport_is_a_stub_that_refuses_to_import():
    code = marshal.loads(frozen_modules.bytecode("zipimport", frozen_modules.source_path("zipimport")))
    assert code.co_filename == "<frozen zipimport>"
    with pytest.raises(ImportError, match="not part of this Lambda bootstrap"):
        exec(code, {})


def test_missing_sources_become_import_errors():
    source = frozen_modules.c_source(stdlib=str(ROOT))  # no stdlib there: every module missing
    assert source.count("lambda_missing_frozen(\"") == len(frozen_modules.FROZEN)
    assert "static const unsigned char" not in source


PYENV = os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions")


def _pyenv_archive(version):
    """pyenv's static libpythonX.Y.a of the newest X.Y.* installed."""
    import glob

    found = sorted(glob.glob(os.path.join(PYENV, version + ".*", "lib", "python" + version, "config-*",
                                          "libpython%s.a" % version)))
    assert found, "pyenv has no CPython %s with a static libpython" % version
    return found[-1]


@pytest.mark.parametrize("version, deep_frozen", [("3.11", True), ("3.12", True), ("3.13", False)])
def test_applies_where_the_archive_has_deepfreeze(version, deep_frozen):
    archive = _pyenv_archive(version)
    assert frozen_modules.applies(archive) is deep_frozen
    if deep_frozen:
        assert set(frozen_modules.getters(archive)) == set(frozen_modules.FROZEN)
        assert frozen_modules.c_source(libpython=archive)


def test_python_3_12_also_gets_the_code_version_counter():
    """3.12's deepfreeze.o also defines _Py_next_func_version (codeobject.o needs it)."""
    assert "uint32_t _Py_next_func_version = 1;" in frozen_modules.c_source(libpython=_pyenv_archive("3.12"))
    assert "_Py_next_func_version" not in frozen_modules.c_source(libpython=_pyenv_archive("3.11"))


def test_archive_members_reads_long_names(tmp_path):
    members = frozen_modules.archive_members(_pyenv_archive("3.11"))
    assert {"frozen.o", "deepfreeze.o", "pylifecycle.o"} <= set(members)
    assert all(not name.endswith("/") for name in members)
