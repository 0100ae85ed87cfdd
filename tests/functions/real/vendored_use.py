"""A package vendored into the function's directory with `pip install -t` (its dist-info
beside it), not listed in requirements.txt."""

import importlib.metadata

import vendored_greeting


def handler(event, context):
    return {"greeting": vendored_greeting.greet(event["name"]), "version": importlib.metadata.version("vendored-greeting"),
            "data": vendored_greeting.template().strip()}


def top_level_code(event, context):
    return {"carried_as_bytecode": hasattr(vendored_greeting, "__uncompiled__"),  # Nuitka marks those
            "top_level_code_alive": vendored_greeting.TOP_LEVEL_CODE() is not None}
