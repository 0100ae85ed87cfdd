"""Shadows nothing: the compiled-in `aws` module comes first, as in the managed runtime."""


def endpoint(event, context):
    return {"from": "layer, wrongly"}
