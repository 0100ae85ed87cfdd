"""Run a function right after a module is first imported, without importing it first.

Used to keep start-up lean: Nuitka's inspect patch and the logging set-up run only if
the program ever imports inspect or logging. The finder sits first on sys.meta_path,
answers nothing itself, and wraps the real loader of a watched module.
"""

import sys

_watched = {}


class _AfterImportLoader:
    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        self._callback(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _AfterImportFinder:
    @staticmethod
    def find_spec(name, path=None, target=None):
        callback = _watched.pop(name, None)
        if callback is None:
            return None
        for finder in sys.meta_path:
            if finder is _AfterImportFinder:
                continue
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AfterImportLoader(spec.loader, callback)
                return spec
        return None


def after_import(name, callback):
    """callback(module) runs once `name` is imported (now, if it already is)."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    _watched[name] = callback
    if _AfterImportFinder not in sys.meta_path:
        sys.meta_path.insert(0, _AfterImportFinder)
