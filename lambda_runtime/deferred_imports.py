"""The stand-in a deferred `import M` binds (buildtools/deferred_imports.py rewrites the
statement): M is imported the first time one of its attributes is used, and the real
module then takes the stand-in's place in the importer's namespace, so later uses go
straight to it."""

import sys

_pending = []  # every stand-in made, for import_all()


def _module(stand_in):
    name, namespace, binding = object.__getattribute__(stand_in, "_where")
    module = sys.modules.get(name)
    if module is None:
        __import__(name)
        module = sys.modules[name]
    if namespace.get(binding) is stand_in:
        namespace[binding] = module
    return module


class DeferredModule:
    """Forwards everything to the module, importing it first."""

    __slots__ = ("_where",)

    def __init__(self, name, namespace, binding):
        object.__setattr__(self, "_where", (name, namespace, binding))
        _pending.append(self)

    def __getattribute__(self, attribute):
        return getattr(_module(self), attribute)

    def __setattr__(self, attribute, value):
        setattr(_module(self), attribute, value)

    def __delattr__(self, attribute):
        delattr(_module(self), attribute)

    def __dir__(self):
        return dir(_module(self))

    def __repr__(self):
        return repr(_module(self))


def import_all():
    """Imports every deferred module not imported yet (before a fork: the workers then
    share them, and each module's at-fork hooks are registered as with its eager import).
    Returns how many stand-ins were still waiting."""
    waiting = 0
    while _pending:
        stand_in = _pending.pop()
        name, namespace, binding = object.__getattribute__(stand_in, "_where")
        if namespace.get(binding) is stand_in:
            waiting += 1
            _module(stand_in)
    return waiting
