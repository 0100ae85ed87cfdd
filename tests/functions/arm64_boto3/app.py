"""The arm64 boto3 function (tests/test_arm64_boto3.py): an S3 client and a DynamoDB resource
made at init, pydantic (its pydantic-core extension module is an aarch64 wheel's) validating
each event, run under qemu-user against moto's server."""

import decimal
import hashlib
import os
import ssl
import sys

import boto3
import pydantic
import pydantic_core

s3 = boto3.client("s3")
dynamodb = boto3.resource("dynamodb")


class Order(pydantic.BaseModel):
    id: str
    price: decimal.Decimal
    quantity: int = pydantic.Field(gt=0)


def _s3(event):
    bucket, key = event["bucket"], event["key"]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=event["body"].encode())
    got = s3.get_object(Bucket=bucket, Key=key)
    return {"body": got["Body"].read().decode(), "length": got["ContentLength"],
            "keys": [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]}


def _dynamodb(event):
    order = Order.model_validate(event["order"])
    name = event["table"]
    if name not in [t.name for t in dynamodb.tables.all()]:
        dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
    table = dynamodb.Table(name)
    table.put_item(Item=order.model_dump())
    item = table.get_item(Key={"id": order.id})["Item"]
    return {"item": item, "order": Order.model_validate(item).model_dump(mode="json")}


def _validate(event):
    try:
        Order.model_validate(event["order"])
    except pydantic.ValidationError as error:
        return {"errors": [(e["loc"][0], e["type"]) for e in error.errors()]}
    return {"errors": []}


def _facts(event):
    """What the function runs on, and which files its compiled-in modules came from."""
    return {"machine": os.uname().machine, "python": "%d.%d" % sys.version_info[:2],
            "pydantic_core": os.path.basename(pydantic_core._pydantic_core.__file__),
            "pydantic_core_version": pydantic_core.__version__, "openssl": ssl.OPENSSL_VERSION,
            "sha256": hashlib.sha256(b"arm64").hexdigest(), "boto3": boto3.__version__,
            "loader": type(boto3.DEFAULT_SESSION._loader).__name__}  # the runtime's, reading .marshal models


OPERATIONS = {"s3": _s3, "dynamodb": _dynamodb, "validate": _validate, "facts": _facts}


def handler(event, context):
    return OPERATIONS[event["op"]](event)
