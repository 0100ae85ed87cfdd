"""Powertools for AWS Lambda: REST, HTTP API and AppSync event handlers, batch processing
of SQS records, the parser with pydantic models, and the logger."""

import sys
from typing import List

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver, AppSyncResolver
from aws_lambda_powertools.event_handler import appsync as appsync_module
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser import BaseModel, event_parser, ValidationError
from aws_lambda_powertools.utilities.parser.models import SqsModel

logger = Logger(service="pt-test")
rest = APIGatewayRestResolver()
http = APIGatewayHttpResolver()


@rest.get("/hello/<name>")
def rest_hello(name):
    return {"hello": name, "query": rest.current_event.get_query_string_value("q")}


@rest.post("/items")
def rest_items():
    body = rest.current_event.json_body
    return {"count": len(body["items"])}, 201


@http.get("/hello/<name>")
def http_hello(name):
    return {"hello": name, "via": "http-api"}


def rest_handler(event, context):
    logger.info("rest request", extra={"path": event.get("path")})
    return rest.resolve(event, context)


def http_handler(event, context):
    return http.resolve(event, context)


processor = BatchProcessor(event_type=EventType.SQS)


def _record(record):
    if record.body == "fail":
        raise ValueError("bad record")
    logger.info("processed", extra={"body": record.body})


def batch_handler(event, context):
    return process_partial_response(event=event, record_handler=_record, processor=processor, context=context)


class Order(BaseModel):
    id: int
    items: List[str]


@event_parser(model=Order)
def parse_handler(event: Order, context):
    return {"id": event.id, "n": len(event.items)}


def sqs_model_handler(event, context):
    try:
        parsed = SqsModel.model_validate(event)
    except ValidationError as error:
        return {"valid": False, "errors": len(error.errors())}
    return {"valid": True, "bodies": [r.body for r in parsed.Records]}


# AppSync's resolver module imports asyncio at module level and uses it in its functions
# only: the build defers that import to the first use (buildtools/deferred_imports.py).
appsync = AppSyncResolver()


@appsync.resolver(type_name="Query", field_name="getTodo")
def get_todo(id):
    return {"id": id, "title": "sync"}


@appsync.async_batch_resolver(type_name="Query", field_name="getTodosLater")
async def get_todos_later(event):  # the whole batch, run with asyncio.run
    return [{"id": item.arguments["id"], "title": "async"} for item in event]


def appsync_handler(event, context):
    return appsync.resolve(event, context)


def asyncio_state(event, context):
    bound = appsync_module.__dict__["asyncio"]
    return {"imported": "asyncio" in sys.modules, "bound": type(bound).__name__,
            "is_the_module": bound is sys.modules.get("asyncio")}


def dispatch(event, context):
    """{"handler": a handler's name here, "event": its event}: several handlers in one process."""
    return globals()[event["handler"]](event["event"], context)
