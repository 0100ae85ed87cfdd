"""Real functions, compiled: boto3 against moto's server, HTTPS clients against a server with
a CA made here, Powertools, pydantic, numpy, orjson, the stdlib, data files and metadata,
layers and uncompiled code, tracebacks with source lines, fork-after-init with live
connections. Each answer is compared with awslambdaric running the same handler and events
(same package versions: the build's requirements directory on its PYTHONPATH)."""

import json
import os
import socket
import subprocess
import pytest

from conftest import REAL_FUNCTION, TESTS
from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env
from devtools.local_services import run_awslambdaric

LAYER = os.path.join(TESTS, "functions", "layer")
UNCOMPILED = os.path.join(TESTS, "functions", "uncompiled")


def invoke_all(start_bootstrap, api, handler, events, env=None, bootstrap=None, timeout=60):
    start_bootstrap(handler, env=env, bootstrap=bootstrap, server=api)
    return [api.wait_result(api.enqueue(event), timeout=timeout) for event in events]


def assert_same_as_awslambdaric(ours, theirs):
    for mine, aws in zip(ours, theirs, strict=True):
        assert mine.kind == aws.kind, (mine.body, aws.body)
        assert mine.json() == aws.json()


# -- boto3 ------------------------------------------------------------------------------

BOTO3_EVENTS = [
    {"op": "s3", "bucket": "real-bucket", "key": "a/b.txt", "body": "h\u00e9llo s3"},
    {"op": "s3", "bucket": "real-bucket", "key": "c.txt", "body": "second"},
    {"op": "dynamodb", "table": "real-table", "id": "k1", "price": "19.99"},
    {"op": "sqs", "queue": "real-queue", "message": "m\u00eassage 1"},
    {"op": "ssm", "name": "/real/param", "value": "s3cr3t"},
    {"op": "missing_key", "bucket": "real-bucket"},
]


def test_boto3_services_match_awslambdaric(real_build, real_deps, start_bootstrap, api, moto):
    moto.reset()
    ours = invoke_all(start_bootstrap, api, "aws.handler", BOTO3_EVENTS, env=moto.env(),
                      bootstrap=real_build.bootstrap)
    moto.reset()
    theirs = run_awslambdaric("aws.handler", BOTO3_EVENTS, REAL_FUNCTION, [real_deps], env=moto.env())
    assert_same_as_awslambdaric(ours, theirs)
    answers = [r.json() for r in ours]
    assert answers[1]["keys"] == ["a/b.txt", "c.txt"]
    assert answers[2] == {"item": {"id": "k1", "price": 19.99, "tags": ["a", "b"]}, "price_type": "Decimal"}
    assert answers[3] == {"received": ["m\u00eassage 1"]}
    assert answers[4] == {"value": "s3cr3t"}
    assert answers[5]["error"] in ("NoSuchKey", "NoSuchBucket")


def test_aws_endpoint_url_is_honoured(real_build, start_bootstrap, api, moto):
    answer = invoke_all(start_bootstrap, api, "aws.endpoint", [{}], env=moto.env(),
                        bootstrap=real_build.bootstrap)[0].json()
    assert answer == {"endpoint": moto.url, "region": "us-east-1", "env": moto.url}


# -- TLS ----------------------------------------------------------------------------------

def _tls_events(url):
    return [
        {"client": "requests", "url": url},                       # certifi's bundle: no test CA
        {"client": "urllib", "url": url},                         # system default paths: no test CA
        {"client": "http.client", "url": url},
    ]


def test_tls_verification_fails_without_the_ca_as_under_cpython(real_build, real_deps, start_bootstrap, api,
                                                                 tls_server):
    events = _tls_events(tls_server.url)
    ours = invoke_all(start_bootstrap, api, "web.handler", events, bootstrap=real_build.bootstrap)
    theirs = run_awslambdaric("web.handler", events, REAL_FUNCTION, [real_deps])
    assert_same_as_awslambdaric(ours, theirs)
    for result in ours:
        assert result.json()["ok"] is False and result.json()["verify_failed"] is True


def test_tls_verifies_with_ssl_cert_file_and_an_explicit_bundle(real_build, real_deps, start_bootstrap, api,
                                                                tls_server):
    events = _tls_events(tls_server.url)[1:] + [{"client": "requests", "url": tls_server.url,
                                                  "verify": tls_server.ca}]
    env = {"SSL_CERT_FILE": tls_server.ca}
    ours = invoke_all(start_bootstrap, api, "web.handler", events, env=env, bootstrap=real_build.bootstrap)
    theirs = run_awslambdaric("web.handler", events, REAL_FUNCTION, [real_deps], env=env)
    assert_same_as_awslambdaric(ours, theirs)
    assert [r.json() for r in ours] == [{"ok": True, "body": tls_server.BODY}] * 3


def test_botocore_verifies_with_its_bundle_or_aws_ca_bundle(real_build, real_deps, start_bootstrap, api,
                                                            tls_server, moto):
    event = {"url": tls_server.url}
    for env, verified in ((moto.env(), False), (dict(moto.env(), AWS_CA_BUNDLE=tls_server.ca), True)):
        env.pop("AWS_ENDPOINT_URL")
        with MockRuntimeAPI() as server:
            ours = invoke_all(start_bootstrap, server, "web.botocore_tls", [event], env=env,
                              bootstrap=real_build.bootstrap)
        theirs = run_awslambdaric("web.botocore_tls", [event], REAL_FUNCTION, [real_deps], env=env)
        assert_same_as_awslambdaric(ours, theirs)
        assert ours[0].json()["verified"] is verified


# -- Powertools, pydantic, numpy, orjson ------------------------------------------------

def _rest_event(method, path, body=None, query=None):
    return {"resource": path, "path": path, "httpMethod": method, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters": None,
            "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
            "requestContext": {"requestId": "r1", "stage": "prod", "path": path, "httpMethod": method,
                               "resourcePath": path, "identity": {"sourceIp": "127.0.0.1"}},
            "body": json.dumps(body) if body is not None else None}


def _http_api_event(path):
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "", "headers": {},
            "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                        "sourceIp": "127.0.0.1", "userAgent": "t"},
                               "requestId": "r2", "routeKey": "$default", "stage": "$default"},
            "isBase64Encoded": False}


def _appsync_event(field, todo_id):
    return {"arguments": {"id": todo_id}, "identity": None, "source": None, "request": {"headers": {}},
            "prev": None, "stash": {},
            "info": {"parentTypeName": "Query", "fieldName": field, "variables": {}, "selectionSetList": ["id"]}}


def _sqs_event(*bodies):
    return {"Records": [{"messageId": "m%d" % i, "receiptHandle": "h", "body": body,
                         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000",
                                        "SenderId": "s", "ApproximateFirstReceiveTimestamp": "1700000000000"},
                         "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}
                        for i, body in enumerate(bodies)]}


LIBRARY_CASES = [
    ("pt.rest_handler", [_rest_event("GET", "/hello/ada", query={"q": "x"}),
                         _rest_event("POST", "/items", body={"items": [1, 2, 3]}),
                         _rest_event("GET", "/nowhere")]),
    ("pt.http_handler", [_http_api_event("/hello/bob")]),
    ("pt.appsync_handler", [_appsync_event("getTodo", "1"),
                            [_appsync_event("getTodosLater", "2"), _appsync_event("getTodosLater", "3")],
                            _appsync_event("nothing", "4")]),
    ("pt.batch_handler", [_sqs_event("ok", "fail", "ok2")]),
    ("pt.parse_handler", [{"id": 7, "items": ["a", "b"]}, {"id": "not a number", "items": []}]),
    ("pt.sqs_model_handler", [_sqs_event("one", "two"), {"Records": [{"body": 1}]}]),
    ("libs.pydantic_handler", [{"name": "ada", "age": 36}, {"name": "x", "age": -1}]),
    ("libs.numpy_handler", [{"values": [1, 2, 3.5]}]),
    ("libs.orjson_handler", [{"a": ["\u00e9", 1, None, True]}]),
    ("libs.cryptography_handler", [{"text": "s\u00e9cret"}]),
    ("vendored_use.handler", [{"name": "ada"}]),  # vendored with pip install -t: code, data, metadata
]


@pytest.mark.parametrize("handler, events", LIBRARY_CASES, ids=[c[0] for c in LIBRARY_CASES])
def test_libraries_match_awslambdaric(real_build, real_deps, start_bootstrap, api, handler, events):
    ours = invoke_all(start_bootstrap, api, handler, events, bootstrap=real_build.bootstrap)
    theirs = run_awslambdaric(handler, events, REAL_FUNCTION, [real_deps])
    for mine, aws in zip(ours, theirs, strict=True):
        assert mine.kind == aws.kind, (mine.body, aws.body)
        mine_body, aws_body = mine.json(), aws.json()
        if mine.kind == "error":  # paths and line texts aside, the same error
            for body in (mine_body, aws_body):
                body.pop("requestId", None)
                body.pop("stackTrace", None)
        assert mine_body == aws_body


def test_a_deferred_import_is_made_at_first_use(real_build, start_bootstrap, api):
    """Powertools' AppSync module imports asyncio at module level for its functions only:
    the init leaves it unimported (15 ms and ~40 modules of a Powertools function's init),
    the first AppSync request imports it and binds the module itself in its place."""
    events = [{}, [_appsync_event("getTodosLater", "1")], {}]
    handlers = ["asyncio_state", "appsync_handler", "asyncio_state"]
    before, answer, after = invoke_all(start_bootstrap, api, "pt.dispatch", [
        {"handler": h, "event": e} for h, e in zip(handlers, events)], bootstrap=real_build.bootstrap)
    assert before.json() == {"imported": False, "bound": "DeferredModule", "is_the_module": False}
    assert answer.json() == [{"id": "1", "title": "async"}], answer.body
    assert after.json() == {"imported": True, "bound": "module", "is_the_module": True}


def test_a_bytecode_module_frees_its_top_level_code_once_it_ran(real_build, real_deps, start_bootstrap, api):
    """Nuitka plugin (15): a module carried as bytecode drops its top-level code (and with it
    its class bodies) after running it, as CPython does; Nuitka's loader kept it alive."""
    [ours] = invoke_all(start_bootstrap, api, "vendored_use.top_level_code", [{}], bootstrap=real_build.bootstrap)
    [theirs] = run_awslambdaric("vendored_use.top_level_code", [{}], REAL_FUNCTION, [real_deps])
    assert ours.json() == {"carried_as_bytecode": True, "top_level_code_alive": False}
    assert theirs.json() == {"carried_as_bytecode": False, "top_level_code_alive": False}


def test_bytecode_modules_load_after_the_handler_replaced_the_binarys_fd(real_build, real_deps, start_bootstrap, api):
    """Nuitka plugin (8): modules carried as bytecode are read from the binary through an fd
    the bootstrap keeps on it; a handler that puts another file under that fd (closing fds,
    dup2) still imports them, read through the mapping instead of from the other file (here
    /dev/zero: unmarshalling its zeros would abort the process)."""
    [ours] = invoke_all(start_bootstrap, api, "binary_reads.replaced_then_import", [{}], bootstrap=real_build.bootstrap)
    [theirs] = run_awslambdaric("binary_reads.replaced_then_import", [{}], REAL_FUNCTION, [real_deps])
    assert ours.json() == {"binary_fds": 1, "carried_as_bytecode": True, "search": 2}, ours.body
    assert theirs.json() == {"binary_fds": 0, "carried_as_bytecode": False, "search": 2}


def test_powertools_logger_writes_json_lines(real_build, start_bootstrap, api):
    running = start_bootstrap("pt.rest_handler", bootstrap=real_build.bootstrap)
    api.wait_result(api.enqueue(_rest_event("GET", "/hello/ada"), request_id="pt-log-1"), timeout=30)
    running.stop()
    out, _ = running.output()
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(r["message"], r["service"], r["path"]) for r in records] == [("rest request", "pt-test", "/hello/ada")]


# -- the stdlib, codecs, files, metadata --------------------------------------------------

def test_stdlib_modules_match_awslambdaric(real_build, real_deps, start_bootstrap, api):
    ours = invoke_all(start_bootstrap, api, "stdlib_all.handler", [{}], bootstrap=real_build.bootstrap)[0].json()
    theirs = run_awslambdaric("stdlib_all.handler", [{}], REAL_FUNCTION, [real_deps])[0].json()
    errors = {name: value for name, value in ours.items() if isinstance(value, str) and value.startswith("ERROR")}
    assert errors == {}
    assert ours["subprocess"] == [1, True]  # the bootstrap run as a child, without AWS_LAMBDA_RUNTIME_API
    for name in ("subprocess", "ssl"):       # a different child program; OpenSSL's version string
        ours.pop(name), theirs.pop(name)
    assert ours == theirs


def _every_codec():
    import encodings

    directory = os.path.dirname(encodings.__file__)
    skip = {"__init__", "aliases", "mbcs", "oem", "cp65001"}  # Windows-only or not codecs
    return sorted(name[:-3] for name in os.listdir(directory) if name.endswith(".py") and name[:-3] not in skip)


def test_every_codec_is_importable_on_demand(real_build, start_bootstrap, api):
    codecs = _every_codec()
    assert len(codecs) > 100
    answer = invoke_all(start_bootstrap, api, "stdlib_all.codecs_handler", [{"codecs": codecs}],
                        bootstrap=real_build.bootstrap)[0].json()
    assert answer == {"failed": {}}


@pytest.mark.parametrize("module", ["mailbox", "xmlrpc.client", "email.mime.multipart", "encodings.cp1251",
                                    "sqlite3.dump", "wsgiref.simple_server", "tomllib", "graphlib"])
def test_stdlib_module_nothing_imported_is_found(real_build, start_bootstrap, api, module):
    answer = invoke_all(start_bootstrap, api, "stdlib_all.late_import", [{"module": module}],
                        bootstrap=real_build.bootstrap)[0].json()
    assert answer == {"module": module, "file": True}


def test_files_data_and_metadata_match_awslambdaric(real_build, real_deps, start_bootstrap, api):
    ours = invoke_all(start_bootstrap, api, "files.handler", [{}], bootstrap=real_build.bootstrap)
    theirs = run_awslambdaric("files.handler", [{}], REAL_FUNCTION, [real_deps])
    assert_same_as_awslambdaric(ours, theirs)
    answer = ours[0].json()
    assert answer["logo"] and answer["certifi_pem"] and answer["botocore_data"]
    assert answer["config"] == {"stage": "test", "n": 3}
    assert "f2py" in answer["numpy_scripts"]  # entry points of the installed distributions


def test_zip_carries_the_function_files_at_their_paths(real_build):
    import zipfile

    names = set(zipfile.ZipFile(real_build.zip_path).namelist())
    assert {"bootstrap", "assets/logo.svg", "data/config.json", "aws.py", "requirements.txt"} <= names
    assert any(n.startswith("boto3-") and n.endswith(".dist-info/METADATA") for n in names)
    assert any(n.startswith("python/lib/python3.11/") and n.endswith(".pyc") for n in names)


# -- tracebacks ---------------------------------------------------------------------------

def _frames(error_json):
    """(file name, line, function, source line) of each stackTrace entry."""
    frames = []
    for entry in error_json["stackTrace"]:
        head, _, source = entry.strip("\n").partition("\n")
        path = head.split('"')[1]
        line = head.split(", line ")[1].split(",")[0]
        function = head.rsplit(" in ", 1)[1]
        frames.append((os.path.basename(path), line, function, source.strip()))
    return frames


def test_tracebacks_carry_source_lines_as_awslambdaric(real_build, real_deps, start_bootstrap, api):
    events = [{"n": 5}]
    ours = invoke_all(start_bootstrap, api, "failing.handler", events, bootstrap=real_build.bootstrap)[0]
    theirs = run_awslambdaric("failing.handler", events, REAL_FUNCTION, [real_deps])[0]
    assert ours.error_type == "Function.ValueError"  # awslambdaric's header says Runtime.Unknown
    assert ours.json()["errorType"] == theirs.json()["errorType"] == "ValueError"
    assert _frames(ours.json()) == _frames(theirs.json())
    assert _frames(ours.json())[-1] == ("failing.py", "9", "_helper", 'raise ValueError("boom %s" % event.get("n"))')


def test_init_error_traceback_has_source_lines(real_build, start_bootstrap, api):
    running = start_bootstrap("failing_import.handler", bootstrap=real_build.bootstrap)
    error = api.wait_init_error(timeout=30)
    running.wait(10)
    assert error.json()["errorType"] == "RuntimeError"
    assert any('raise RuntimeError("import-time failure")' in entry for entry in error.json()["stackTrace"])


# -- layers and uncompiled code -----------------------------------------------------------

def test_layer_modules_are_importable_after_the_compiled_ones(real_build, start_bootstrap):
    env = {"_LAMBDA_NATIVE_OPT_ROOT_FOR_TESTS": LAYER}  # LAYER/python stands for /opt/python
    results = []
    for handler in ("layer_mod.handler", "sitepkg.handler", "aws.endpoint"):
        with MockRuntimeAPI() as server:
            start_bootstrap(handler, env=env, bootstrap=real_build.bootstrap, server=server)
            results.append(server.wait_result(server.enqueue({}, request_id="layer-1"), timeout=30).json())
    assert results[0] == {"from": "layer", "mailbox": "mailbox", "xmlrpc": "xmlrpc.client", "mime": "text/plain",
                          "request_id": "layer-1"}
    assert results[1] == {"from": "layer site-packages"}
    assert "endpoint" in results[2]  # the compiled-in aws module, not the layer's


def test_uncompiled_module_in_the_task_root(real_build, start_bootstrap, api):
    result = invoke_all(start_bootstrap, api, "late.handler", [{"k": 1}], env={"LAMBDA_TASK_ROOT": UNCOMPILED},
                        bootstrap=real_build.bootstrap)[0]
    assert result.json() == {"from": "task root", "json": '{"k": 1}'}


# -- fork after init ----------------------------------------------------------------------

def test_forked_workers_do_not_share_the_connections_of_the_init(real_build, start_bootstrap, api, moto):
    """forked.py makes an S3 call at import (its connection stays pooled) and opens a plain
    TCP connection; 4 workers then serve 24 invocations at once, each with its own body."""
    listener = socket.create_server(("127.0.0.1", 0))
    env = dict(moto.env(), AWS_LAMBDA_MAX_CONCURRENCY="4", FORKED_BUCKET_SUFFIX="fork",
               INIT_SOCKET_ADDRESS="127.0.0.1:%d" % listener.getsockname()[1])
    start_bootstrap("forked.handler", env=env, bootstrap=real_build.bootstrap)
    ids = [api.enqueue({"key": "k%02d" % i}) for i in range(24)]
    answers = [api.wait_result(rid, timeout=60).json() for rid in ids]
    assert [a["key"] for a in answers] == ["k%02d" % i for i in range(24)]
    assert all(a["match"] for a in answers), answers
    assert len({a["pid"] for a in answers}) > 1  # served by several workers
    listener.close()


def test_a_connection_opened_at_init_is_not_connected_in_a_worker(real_build, start_bootstrap, api, moto):
    listener = socket.create_server(("127.0.0.1", 0))
    env = dict(moto.env(), AWS_LAMBDA_MAX_CONCURRENCY="2", FORKED_BUCKET_SUFFIX="sock",
               INIT_SOCKET_ADDRESS="127.0.0.1:%d" % listener.getsockname()[1])
    start_bootstrap("forked.init_socket_state", env=env, bootstrap=real_build.bootstrap)
    answer = api.wait_result(api.enqueue({}), timeout=60).json()
    assert answer["connected"] is False
    listener.close()


# -- a root holding only glibc, with Lambda's environment -----------------------------------

def _bare_root_invocations(tmp_path, real_build, moto, tls_server, system_libraries=()):
    from bare_root import BareRoot

    root = BareRoot(tmp_path / "root", real_build.dist_dir, ca_bundle=tls_server.ca,
                    system_libraries=system_libraries)
    events = [("aws.handler", BOTO3_EVENTS[0]), ("web.handler", {"client": "urllib", "url": tls_server.url}),
              ("web.handler", {"client": "http.client", "url": tls_server.url}),
              ("web.loaded_libraries", {}), ("stdlib_all.handler", {})]
    answers = []
    for handler, event in events:
        with MockRuntimeAPI() as server:
            env = {k: v for k, v in lambda_env("/var/task/bootstrap", server.address, handler=handler,
                                               env=moto.env()).items()
                   if k.startswith(("AWS_", "_HANDLER", "LAMBDA_"))}
            process = root.popen(env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                answers.append(server.wait_result(server.enqueue(event), timeout=60))
            finally:
                process.kill()
                out, err = process.communicate()
            assert b"Aborted" not in err
    return [a.json() for a in answers]


def test_bare_glibc_root_serves_boto3_and_tls(tmp_path, real_build, moto, tls_server):
    moto.reset()
    s3, urllib_answer, http_answer, libraries, stdlib = _bare_root_invocations(tmp_path, real_build, moto, tls_server)
    assert s3["body"] == BOTO3_EVENTS[0]["body"]
    assert urllib_answer == http_answer == {"ok": True, "body": tls_server.BODY}  # via al2023's CA bundle path
    assert libraries["libssl.so.3"].startswith("/var/task/")  # no system copy: the shipped one
    assert libraries["libz.so.1"].startswith("/var/task/")
    assert {k: v for k, v in stdlib.items() if isinstance(v, str) and v.startswith("ERROR")} == {}


def test_system_openssl_wins_over_the_shipped_one_but_not_zlib(tmp_path, real_build, moto, tls_server):
    system = ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
              "/lib/x86_64-linux-gnu/libz.so.1"]
    moto.reset()
    _, urllib_answer, _, libraries, _ = _bare_root_invocations(tmp_path, real_build, moto, tls_server, system)
    assert urllib_answer == {"ok": True, "body": tls_server.BODY}
    assert libraries["libssl.so.3"] == "/lib64/libssl.so.3"
    assert libraries["libcrypto.so.3"] == "/lib64/libcrypto.so.3"
    assert libraries["libz.so.1"].startswith("/var/task/")  # ours always


def test_namedtuples_made_at_import_run_code_from_the_build_table(real_build, start_bootstrap, api):
    """buildtools/import_tables.py: the __new__ that namedtuple generates for botocore's
    ReadOnlyCredentials is the code the build compiled."""
    [result] = invoke_all(start_bootstrap, api, "libs.codegen_table", [{}], bootstrap=real_build.bootstrap)
    assert result.json() == {"table_in_use": True, "from_table": True,
                             "credentials": ["key", "secret", None]}


def test_regexes_compiled_at_import_come_from_the_build_table(real_build, start_bootstrap, api):
    """buildtools/import_tables.py: what urllib3 compiles at import is in the table; a pattern
    nobody compiled at build time goes through re's parser as usual."""
    [result] = invoke_all(start_bootstrap, api, "libs.regex_table", [{}], bootstrap=real_build.bootstrap)
    assert result.json() == {"table_in_use": True, "equal": True, "parsed": [r"[0-9]{3}-(?P<unseen>x)"],
                             "other_groups": 1}
