"""A boto3 client used during the init (its connection stays pooled), then by every forked
worker (AWS_LAMBDA_MAX_CONCURRENCY): each worker must get answers to its own requests."""

import os
import socket

import boto3

BUCKET = "forked-" + os.environ.get("FORKED_BUCKET_SUFFIX", "test")
s3 = boto3.client("s3")
s3.create_bucket(Bucket=BUCKET)          # opens the pooled connection at init
s3.head_bucket(Bucket=BUCKET)

_init_socket = None
if os.environ.get("INIT_SOCKET_ADDRESS"):
    host, port = os.environ["INIT_SOCKET_ADDRESS"].split(":")
    _init_socket = socket.create_connection((host, int(port)))


def handler(event, context):
    key = event["key"]
    body = (key + "|") * 2000
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    return {"key": key, "match": got == body, "pid": os.getpid()}


def init_socket_state(event, context):
    try:
        _init_socket.getpeername()
        return {"connected": True, "pid": os.getpid()}
    except OSError:
        return {"connected": False, "pid": os.getpid()}
