"""Test handlers: echo and context inspection."""
import os


def handler(event, context):
    return event


def context_fields(event, context):
    identity = context.identity
    client = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "tenant_id": context.tenant_id,
        "identity": None if identity is None else {
            "cognito_identity_id": identity.cognito_identity_id,
            "cognito_identity_pool_id": identity.cognito_identity_pool_id,
        },
        "client_context": None if client is None else {
            "custom": client.custom,
            "env": client.env,
            "client": None if client.client is None else {
                "installation_id": client.client.installation_id,
                "app_title": client.client.app_title,
            },
        },
        "remaining_ms": context.get_remaining_time_in_millis(),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def mutate_context(event, context):
    """What the context held, then changes it: nothing may carry over to the next one."""
    seen = {"identity_id": context.identity.cognito_identity_id, "function_name": context.function_name,
            "w3c": context.w3c(), "no_client_context": context.client_context is None,
            "extra": hasattr(context, "extra")}
    context.identity.cognito_identity_id = "changed"
    context.function_name = "changed"
    context.extra = "changed"
    return seen


def returns(event, context):
    """Returns what the event names, to test the marshaller."""
    import decimal

    kind = event["kind"]
    if kind == "circular":
        loop = {"name": "loop"}
        loop["self"] = [loop]
        return loop
    if kind in ("deep", "too_deep"):
        nested = []
        for _ in range(200 if kind == "deep" else 100000):
            nested = [nested]
        return {"nested": nested}
    if kind == "shared":
        part = {"x": [1, 2]}
        return [part, part, {"again": part}]
    return {
        "none": None,
        "tuple": (1, 2, "three"),
        "int_keys": {1: "a", 2: "b"},
        "decimal": {"d": decimal.Decimal("1.10")},
        "nan": [float("nan"), float("inf")],
        "bytes": b"\x00raw bytes\xff",
        "set": {1, 2},
        "string": "h\u00e9llo",
    }[kind]


def size(event, context):
    """Answers with the size of the event and a checksum, to test large events."""
    data = event["data"].encode()
    return {"length": len(data), "checksum": sum(data) % 4294967296, "head": event["data"][:32],
            "tail": event["data"][-32:]}


def arenas(event, context):
    """Echoes the event; {"arenas": true} asks how many freed object arenas the loop keeps."""
    if event == {"arenas": True}:
        import _lambda_runtime

        return {"kept": _lambda_runtime.kept_arenas()}
    return event


def collector(event, context):
    """The cyclic collector as the handler finds it."""
    import gc

    return {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}


def big_response(event, context):
    return "x" * event["length"]


def sleep(event, context):
    import time

    time.sleep(event.get("seconds", 0.5))
    return {"slept": event.get("seconds", 0.5), "pid": os.getpid()}


def modules(event, context):
    """The modules loaded when the handler runs (start-up cost regression checks)."""
    import sys

    return sorted(sys.modules)



def frozen(event, context):
    """What the frozen importer says of the modules named in the event (CPython's own
    frozen modules, served by buildtools/frozen_modules.py instead of deepfreeze)."""
    import _imp
    import importlib
    import sys

    answer = {}
    for name in event["modules"]:
        module = sys.modules.get(name) or importlib.import_module(name)
        code = _imp.get_frozen_object(name)
        answer[name] = {"is_frozen": _imp.is_frozen(name), "origin": module.__spec__.origin,
                        "code_file": code.co_filename,
                        # deep-frozen code is one static object; unmarshalled code is new each time
                        "unmarshalled": code is not _imp.get_frozen_object(name)}
    return answer


# A container made while the module is imported (during the init), for gc_state.
_MADE_AT_INIT = {"made": "at init"}


def gc_state(event, context):
    """The collector's state during an invocation: thresholds, whether the init's objects
    are frozen (in no generation) and this invocation's are not."""
    import gc

    made_now = {"made": "now"}
    tracked = gc.get_objects()
    return {"threshold": list(gc.get_threshold()), "enabled": gc.isenabled(),
            "frozen": gc.get_freeze_count(),
            "init_object_collectable": any(o is _MADE_AT_INIT for o in tracked),
            "new_object_collectable": any(o is made_now for o in tracked)}


def zipimport_state(event, context):
    """sys.path_hooks' zipimporter, whether zipimport/time were loaded, and importing it."""
    import sys

    answer = {"path_hooks": [hook.__name__ for hook in sys.path_hooks if "zip" in hook.__name__],
              "loaded": sorted(name for name in ("zipimport", "time") if name in sys.modules)}
    try:
        import zipimport  # noqa: F401
    except ImportError as error:
        answer["import_error"] = str(error)
    return answer


def argv(event, context):
    import sys

    return sys.argv[1:]


def layer_botocore(event, context):
    """A botocore this build does not carry (as from a layer): it imports, and the runtime's
    baked-models hook stands aside (a build without botocore has no loader for it)."""
    import os
    import sys
    import tempfile

    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, "botocore"))
    open(os.path.join(root, "botocore", "__init__.py"), "w").close()
    with open(os.path.join(root, "botocore", "loaders.py"), "w") as f:
        f.write("class Loader:\n    pass\n")
    sys.path.insert(0, root)
    import botocore.loaders

    try:
        import lambda_runtime.botocore_loader  # noqa: F401
        carried = True
    except ImportError:
        carried = False
    return {"loader": botocore.loaders.Loader.__name__, "loader_carried": carried}
