"""The function's own files and its packages' data and metadata, found as in a managed-runtime zip."""

import importlib.metadata
import importlib.resources
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def handler(event, context):
    with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "assets", "logo.svg")) as f:
        logo = f.read()
    with open(os.path.join(HERE, "data", "config.json")) as f:
        config = json.load(f)
    cacert = importlib.resources.files("certifi").joinpath("cacert.pem").read_text()
    return {
        "logo": logo.startswith("<svg"),
        "config": config,
        "boto3_version": importlib.metadata.version("boto3"),
        "requests_requires": sorted(r.split()[0] for r in importlib.metadata.requires("requests") or [])[:2],
        "numpy_scripts": sorted(e.name for e in importlib.metadata.entry_points(group="console_scripts")
                                if e.value.startswith("numpy")),
        "certifi_pem": cacert.startswith("-----BEGIN CERTIFICATE-----") or "BEGIN CERTIFICATE" in cacert[:2000],
        "botocore_data": os.path.isdir(os.path.join(os.path.dirname(importlib.import_module("botocore").__file__),
                                                    "data", "s3")),
    }
