"""A .py file in LAMBDA_TASK_ROOT that was not compiled in."""

import json


def handler(event, context):
    return {"from": "task root", "json": json.dumps(event)}
