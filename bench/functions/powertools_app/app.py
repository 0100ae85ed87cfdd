"""A Powertools REST API function: the event handler and the Logger."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

logger = Logger(service="bench")
app = APIGatewayRestResolver()


@app.get("/hello/<name>")
def hello(name):
    return {"hello": name}


def handler(event, context):
    logger.info("request", extra={"path": event.get("path")})
    return app.resolve(event, context)
