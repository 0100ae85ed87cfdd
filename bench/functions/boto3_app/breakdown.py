"""app.py's init, timed (the benchmark's breakdown; bench/real_functions.py): when the module
starts, `import boto3`, then the S3 client and the DynamoDB resource, of which the time in
botocore's Loader (listing the data directory and loading models). Times are
time.monotonic(), the benchmark's clock."""

import time

started = time.monotonic()
import boto3  # noqa: E402

imported = time.monotonic()
boto3.setup_default_session()
loader = boto3.DEFAULT_SESSION._loader
in_loader = [0.0]


def _timed(method):
    def timed(*args, **kwargs):
        t0 = time.monotonic()
        try:
            return method(*args, **kwargs)
        finally:
            in_loader[0] += time.monotonic() - t0
    return timed


for name in ("list_available_services", "list_api_versions", "load_data_with_path"):
    setattr(loader, name, _timed(getattr(loader, name)))

s3 = boto3.client("s3")
table = boto3.resource("dynamodb").Table("bench-table")
clients_made = time.monotonic()


def handler(event, context):
    handler_started = time.monotonic()
    buckets = len(s3.list_buckets().get("Buckets", []))
    return {"buckets": buckets, "table": table.name, "started": started, "imported": imported,
            "clients_made": clients_made, "in_loader": in_loader[0], "handler_started": handler_started,
            "loader": type(loader).__name__}
