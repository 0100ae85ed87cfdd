"""Test handlers for logging: run both by our bootstrap and by awslambdaric, lines compared.
Plain Python only (no lambda_runtime import), so awslambdaric can load this module."""
import decimal
import logging

logger = logging.getLogger("app.logs")


def levels(event, context):
    root = logging.getLogger()
    root.debug("root debug %s", 1)
    root.info("root info %s", 2)
    root.warning("root warning")
    root.error("root error")
    root.critical("root critical")
    logger.info("named info")
    logger.warning("named warning with unicode \u00e9\u4e2d \U0001F600")
    logging.info("module-level info")
    logger.log(25, "custom level 25")
    return {"ok": True}


def prints(event, context):
    print("plain print line")
    print("multi\nline print")
    print("unicode \u00e9\u4e2d")
    return "printed"


def exception(event, context):
    try:
        raise ValueError("caught it")
    except ValueError:
        logger.exception("something failed")
    return "logged"


def extras(event, context):
    logger.info("with extras", extra={"user": "alice", "count": 3, "nested": {"a": [1, 2]},
                                      "obj": object.__name__,
                                      "amount": decimal.Decimal("1.10"), "tags": {"x"},
                                      "raw": b"\x00"})
    logger.info({"dict": "message", "n": 1})
    logger.warning("args %s and %d", "x", 5)
    return "extras"


def unhandled(event, context):
    raise RuntimeError("unhandled \u00e9 boom")


def unhandled_custom(event, context):
    class MyError(Exception):
        pass

    try:
        {}["missing"]
    except KeyError as inner:
        raise MyError("wrapped") from inner
