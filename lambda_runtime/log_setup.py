"""Logging as AWS's Python runtime sets it up, done only when the program imports logging.

Text: "[LEVEL]\t<ISO time>Z\t<request id>\t<message>\n". JSON (AWS_LAMBDA_LOG_FORMAT=JSON):
one object per record with timestamp, level, message, logger, requestId and the error
fields. AWS_LAMBDA_LOG_LEVEL sets the root level.
"""

import sys
import time

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_RESERVED = {
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info",
    "exc_text", "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread",
    "threadName", "processName", "process", "aws_request_id", "tenant_id", "_frame_type",
}


def configure(logging, log_format, log_level, current_invocation):
    """Installs the Lambda handler on the root logger. current_invocation() -> (request_id, tenant_id)."""
    logging.Formatter.converter = time.gmtime

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            request_id, tenant_id = current_invocation()
            record.aws_request_id = request_id or ""
            record.tenant_id = tenant_id
            return True

    class StdoutHandler(logging.Handler):
        def emit(self, record):
            try:
                sys.stdout.write(self.format(record))
                sys.stdout.flush()
            except Exception:
                self.handleError(record)

    handler = StdoutHandler()
    handler.setFormatter(_json_formatter(logging) if log_format == "JSON"
                         else logging.Formatter(TEXT_FORMAT, "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    root = logging.getLogger()
    level = {"TRACE": "DEBUG"}.get(log_level.upper(), log_level.upper()) if log_level else ""
    if level in logging._nameToLevel:
        root.setLevel(level)
    root.addHandler(handler)


def _json_formatter(logging):
    from . import marshal

    class JsonFormatter(logging.Formatter):
        def __init__(self):
            logging.Formatter.__init__(self, datefmt="%Y-%m-%dT%H:%M:%SZ")

        def format(self, record):
            traceback = sys.modules["traceback"]  # imported by logging itself

            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc_info = record.exc_info
            result = {
                "timestamp": self.formatTime(record, self.datefmt),
                "level": record.levelname,
                "message": record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage(),
                "logger": record.name,
                "stackTrace": traceback.format_tb(exc_info[2]) if exc_info else None,
                "errorType": exc_info[0].__name__ if exc_info else None,
                "errorMessage": str(exc_info[1]) if exc_info else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc_info else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            result.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and k not in result)
            result = {k: v for k, v in result.items() if v is not None}
            return _dumps_lenient(marshal, result) + "\n"

    return JsonFormatter()


def _dumps_lenient(marshal, value):
    """json.JSONEncoder(ensure_ascii=False, default=str).encode(value), as awslambdaric's
    JSON formatter does (non-ASCII kept, Decimal/objects/sets as str()), driven through the
    C encoder directly so that `json` (and `re`) are not imported."""
    return "".join(_json_encoder()(value, 0))


_ENCODER = []


def _json_encoder():
    if not _ENCODER:
        import _json

        _ENCODER.append(_json.make_encoder(
            {}, str, _json.encode_basestring, None, ": ", ", ", False, False, True))
    return _ENCODER[0]
