"""The compiled bootstrap against the mock Runtime API: the AWS Python contract end to end
(the tests marked portable also against the runtime under plain CPython, see conftest.py)."""

import json
import os
import subprocess
import sys
import time

import pytest

from conftest import TEST_HANDLERS
from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env


def invoke(api, event, **kwargs):
    request_id = api.enqueue(event, **kwargs)
    return api.wait_result(request_id, timeout=15)


@pytest.mark.portable
def test_echo(start_bootstrap, api):
    start_bootstrap("echo.handler")
    result = invoke(api, {"hello": "world", "n": [1, 2.5, None, True]})
    assert result.kind == "response" and result.status == 202
    assert result.json() == {"hello": "world", "n": [1, 2.5, None, True]}
    assert result.headers["content-type"] == "application/json"


@pytest.mark.portable
def test_every_context_field(start_bootstrap, api):
    start_bootstrap("echo.context_fields")
    deadline = int(time.time() * 1000) + 60000
    result = invoke(
        api, {}, request_id="req-123", deadline_ms=deadline,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        trace_id="Root=1-5e1b4151-5ac6c58f5b5d2b3f7b4d1a2c;Parent=1;Sampled=1",
        client_context=json.dumps({"custom": {"k": "v"}, "env": {"e": "1"},
                                   "client": {"installation_id": "i-1", "app_title": "app"}}),
        cognito_identity=json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}),
        tenant_id="tenant-7")
    fields = result.json()
    assert fields["aws_request_id"] == "req-123"
    assert fields["function_name"] == "mock-function"
    assert fields["function_version"] == "$LATEST"
    assert fields["memory_limit_in_mb"] == "128"  # a string, as in awslambdaric
    assert fields["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert fields["log_group_name"] == "/aws/lambda/mock-function"
    assert fields["log_stream_name"].startswith(time.strftime("%Y/%m/"))
    assert fields["tenant_id"] == "tenant-7"
    assert fields["identity"] == {"cognito_identity_id": "id-1", "cognito_identity_pool_id": "pool-1"}
    assert fields["client_context"] == {"custom": {"k": "v"}, "env": {"e": "1"},
                                        "client": {"installation_id": "i-1", "app_title": "app"}}
    assert 50000 < fields["remaining_ms"] <= 60000
    assert fields["trace_id"] == "Root=1-5e1b4151-5ac6c58f5b5d2b3f7b4d1a2c;Parent=1;Sampled=1"


@pytest.mark.portable
def test_context_defaults_without_optional_headers(start_bootstrap, api):
    start_bootstrap("echo.context_fields")
    fields = invoke(api, {}).json()
    assert fields["identity"] == {"cognito_identity_id": None, "cognito_identity_pool_id": None}
    assert fields["client_context"] is None
    assert fields["tenant_id"] is None


@pytest.mark.portable
def test_a_context_changed_by_the_handler_does_not_leak_into_the_next(start_bootstrap, api):
    """The function's settings live on the class and the empty identity is made per context:
    a handler that writes to its context changes only that one."""
    start_bootstrap("echo.mutate_context")
    expected = {"identity_id": None, "function_name": "mock-function", "w3c": {}, "no_client_context": True,
                "extra": False}
    assert invoke(api, {}).json() == expected
    assert invoke(api, {}).json() == expected


@pytest.mark.portable
@pytest.mark.parametrize("value", ["soon", "\u00b2", "-5", "1" * 19, ""])
def test_unusable_deadline_header_means_no_time_left(start_bootstrap, api, value):
    start_bootstrap("echo.context_fields")
    assert invoke(api, {}, headers={"Lambda-Runtime-Deadline-Ms": value}).json()["remaining_ms"] == 0


@pytest.mark.portable
def test_trace_id_is_per_invocation(start_bootstrap, api):
    start_bootstrap("echo.context_fields")
    assert invoke(api, {}, trace_id="Root=1-a").json()["trace_id"] == "Root=1-a"
    assert invoke(api, {}, headers={"Lambda-Runtime-Trace-Id": None}).json()["trace_id"] is None


@pytest.mark.portable
def test_handler_error_then_recovery(start_bootstrap, api):
    running = start_bootstrap("failing.value_error")
    result = invoke(api, {"n": 7})
    assert result.kind == "error"
    assert result.headers["lambda-runtime-function-error-type"] == "Function.ValueError"
    body = result.json()
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad value: 7"
    assert body["requestId"] == result.request_id
    assert body["stackTrace"] and 'failing.py", line' in body["stackTrace"][0]
    assert "in value_error" in body["stackTrace"][0]
    assert json.loads(result.headers["lambda-runtime-function-xray-error-cause"])["exceptions"][0]["type"] == "ValueError"
    assert invoke(api, {"n": 8}).json()["errorMessage"] == "bad value: 8"  # the loop went on
    assert running.process.poll() is None


@pytest.mark.portable
def test_exception_chain_reports_outer_and_broken_str_does_not_crash(start_bootstrap, api):
    start_bootstrap("failing.custom_error")
    body = invoke(api, {}).json()
    assert (body["errorType"], body["errorMessage"]) == ("CustomError", "outer")


@pytest.mark.portable
def test_broken_str_is_reported(start_bootstrap, api):
    start_bootstrap("failing.bad_str")
    result = invoke(api, {})
    assert result.json()["errorType"] == "BadStr"
    assert result.kind == "error"


@pytest.mark.portable
@pytest.mark.parametrize("kind, error", [("set", "Object of type set is not JSON serializable")])
def test_marshal_error(start_bootstrap, api, kind, error):
    running = start_bootstrap("echo.returns")
    result = invoke(api, {"kind": kind})
    assert result.kind == "error"
    assert result.headers["lambda-runtime-function-error-type"] == "Runtime.MarshalError"
    assert result.json()["errorMessage"] == "Unable to marshal response: " + error
    assert invoke(api, {"kind": "none"}).body == b"null"
    assert running.process.poll() is None


@pytest.mark.portable
def test_unmarshal_error(start_bootstrap, api):
    start_bootstrap("echo.handler")
    result = invoke(api, b"{not json")
    assert result.headers["lambda-runtime-function-error-type"] == "Runtime.UnmarshalError"
    assert result.json()["errorMessage"].startswith("Unable to unmarshal input: Expecting property name")


@pytest.mark.portable
def test_sys_exit_in_handler_ends_process_with_its_status(start_bootstrap, api):
    running = start_bootstrap("failing.exit_handler")
    api.enqueue({"code": 3})
    assert running.wait(10) == 3


@pytest.mark.portable
@pytest.mark.parametrize("handler, error_type, message", [
    ("nosuchmodule.handler", "Runtime.ImportModuleError", "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"),
    ("echo.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'echo'"),
    ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)"),
    ("sys.exit", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
    ("broken_import.handler", "Function.RuntimeError", "cannot start: missing configuration"),
])
def test_init_errors(start_bootstrap, api, handler, error_type, message):
    running = start_bootstrap(handler)
    result = api.wait_init_error(timeout=10)
    assert result.headers["lambda-runtime-function-error-type"] == error_type
    body = result.json()
    assert body["errorMessage"] == message
    assert running.wait(10) == 1
    _, stderr = running.output()
    assert "init error" in stderr and message in stderr


def test_handler_selected_at_run_time_and_default_from_build(start_bootstrap, api):
    start_bootstrap(handler=None)  # _HANDLER unset: the build's default (echo.handler)
    assert invoke(api, {"default": True}).json() == {"default": True}


@pytest.mark.portable
@pytest.mark.parametrize("chunk_size", [None, 7, 4096])
def test_chunked_events(start_bootstrap, api, chunk_size):
    start_bootstrap("echo.handler")
    event = {"data": "x" * 150000, "n": 1}
    assert invoke(api, event, chunked=True, chunk_size=chunk_size).json() == event


@pytest.mark.parametrize("size", [1024 * 1024, 6 * 1024 * 1024 - 64])
def test_large_events(start_bootstrap, api, size):
    start_bootstrap("echo.size")
    data = "".join(chr(97 + i % 26) for i in range(size))
    answer = invoke(api, {"data": data}).json()
    assert answer == {"length": size, "checksum": sum(data.encode()) % 4294967296,
                      "head": data[:32], "tail": data[-32:]}


@pytest.mark.portable
def test_freed_arenas_are_kept_for_the_next_event_within_a_bound(start_bootstrap, api):
    """An event's objects die with its invocation; the arenas they took are kept for the
    next one (no fresh pages to fault in), and no more than four after an outlier."""
    start_bootstrap("echo.arenas")
    records = [{"id": i, "name": "item-%d" % i, "tags": ["a", "b"], "dims": {"w": i}} for i in range(20000)]
    assert invoke(api, {"records": records}).json() == {"records": records}
    kept = invoke(api, {"arenas": True}).json()["kept"]
    assert 1 <= kept <= 4
    assert invoke(api, {"records": records * 3}).json() == {"records": records * 3}   # ~10 MiB of objects
    assert invoke(api, {"arenas": True}).json()["kept"] == 4


@pytest.mark.portable
def test_bytes_result_is_sent_raw(start_bootstrap, api):
    start_bootstrap("echo.returns")
    result = invoke(api, {"kind": "bytes"})
    assert result.body == b"\x00raw bytes\xff"
    assert result.headers["content-type"] == "application/unknown"


@pytest.mark.portable
def test_raw_handler(start_bootstrap, api):
    start_bootstrap("raw_echo.handler")
    assert invoke(api, b"reverse:abc").body == b"cba:esrever"
    assert invoke(api, b"\xff\x00 not json").body == b"\xff\x00 not json"


def test_next_held_idle(start_bootstrap, api):
    running = start_bootstrap("echo.handler")
    api.wait_for_next_poll(1, timeout=10)
    time.sleep(5)
    assert running.process.poll() is None
    assert invoke(api, {"after": "idle"}).json() == {"after": "idle"}


def test_thousand_invocations_on_one_connection(start_bootstrap, api):
    start_bootstrap("echo.handler")
    for i in range(1000):
        assert invoke(api, {"i": i}).body == b'{"i": %d}' % i
    runtime_connections = {r.conn_id for r in api.requests if r.path.startswith("/2018-06-01/runtime/")}
    assert len(runtime_connections) == 1


def test_response_and_next_poll_leave_in_one_write(start_bootstrap, api):
    """Each response carries the next GET /next right behind it (HTTP/1.1 pipelining): the
    mock finds the GET's bytes already there when it has read the response."""
    start_bootstrap("echo.handler")
    for i in range(20):
        assert invoke(api, {"i": i}).body == b'{"i": %d}' % i
    responses = [r for r in api.requests if r.kind == "response"]
    assert len(responses) == 20 and all(r.pipelined for r in responses)
    assert api.wait_for_next_poll(21)
    assert len({r.conn_id for r in api.requests if r.kind in ("next", "response")}) == 1


@pytest.mark.parametrize("args", [["plain", "--flag=1"], ["h\u00e9llo", "\u65e5\u672c"]], ids=["ascii", "utf8"])
def test_command_line_arguments_are_decoded(test_build, args):
    """The build skips loading every locale category for ASCII arguments (Nuitka patch 5 in
    buildtools/nuitka_lambda_plugin.py); others are still decoded with the locale's UTF-8."""
    with MockRuntimeAPI() as api:
        env = lambda_env(test_build.bootstrap, api.address, handler="echo.argv")
        env["LC_ALL"] = "C.UTF-8"
        process = subprocess.Popen([test_build.bootstrap] + args, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=os.path.dirname(test_build.bootstrap))
        try:
            assert api.wait_result(api.enqueue({}), timeout=20).json() == args
        finally:
            process.kill()
            process.wait()


def test_no_runtime_api_is_a_clear_error(test_build):
    env = lambda_env(test_build.bootstrap, "127.0.0.1:1", handler="echo.handler")
    result = subprocess.run([test_build.bootstrap], env=env, capture_output=True, text=True, timeout=10)
    assert result.returncode == 1
    assert "cannot connect to the Runtime API at 127.0.0.1:1" in result.stderr


def test_missing_runtime_api_variable(test_build):
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    result = subprocess.run([test_build.bootstrap], env=env, capture_output=True, text=True, timeout=10)
    assert result.returncode == 1 and "AWS_LAMBDA_RUNTIME_API is not set" in result.stderr


# -- the same handlers under AWS's own Python runtime client ---------------------------

def run_awslambdaric(handler, events):
    """Bodies (and error-type headers) awslambdaric posts for the events."""
    with MockRuntimeAPI() as api:
        env = lambda_env(sys.executable, api.address, handler=handler)
        env["PYTHONPATH"] = TEST_HANDLERS
        process = subprocess.Popen([sys.executable, "-m", "awslambdaric", handler], cwd=TEST_HANDLERS, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            return [api.wait_result(api.enqueue(event), timeout=20) for event in events]
        finally:
            process.kill()
            process.wait()


@pytest.mark.portable
@pytest.mark.parametrize("handler, events", [
    ("echo.returns", [{"kind": k} for k in ("none", "tuple", "int_keys", "decimal", "nan", "string", "set",
                                            "circular", "deep", "too_deep", "shared")]),
    ("echo.handler", [{"a": [1, 2.5, "\u00e9", None]}, [], "text", 12]),
    ("failing.value_error", [{"n": 1}]),
])
def test_matches_awslambdaric(start_bootstrap, api, handler, events):
    start_bootstrap(handler)
    ours = [invoke(api, event) for event in events]
    theirs = run_awslambdaric(handler, events)
    for mine, aws in zip(ours, theirs):
        assert mine.kind == aws.kind
        mine_body, aws_body = mine.body, aws.body
        if mine.kind == "error":
            mine_body, aws_body = mine.json(), aws.json()
            for body in (mine_body, aws_body):
                body.pop("requestId")
                body["stackTrace"] = [line.split(", line")[1].split("\n")[0] for line in body["stackTrace"]]
        assert mine_body == aws_body


def test_requirements_are_compiled_in(start_bootstrap, api):
    start_bootstrap("deps.handler")
    assert invoke(api, {}).json() == {"six": "1.16.0", "text": "bytes"}


def test_cython_handler_module(start_bootstrap, api):
    start_bootstrap("fast.handler")
    answer = invoke(api, {"data": "abc"}, request_id="cy-1").json()
    assert answer == {"checksum": 97 + 98 + 99, "length": 3, "request_id": "cy-1"}


def test_lean_start_up(start_bootstrap, api):
    """Only the selected handler module is imported, and none of what Nuitka or a naive
    runtime would load at start-up (inspect and the regex engine, json and its accelerator,
    logging)."""
    start_bootstrap("echo.modules")
    modules = set(invoke(api, {}).json())
    assert "echo" in modules
    assert not modules & {"failing", "broken_import", "deps", "fast", "streams", "logs", "lifecycle"}
    assert not modules & {"inspect", "re", "json", "_json", "logging", "enum", "typing", "traceback", "socket",
                          "_socket", "importlib", "warnings"}
    # the runtime's own error, streaming, logging and concurrency code loads when first needed
    assert not modules & {"lambda_runtime.errors", "lambda_runtime.streaming", "lambda_runtime.log_setup",
                          "lambda_runtime.concurrency"}


@pytest.mark.portable
def test_the_collector_is_on_for_the_handler(start_bootstrap, api):
    start_bootstrap("echo.collector")
    assert invoke(api, {}).json()["enabled"] is True


def test_the_start_ups_objects_are_left_out_of_collections(start_bootstrap, api):
    """The bootstrap starts with the collector off (buildtools/nuitka_lambda_plugin.py, (10))
    and freezes what its start-up made before it imports the handler."""
    start_bootstrap("echo.collector")
    assert invoke(api, {}).json()["frozen"] > 1000


def test_frozen_modules_without_deepfreeze(start_bootstrap, api):
    """CPython's deep-frozen modules are replaced by marshalled bytecode (buildtools/
    frozen_modules.py): the interpreter starts from it (importlib's bootstrap), and the
    frozen importer unmarshals a module's code again on demand."""
    start_bootstrap("echo.frozen")
    answer = invoke(api, {"modules": ["_frozen_importlib", "_frozen_importlib_external"]}).json()
    assert answer == {
        name: {"is_frozen": True, "origin": "frozen", "code_file": "<frozen %s>" % module, "unmarshalled": True}
        for name, module in [("_frozen_importlib", "importlib._bootstrap"),
                             ("_frozen_importlib_external", "importlib._bootstrap_external")]}


def test_zipimport_is_left_out(start_bootstrap, api):
    """The start-up does not load zipimport (nor `time` with it): no zipimporter path hook,
    and importing it says why (buildtools/frozen_modules.py STUBS)."""
    start_bootstrap("echo.zipimport_state")
    answer = invoke(api, {}).json()
    assert answer["path_hooks"] == [] and answer["loaded"] == []
    assert answer["import_error"].startswith("zipimport is not part of this Lambda bootstrap")


def test_inspect_works_on_compiled_code(start_bootstrap, api):
    """inspect is not loaded at start-up; Nuitka's patch for it runs when the handler
    module imports it (buildtools/nuitka_lambda_plugin.py, lambda_runtime/import_hooks.py)."""
    start_bootstrap("introspect.handler")
    assert invoke(api, {}).json() == {
        "created": "GEN_CREATED", "suspended": "GEN_SUSPENDED", "coroutine": "CORO_CREATED",
        "isgeneratorfunction": True, "signature": "(event, context)"}


def test_init_objects_are_frozen_and_the_collector_restored(start_bootstrap, api):
    """lambda_runtime/init_gc.py: the init ran with the collector held back; by the first
    invocation the thresholds are CPython's defaults again, the init's objects are in the
    permanent generation and the invocation's own are collectable as usual."""
    start_bootstrap("echo.gc_state")
    answer = invoke(api, {}).json()
    assert answer["threshold"] == [700, 10, 10] and answer["enabled"] is True
    assert answer["frozen"] > 1000
    assert answer["init_object_collectable"] is False
    assert answer["new_object_collectable"] is True


def test_a_build_without_botocore_carries_no_models_loader(start_bootstrap, api, test_build):
    """build.py leaves lambda_runtime.botocore_loader (and the mmap.so it needs) out of a
    build without botocore; a botocore from elsewhere still imports."""
    import zipfile

    start_bootstrap("echo.layer_botocore")
    assert invoke(api, {}).json() == {"loader": "Loader", "loader_carried": False}
    names = zipfile.ZipFile(test_build.zip_path).namelist()
    assert "bootstrap" in names and "mmap.so" not in names
