"""Errors as data: the error JSON AWS's Python runtime posts and the lines it logs.

A report is an _lambda_runtime.ErrorReport (error type header, error JSON bytes, X-Ray
cause bytes or None), logged when it is made. The error JSON is {"errorMessage",
"errorType", "requestId", "stackTrace"} as awslambdaric sends it. Everything here runs
only when something failed, so it may import what it needs lazily.
"""

import os
import sys

from _lambda_runtime import ErrorReport

from . import marshal

ERROR_LOG_SEPARATOR = "\r"          # Lambda's log agent keeps a multi-line error in one record
ERROR_LOG_INDENT = "\u00a0"         # leading spaces become NO-BREAK SPACEs, as awslambdaric does
MAX_XRAY_CAUSE = 64 * 1024


class InitError(Exception):
    """The handler could not be loaded; error_type is one of the Runtime.* init types."""

    def __init__(self, error_type, message, stack_trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


class MarshalError(Exception):
    error_type = "Runtime.MarshalError"


class UnmarshalError(Exception):
    error_type = "Runtime.UnmarshalError"


def header_error_type(name, prefix):
    """A Lambda-Runtime-Function-Error-Type value: (Runtime|Function).[A-Z][a-zA-Z]+."""
    if "." in name:
        prefix, _, name = name.partition(".")
    valid = name[:1].isupper() and name.isascii() and name.isalpha()
    return "%s.%s" % (prefix, name if valid else "Unknown")


def _runtime_frame(filename):
    return filename.endswith("runtime.pyx") or "lambda_runtime" in filename


def extract_frames(tb):
    """(filename, lineno, name, line) for each traceback entry, the runtime's own leading
    frames dropped. Walked by hand: the traceback module would pull linecache, tokenize
    and re into the bootstrap."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append((code.co_filename, tb.tb_lineno, code.co_name, _source_line(code.co_filename, tb.tb_lineno)))
        tb = tb.tb_next
    for i, frame in enumerate(frames):
        if not _runtime_frame(frame[0]):
            return frames[i:]
    return frames


_source_lines = {}


def _source_line(filename, lineno):
    """The line's text when the source file is there (the build ships the function's own
    .py files at their paths), as the traceback module shows it."""
    linecache = sys.modules.get("linecache")  # use it if the program loaded it already
    if linecache:
        return linecache.getline(filename, lineno).strip() if lineno else ""
    lines = _source_lines.get(filename)
    if lines is None:
        try:
            with open(filename, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except (OSError, ValueError):
            lines = []
        _source_lines[filename] = lines
    return lines[lineno - 1].strip() if lineno and 0 < lineno <= len(lines) else ""


def format_frames(frames):
    """The strings traceback.format_list() makes."""
    return ['  File "%s", line %s, in %s\n' % (path, lineno, name) + ("    %s\n" % line if line else "")
            for path, lineno, name, line in frames]


def safe_str(exc):
    try:
        return str(exc)
    except Exception as inner:  # a broken __str__ must not take the runtime down
        return "<exception str() failed: %s>" % type(inner).__name__


def error_payload(message, error_type, stack_trace, request_id):
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id or "",
        "stackTrace": stack_trace or [],
    }


def report_exception(exc, request_id, log_format):
    """The ErrorReport for an exception from the handler or the contract, logged."""
    known_type = getattr(exc, "error_type", None)
    if isinstance(exc, (MarshalError, UnmarshalError)) or (
        known_type and type(exc).__module__.startswith("lambda_runtime")
    ):
        payload = error_payload(safe_str(exc), known_type, [], request_id)
        xray_cause = _xray_cause(known_type, payload["errorMessage"], [])
        return _logged_report(known_type, payload, xray_cause, log_format)
    frames = extract_frames(exc.__traceback__)
    name = type(exc).__name__
    payload = error_payload(safe_str(exc), name, format_frames(frames), request_id)
    xray_cause = _xray_cause(name, payload["errorMessage"], frames)
    return _logged_report(header_error_type(name, "Function"), payload, xray_cause, log_format)


def report_error(message, error_type, request_id, log_format):
    """The ErrorReport for an error of the runtime's own (no stack trace, no X-Ray cause), logged."""
    return _logged_report(error_type, error_payload(message, error_type, [], request_id), None, log_format)


def report_init_error(error, log_format):
    """The ErrorReport for an InitError or any exception while importing the handler
    module, logged, with a line on stderr."""
    if isinstance(error, InitError):
        header_type = error.error_type
        payload = error_payload(error.message, error.error_type, error.stack_trace, None)
    else:
        name = type(error).__name__
        header_type = header_error_type(name, "Function")
        payload = error_payload(safe_str(error), name, format_frames(extract_frames(error.__traceback__)), None)
    report = _logged_report(header_type, payload, None, log_format)
    print("lambda-runtime: init error %s: %s" % (header_type, payload["errorMessage"]), file=sys.stderr, flush=True)
    return report


def _logged_report(header_type, payload, xray_cause, log_format):
    log_error(payload, log_format)
    return ErrorReport(header_type, marshal.dumps(payload).encode(), xray_cause)


def _xray_cause(error_type, message, frames):
    cause = {
        "working_directory": os.getcwd(),
        "exceptions": [{
            "message": message,
            "type": error_type,
            "stack": [{"label": name, "path": path, "line": line} for path, line, name, _ in frames],
        }],
        "paths": sorted({path for path, _, _, _ in frames}),
    }
    encoded = marshal.dumps(cause).encode()
    return encoded if len(encoded) <= MAX_XRAY_CAUSE else None


def log_error(payload, log_format):
    """Writes the unhandled-error record to stdout as awslambdaric does (Text or JSON)."""
    if log_format == "JSON":
        import time

        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "level": "ERROR"}
        record.update(payload)
        line = marshal.dumps(record) + "\n"
    else:
        description = "[ERROR]"
        if payload["errorType"]:
            description += " " + payload["errorType"]
        if payload["errorMessage"]:
            description += (":" if payload["errorType"] else "") + " " + payload["errorMessage"]
        lines = [description, "Traceback (most recent call last):"]
        for element in payload["stackTrace"]:
            if element == "":
                lines.append("")
            for trace_line in element.splitlines():
                stripped = trace_line.lstrip(" ")
                lines.append(ERROR_LOG_INDENT * (len(trace_line) - len(stripped)) + stripped)
        line = ERROR_LOG_SEPARATOR.join(lines) + "\n"
    sys.stdout.write(line)
    sys.stdout.flush()
