"""Powertools for AWS Lambda: REST and HTTP API event handlers, batch processing of SQS
records, the parser with pydantic models, and the logger."""

from typing import List

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver
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
