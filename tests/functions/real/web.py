"""HTTPS clients against a local server: requests (certifi's bundle unless told otherwise),
urllib.request and http.client through ssl.create_default_context() (the system bundle)."""

import http.client
import ssl
import urllib.error
import urllib.request

import requests


def _outcome(fn):
    try:
        return {"ok": True, "body": fn()}
    except Exception as error:  # the class and whether it is a verification failure
        text = str(error)
        return {"ok": False, "error": type(error).__name__, "verify_failed": "CERTIFICATE_VERIFY_FAILED" in text}


def handler(event, context):
    url = event["url"]
    client = event["client"]
    if client == "requests":
        verify = event.get("verify", True)
        return _outcome(lambda: requests.get(url, timeout=5, verify=verify).text)
    if client == "urllib":
        return _outcome(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    if client == "http.client":
        host, _, port = url.split("/")[2].partition(":")

        def get():
            connection = http.client.HTTPSConnection(host, int(port), timeout=5,
                                                     context=ssl.create_default_context())
            connection.request("GET", "/")
            return connection.getresponse().read().decode()

        return _outcome(get)
    raise ValueError("unknown client %r" % client)


def verify_paths(event, context):
    paths = ssl.get_default_verify_paths()
    import os

    return {"cafile": paths.cafile, "openssl_cafile": paths.openssl_cafile,
            "SSL_CERT_FILE": os.environ.get("SSL_CERT_FILE"), "openssl": ssl.OPENSSL_VERSION}


def loaded_libraries(event, context):
    """{library file name: path} of the shared libraries mapped into this process, after
    loading the ones TLS and zlib need."""
    import zlib  # noqa: F401

    ssl.create_default_context()
    mapped = {}
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if path.startswith("/") and ".so" in path:
                mapped[path.rsplit("/", 1)[1]] = path
    return mapped


def botocore_tls(event, context):
    """boto3 to the TLS server: whether the TLS handshake verified (botocore's own bundle
    or certifi's, or AWS_CA_BUNDLE). The server is not S3, so a verified call still fails
    later, with another error."""
    import boto3
    import botocore.exceptions

    client = boto3.client("s3", endpoint_url=event["url"], region_name="us-east-1")
    try:
        client.list_buckets()
        return {"verified": True, "error": None}
    except botocore.exceptions.SSLError:
        return {"verified": False, "error": "SSLError"}
    except Exception as error:
        return {"verified": True, "error": type(error).__name__}
