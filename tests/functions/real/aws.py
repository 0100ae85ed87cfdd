"""boto3 against moto's server (AWS_ENDPOINT_URL): S3, DynamoDB through boto3.resource
(Decimal values), SQS, SSM. One client per service, made at import as functions do."""

import decimal
import os

import boto3

s3 = boto3.client("s3")
dynamodb = boto3.resource("dynamodb")
sqs = boto3.client("sqs")
ssm = boto3.client("ssm")


def _s3(event):
    bucket, key = event["bucket"], event["key"]
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=key, Body=event["body"].encode())
    got = s3.get_object(Bucket=bucket, Key=key)
    return {"body": got["Body"].read().decode(), "length": got["ContentLength"],
            "keys": [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]}


def _dynamodb(event):
    name = event["table"]
    if name not in [t.name for t in dynamodb.tables.all()]:
        dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
    table = dynamodb.Table(name)
    table.put_item(Item={"id": event["id"], "price": decimal.Decimal(event["price"]), "tags": ["a", "b"]})
    item = table.get_item(Key={"id": event["id"]})["Item"]
    return {"item": item, "price_type": type(item["price"]).__name__}  # Decimal -> JSON number text


def _sqs(event):
    url = sqs.create_queue(QueueName=event["queue"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=event["message"])
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return {"received": [m["Body"] for m in messages]}


def _ssm(event):
    ssm.put_parameter(Name=event["name"], Value=event["value"], Type="SecureString", Overwrite=True)
    value = ssm.get_parameter(Name=event["name"], WithDecryption=True)["Parameter"]["Value"]
    return {"value": value}


def _missing_key(event):
    try:
        s3.get_object(Bucket=event["bucket"], Key="does-not-exist")
    except s3.exceptions.ClientError as error:  # NoSuchKey or NoSuchBucket
        return {"error": error.response["Error"]["Code"]}
    return {"error": None}


OPERATIONS = {"s3": _s3, "dynamodb": _dynamodb, "sqs": _sqs, "ssm": _ssm, "missing_key": _missing_key}


def handler(event, context):
    return OPERATIONS[event["op"]](event)


def endpoint(event, context):
    return {"endpoint": s3.meta.endpoint_url, "region": s3.meta.region_name,
            "env": os.environ.get("AWS_ENDPOINT_URL")}
