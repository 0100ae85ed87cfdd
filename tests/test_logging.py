"""Logging compared with awslambdaric, line by line and field by field (timestamps aside).

The same handler module (tests/handlers/logs.py) runs under our runtime (the compiled
bootstrap, and under plain CPython: every test is portable) and under awslambdaric (from
.test-venv, `python -m awslambdaric logs.<fn>`), each against its own MockRuntimeAPI with the same request ids; their stdout is normalised and compared.
Normalisation: timestamps, file paths (basename kept) and source-code lines of stack
traces (the compiled bootstrap ships no sources, so it cannot print them).
"""

import json
import os
import re
import signal
import subprocess

import pytest

from conftest import ROOT, TEST_HANDLERS
from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env

RIC_PYTHON = os.path.join(ROOT, ".test-venv", "bin", "python")
TS_TEXT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TS_JSON = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

pytestmark = pytest.mark.portable



def _run(command, handler, events, env, cwd=None):
    """Runs one runtime process against a fresh mock for the given events -> (stdout, results)."""
    with MockRuntimeAPI() as api:
        environ = lambda_env(command[0], api.address, handler=handler, env=env)
        environ["LAMBDA_TASK_ROOT"] = TEST_HANDLERS
        environ.pop("AWS_EXECUTION_ENV", None)
        environ.pop("PYTHONPATH", None)
        for key in ("AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL"):
            if key not in (env or {}):
                environ.pop(key, None)
        process = subprocess.Popen(command, env=environ, cwd=cwd,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            results = []
            for i, event in enumerate(events):
                rid = api.enqueue(event, request_id="req-%d-%s" % (i, handler))
                results.append(api.wait_result(rid, timeout=15))
            api.wait_for_next_poll(len(events) + 1, timeout=10)   # done writing
        finally:
            process.send_signal(signal.SIGKILL)
            out, err = process.communicate(timeout=10)
    return out.decode("utf-8"), results


def run_both(program, handler, events=({},), env=None):
    ours = _run(program, handler, events, env)
    ric = _run([RIC_PYTHON, "-m", "awslambdaric", handler], handler, events, env, cwd=TEST_HANDLERS)
    return ours, ric


def _normalise_trace_line(line):
    # '  File "/x/y/logs.py", line 47, in unhandled' -> keep basename, line, function
    m = re.match(r'^(\s*)File "([^"]*)", line (\d+), in (.*)$', line)
    if m:
        return '%sFile "%s", line %s, in %s' % (m.group(1), os.path.basename(m.group(2)), m.group(3), m.group(4))
    return None  # not a frame line (in a stack trace: a source line, dropped)


def normalise_text(stdout):
    """Text records with "<ts>" for the timestamp; traceback lines (in logger.exception
    messages, or \r-joined in the unhandled-error record) with basenames and no source lines."""
    out = []
    previous_was_frame = False
    for line in stdout.split("\n"):
        if line.startswith("[") and "\t" in line:
            fields = line.split("\t")
            assert TS_TEXT.match(fields[1]), line
            fields[1] = "<ts>"
            line = "\t".join(fields)
        if "\r" in line:  # the unhandled-error record: one line, \r between its lines
            parts = line.split("\r")
            kept = parts[:2]
            for part in parts[2:]:
                norm = _normalise_trace_line(part.replace("\u00a0", " "))
                if norm is not None:
                    kept.append(norm)
            line = "\r".join(kept)
        norm = _normalise_trace_line(line)
        if norm is not None:
            out.append(norm)
            previous_was_frame = True
            continue
        if previous_was_frame and line.startswith("    "):
            continue  # a source line after a frame: the compiled bootstrap has none
        previous_was_frame = False
        out.append(line)
    return out


def _normalise_stack(frames):
    result = []
    for frame in frames:
        first = frame.split("\n")[0]
        result.append(_normalise_trace_line(first))
    return result


def normalise_json(stdout):
    records = []
    for line in stdout.split("\n"):
        if not line:
            continue
        record = json.loads(line)
        assert TS_JSON.match(record.pop("timestamp")), line
        if "stackTrace" in record:
            record["stackTrace"] = _normalise_stack(record["stackTrace"])
        if "location" in record:
            path, func, lineno = record["location"].rsplit(":", 2)
            record["location"] = "%s:%s:%s" % (os.path.basename(path), func, lineno)
        records.append(record)
    return records


def test_text_format_matches(program):
    (ours, _), (ric, _) = run_both(program, "logs.levels", events=({}, {}))
    assert normalise_text(ours) == normalise_text(ric)
    # no AWS_LAMBDA_LOG_LEVEL: the root logger keeps Python's WARNING, as in awslambdaric
    assert "\treq-0-logs.levels\troot warning\n" in ours and "[INFO]" not in ours
    assert "\treq-1-logs.levels\tcustom level 25\n" not in ours


def test_text_format_with_info_level(program):
    (ours, _), (ric, _) = run_both(program, "logs.levels", env={"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    assert normalise_text(ours) == normalise_text(ric)
    assert "[INFO]\t" in ours and "\treq-0-logs.levels\troot info 2\n" in ours
    assert "[Level 25]\t" in ours


def test_print_passes_through(program):
    (ours, _), (ric, _) = run_both(program, "logs.prints")
    assert ours == ric
    assert "plain print line\nmulti\nline print\nunicode \u00e9\u4e2d\n" in ours


@pytest.mark.parametrize("handler", ["logs.exception", "logs.extras"])
def test_text_exception_and_extras_match(program, handler):
    (ours, _), (ric, _) = run_both(program, handler, env={"AWS_LAMBDA_LOG_LEVEL": "INFO"})
    assert normalise_text(ours) == normalise_text(ric)


@pytest.mark.parametrize("handler", ["logs.levels", "logs.exception", "logs.extras"])
def test_json_format_matches(program, handler):
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    (ours, _), (ric, _) = run_both(program, handler, env=env)
    assert normalise_json(ours) == normalise_json(ric)
    assert ours.count("\n") == ric.count("\n")


def test_json_fields(program):
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    (ours, _), _ = run_both(program, "logs.extras", env=env)
    records = normalise_json(ours)
    first = records[0]
    assert first["level"] == "INFO" and first["message"] == "with extras"
    assert first["logger"] == "app.logs" and first["requestId"] == "req-0-logs.extras"
    assert first["user"] == "alice" and first["count"] == 3 and first["nested"] == {"a": [1, 2]}
    assert first["amount"] == "1.10" and first["tags"] == "{'x'}" and first["raw"] == "b'\\x00'"  # default=str
    assert records[1]["message"] == {"dict": "message", "n": 1}


def test_json_exception_fields(program):
    (ours, _), _ = run_both(program, "logs.exception", env={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    record = normalise_json(ours)[0]
    assert record["errorType"] == "ValueError" and record["errorMessage"] == "caught it"
    assert record["location"].startswith("logs.py:exception:")
    assert record["stackTrace"][0].startswith('  File "logs.py", line ')


def test_json_keeps_unicode(program):
    (ours, _), (ric, _) = run_both(program, "logs.levels", env={"AWS_LAMBDA_LOG_FORMAT": "JSON"})
    assert "\u00e9\u4e2d \U0001F600" in ours
    assert "\\u00e9" not in ours


@pytest.mark.parametrize("fmt", ["Text", "JSON"])
@pytest.mark.parametrize("level", ["DEBUG", "ERROR", "TRACE", "bogus"])
def test_log_level_filters(program, fmt, level):
    env = {"AWS_LAMBDA_LOG_FORMAT": fmt, "AWS_LAMBDA_LOG_LEVEL": level}
    (ours, _), (ric, _) = run_both(program, "logs.levels", env=env)
    norm = normalise_json if fmt == "JSON" else normalise_text
    assert norm(ours) == norm(ric)
    if level in ("DEBUG", "TRACE"):
        assert "root debug 1" in ours
    if level == "ERROR":
        assert "root error" in ours and "root warning" not in ours


@pytest.mark.parametrize("handler", ["logs.unhandled", "logs.unhandled_custom"])
@pytest.mark.parametrize("fmt", ["Text", "JSON"])
def test_unhandled_error_record_matches(program, handler, fmt):
    env = {"AWS_LAMBDA_LOG_FORMAT": fmt}
    (ours, ours_results), (ric, ric_results) = run_both(program, handler, events=({}, {}), env=env)
    norm = normalise_json if fmt == "JSON" else normalise_text
    assert norm(ours) == norm(ric)
    for mine, theirs in zip(ours_results, ric_results):
        assert mine.kind == theirs.kind == "error"
        a, b = json.loads(mine.body), json.loads(theirs.body)
        a["stackTrace"], b["stackTrace"] = _normalise_stack(a["stackTrace"]), _normalise_stack(b["stackTrace"])
        assert a == b
    if fmt == "Text":
        assert ours.startswith("[ERROR] ")
        assert "\rTraceback (most recent call last):\r" in ours
