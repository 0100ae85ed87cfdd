"""Deferred standard-library imports: which statements the build rewrites
(buildtools/deferred_imports.py) and the stand-in they bind (lambda_runtime/deferred_imports.py),
run here on CPython. The built bootstrap's side is in test_real_functions.py."""

import sys
import textwrap
import threading
import types

import pytest

from buildtools.deferred_imports import defer_imports
from buildtools.import_tables import runtime_module

deferred_imports = runtime_module("deferred_imports")


def deferred(source):
    return defer_imports(textwrap.dedent(source))[1]


def test_an_import_used_only_through_attributes_is_deferred():
    source = textwrap.dedent('''\
        """doc"""
        import asyncio
        import json


        def run(coro):
            return asyncio.run(coro)
        ''')
    new, names = defer_imports(source)
    assert names == ["asyncio"]
    assert new.splitlines()[1].startswith("asyncio = __import__(\"lambda_runtime.deferred_imports\")")
    assert new.splitlines()[2] == "import json"  # not deferrable: left as it is
    assert len(new.splitlines()) == len(source.splitlines())  # tracebacks keep their lines
    compile(new, "m.py", "exec")


def test_an_alias_is_deferred_under_its_own_name():
    new, names = defer_imports("import tempfile as tf\n\ndef f():\n    return tf.mkdtemp()\n")
    assert names == ["tempfile"]
    assert new.startswith('tf = __import__("lambda_runtime.deferred_imports").deferred_imports.DeferredModule('
                          '"tempfile", globals(), "tf")')


@pytest.mark.parametrize("source", [
    "import asyncio\nloop = asyncio\n",                          # the module itself used
    "import asyncio\ndef f(m=asyncio): pass\n",                  # ... as a default
    "import asyncio\ndef f():\n    global asyncio\n    asyncio = None\n",
    "import asyncio\ndel asyncio\n",
    "import asyncio\nimport asyncio.events\n",                   # a submodule import rebinds it
    "import asyncio\nfor asyncio in (): pass\n",
    "import asyncio\ndef f(asyncio): return asyncio.x\n",        # a parameter shadows it
    "import asyncio\nclass asyncio: pass\n",
    "import asyncio\ntry:\n    pass\nexcept Exception as asyncio:\n    pass\n",
    "import asyncio\nprint([asyncio for asyncio in ()])\n",
    "import asyncio\nmatch {}:\n    case {**asyncio}:\n        pass\n",
    "import asyncio\nmatch 1:\n    case asyncio:\n        pass\n",
    "import asyncio, gzip\n",                                    # two per statement
    "try:\n    import asyncio\nexcept ImportError:\n    asyncio = None\n",  # guarding an optional module
    "import json\ndef f(): return json.dumps(1)\n",              # not on the list
    "import asyncio.events as events\ndef f(): return events.x\n",
    "def f():\n    import asyncio\n    return asyncio.run\n",    # not at module level
])
def test_anything_else_is_left_as_it_is(source):
    new, names = defer_imports(source)
    assert (new, names) == (source, [])


def test_a_source_that_does_not_parse_is_left_as_it_is():
    assert defer_imports("import asyncio\ndef (:\n") == ("import asyncio\ndef (:\n", [])


def test_a_statement_after_others_on_its_line_keeps_them():
    new, names = defer_imports("x = 1; import gzip\ndef f(): return gzip.open\n")
    assert names == ["gzip"]
    assert new.splitlines()[0].startswith("x = 1; gzip = __import__(")


# -- the stand-in -------------------------------------------------------------------------

@pytest.fixture
def fresh_module(monkeypatch):
    """A module `deferred_target` that is not imported yet, and the count of its imports."""
    imports = []

    class Finder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name != "deferred_target":
                return None
            import importlib.util

            class Loader:
                def create_module(self, spec):
                    return None

                def exec_module(self, module):
                    imports.append(module)
                    module.value = 42
                    module.twice = lambda x: 2 * x

            return importlib.util.spec_from_loader(name, Loader())

    monkeypatch.setattr(sys, "meta_path", [Finder] + sys.meta_path)
    monkeypatch.delitem(sys.modules, "deferred_target", raising=False)
    monkeypatch.setattr(deferred_imports, "_pending", [])
    # what the rewritten statement imports (the package itself needs the native modules)
    package = types.ModuleType("lambda_runtime")
    package.deferred_imports = deferred_imports
    monkeypatch.setitem(sys.modules, "lambda_runtime", package)
    monkeypatch.setitem(sys.modules, "lambda_runtime.deferred_imports", deferred_imports)
    return imports


def test_the_module_is_imported_on_first_use_and_takes_the_names_place(fresh_module):
    namespace = {}
    exec(defer_imports("import uuid as deferred\n")[0].replace('"uuid"', '"deferred_target"'), namespace)
    stand_in = namespace["deferred"]
    assert fresh_module == [] and "deferred_target" not in sys.modules
    assert stand_in.value == 42
    assert namespace["deferred"] is sys.modules["deferred_target"] is fresh_module[0]
    assert stand_in.twice(4) == 8  # a copy kept elsewhere still forwards
    assert len(fresh_module) == 1


def test_the_stand_in_looks_like_its_module(fresh_module):
    namespace = {}
    stand_in = deferred_imports.DeferredModule("deferred_target", namespace, "m")
    namespace["m"] = stand_in
    assert isinstance(stand_in, types.ModuleType)
    assert stand_in.__name__ == "deferred_target"
    assert "value" in dir(stand_in)
    assert repr(stand_in) == repr(sys.modules["deferred_target"])
    stand_in.added = "x"
    assert sys.modules["deferred_target"].added == "x"
    del stand_in.added
    assert not hasattr(sys.modules["deferred_target"], "added")
    with pytest.raises(AttributeError):
        stand_in.missing


def test_a_module_that_fails_to_import_fails_at_first_use():
    namespace = {}
    stand_in = deferred_imports.DeferredModule("no_such_module_here", namespace, "m")
    namespace["m"] = stand_in
    with pytest.raises(ModuleNotFoundError):
        stand_in.anything
    assert namespace["m"] is stand_in  # and again at the next use


def test_threads_using_it_at_once_import_it_once(fresh_module):
    namespace = {}
    stand_in = deferred_imports.DeferredModule("deferred_target", namespace, "m")
    namespace["m"] = stand_in
    results, start = [], threading.Barrier(8)

    def use():
        start.wait()
        results.append(stand_in.value)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 8 and len(fresh_module) == 1


def test_import_all_imports_what_is_still_waiting(fresh_module):
    used, waiting = {}, {}
    used["m"] = deferred_imports.DeferredModule("json", used, "m")
    used["m"].dumps  # imported on use already
    waiting["m"] = deferred_imports.DeferredModule("deferred_target", waiting, "m")
    assert deferred_imports.import_all() == 1
    assert waiting["m"] is sys.modules["deferred_target"] and len(fresh_module) == 1
    assert deferred_imports.import_all() == 0
