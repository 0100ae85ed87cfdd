"""A little of every stdlib module a Lambda function commonly uses, each checked for a
known answer. Returns {module: answer}; a module that fails shows its error instead."""

import asyncio
import bz2
import codecs
import concurrent.futures
import csv
import ctypes
import decimal
import email.message
import email.parser
import gzip
import hashlib
import hmac
import http.client
import io
import json
import lzma
import os
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import uuid
import xml.dom.minidom
import xml.etree.ElementTree as ET
import zipfile
import zlib
import zoneinfo
from datetime import datetime, timezone
from xml.parsers import expat


def _zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", "hello " * 100)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zf:
        return zf.read("a.txt").decode()[:11]


def _http_client():
    class FakeSocket:
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def makefile(self, *args, **kwargs):
            return self.data

    response = http.client.HTTPResponse(FakeSocket(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    response.begin()
    return [response.status, response.read().decode()]


async def _gather():
    async def square(x):
        await asyncio.sleep(0)
        return x * x

    return await asyncio.gather(*(square(i) for i in range(4)))


def _sqlite():
    db = sqlite3.connect(":memory:")
    db.execute("create table t (x integer)")
    db.executemany("insert into t values (?)", [(1,), (2,), (3,)])
    return [db.execute("select sum(x) from t").fetchone()[0], sqlite3.sqlite_version_info >= (3, 0, 0)]


def _ctypes():
    libc = ctypes.CDLL(None)
    return libc.abs(-5)


def _subprocess():
    # the bootstrap itself (if this is one): without AWS_LAMBDA_RUNTIME_API it says so and exits 1
    program = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "bootstrap")
    done = subprocess.run([program if os.path.exists(program) else sys.executable], env={},
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    return [done.returncode, b"AWS_LAMBDA_RUNTIME_API is not set" in done.stderr]


def _tempfile():
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "x.txt")
        with open(path, "w") as f:
            f.write("temp")
        with open(path) as f:
            return f.read()


CHECKS = {
    "hashlib": lambda: hashlib.sha256(b"abc").hexdigest()[:16],
    "hashlib_md5": lambda: hashlib.md5(b"abc").hexdigest()[:8],
    "hashlib_blake2": lambda: hashlib.blake2b(b"abc").hexdigest()[:8],
    "hmac": lambda: hmac.new(b"key", b"msg", "sha256").hexdigest()[:16],
    "ssl": lambda: ssl.OPENSSL_VERSION.split()[0],
    "zlib": lambda: len(zlib.decompress(zlib.compress(b"x" * 1000))),
    "gzip": lambda: gzip.decompress(gzip.compress(b"gz")).decode(),
    "zipfile": _zip,
    "bz2": lambda: bz2.decompress(bz2.compress(b"bz")).decode(),
    "lzma": lambda: lzma.decompress(lzma.compress(b"xz")).decode(),
    "ctypes": _ctypes,
    "sqlite3": _sqlite,
    "uuid": lambda: str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.com")),
    "uuid4": lambda: len(str(uuid.uuid4())),
    "xml_etree": lambda: ET.fromstring("<a><b x='1'/><b x='2'/></a>").findall("b")[1].get("x"),
    "xml_minidom": lambda: xml.dom.minidom.parseString("<a>t</a>").documentElement.firstChild.data,
    "pyexpat": lambda: expat.ParserCreate().Parse(b"<a/>", True),
    "decimal": lambda: str(decimal.Decimal("1.1") + decimal.Decimal("2.2")),
    "zoneinfo": lambda: datetime(2024, 7, 1, 12, tzinfo=timezone.utc).astimezone(
        zoneinfo.ZoneInfo("Europe/Paris")).isoformat(),
    "csv": lambda: list(csv.reader(io.StringIO('a,"b,c"\n1,2\n'))),
    "asyncio": lambda: asyncio.run(_gather()),
    "concurrent_futures": lambda: list(concurrent.futures.ThreadPoolExecutor(2).map(abs, [-1, -2])),
    "subprocess": _subprocess,
    "tempfile": _tempfile,
    "email": lambda: email.parser.Parser().parsestr("Subject: hi\n\nbody").get("Subject"),
    "email_message": lambda: email.message.EmailMessage().__class__.__name__,
    "http_client": _http_client,
    "urllib": lambda: urllib.parse.urlsplit("https://a.b/c?d=1").query
                      + str(isinstance(urllib.request.Request("http://x"), urllib.request.Request)),
    "json": lambda: json.loads(json.dumps({"a": [1, 2.5]})),
    "idna": lambda: "bücher.example".encode("idna").decode(),
}


def handler(event, context):
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:
            results[name] = "ERROR %s: %s" % (type(error).__name__, error)
    return results


def codecs_handler(event, context):
    """Looks up (imports) every codec named in the event; returns those that fail."""
    failed = {}
    for name in event["codecs"]:
        try:
            codecs.lookup(name)
        except LookupError as error:
            failed[name] = str(error)
    return {"failed": failed}


def late_import(event, context):
    """A stdlib module nothing here imports statically (from the .pyc tree)."""
    import importlib

    module = importlib.import_module(event["module"])
    return {"module": module.__name__, "file": getattr(module, "__file__", None) is not None}
