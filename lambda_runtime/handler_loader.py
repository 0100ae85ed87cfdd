"""Finds the handler named by _HANDLER ("module.function", a "/" in the module part is a
path) among the modules compiled into the bootstrap, with AWS's init error types."""

import sys


def _init_error(error_type, message, stack_trace=None):
    """An errors.InitError (errors is imported only when an init fails)."""
    from .errors import InitError

    return InitError(error_type, message, stack_trace)


# Names Lambda users cannot take for a handler module (awslambdaric: BuiltInModuleConflict).
# Our own native modules are built in too but are not in the user's namespace (the same
# set as devtools.facts.RUNTIME_BUILTINS, which the bootstrap does not carry; a test checks).
_RUNTIME_BUILTINS = {"_lambda_runtime", "_lambda_http", "_lambda_json", "_lambda_nuitka"}


def split_handler(spec):
    module_name, dot, function_name = spec.rpartition(".")
    if not dot or not module_name or not function_name:
        raise _init_error("Runtime.MalformedHandlerName", "Bad handler '%s': not enough values to unpack "
                        "(expected 2, got 1)" % spec)
    return module_name, function_name


def load_handler(spec):
    """Imports the handler's module and returns the function. Raises InitError, or the
    exception the module itself raised while being imported."""
    module_name, function_name = split_handler(spec)
    top = module_name.split(".")[0]
    if top in sys.builtin_module_names and top not in _RUNTIME_BUILTINS:
        raise _init_error("Runtime.BuiltInModuleConflict",
                        "Cannot use built-in module %s as a handler module" % module_name)
    dotted = module_name.replace("/", ".")
    try:
        __import__(dotted)
        module = sys.modules[dotted]
    except ImportError as error:
        raise _init_error("Runtime.ImportModuleError",
                        "Unable to import module '%s': %s" % (module_name, error)) from None
    except SyntaxError as error:
        trace = ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)]
        raise _init_error("Runtime.UserCodeSyntaxError",
                        "Syntax error in module '%s': %s" % (module_name, error), trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _init_error("Runtime.HandlerNotFound",
                        "Handler '%s' missing on module '%s'" % (function_name, module_name)) from None
