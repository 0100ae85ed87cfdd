"""The baseline: a plain-Python Lambda runtime loop, stdlib only (http.client + json).

    AWS_LAMBDA_RUNTIME_API=host:port _HANDLER=module.function python stdlib_loop.py

The handler's module is imported from sys.path (run it with PYTHONPATH or cwd = the
handler directory). No context object, no logging setup, no error details beyond the
message: the least a Python runtime can do per invocation.
"""
import http.client
import importlib
import json
import os

BASE = "/2018-06-01/runtime/invocation/"


def load_handler(spec):
    module_name, _, function_name = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def main():
    handler = load_handler(os.environ["_HANDLER"])
    conn = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])
    while True:
        conn.request("GET", BASE + "next")
        response = conn.getresponse()
        event = json.loads(response.read())
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        try:
            body, path = json.dumps(handler(event, None)).encode(), "/response"
        except Exception as error:  # noqa: BLE001 - reported to the Runtime API
            body = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}).encode()
            path = "/error"
        conn.request("POST", BASE + request_id + path, body, {"Content-Type": "application/json"})
        conn.getresponse().read()


if __name__ == "__main__":
    main()
