"""Runs a built function under AWS's Runtime Interface Emulator (RIE): `sam local invoke`
without Docker.

The RIE is the Go binary AWS ships inside the `aws-sam-cli` wheel on PyPI
(samcli/local/rapid/aws-lambda-rie-x86_64 and -arm64). It starts the bootstrap, serves it
the Lambda Runtime API and takes invocations over HTTP:

    POST http://127.0.0.1:PORT/2015-03-31/functions/function/invocations   (body = event)

    rie = rie_binary()                       # samcli's copy, else fetched from the pinned wheel
    with Emulator(rie, "dist/function/bootstrap", handler="app.handler") as emulator:
        answer = emulator.invoke(b'{"key": "value"}')    # Answer(status, body, error_type, logs)
    answer = invoke_once("dist/function/bootstrap", b"{}")   # the same, for one event

One invocation at a time: the RIE fails on concurrent invokes, so `invoke` holds a lock.
A function error is answered with status 200 and the error JSON as body (the RIE sets no
error header), so `Answer.error_type` is that JSON's errorType, if the body is one.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Optional

from devtools.facts import host_arch
from devtools.ports import free_ports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.path.join(ROOT, ".cache", "rie")
SAM_CLI_VERSION = "1.170.0"         # the wheel the RIE is taken from when samcli is not importable
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


class EmulatorError(Exception):
    """The RIE could not be found, fetched or started."""


@dataclass
class Answer:
    status: int
    body: bytes
    logs: str                       # what the RIE and the bootstrap printed so far

    @property
    def error_type(self) -> Optional[str]:
        try:
            value = json.loads(self.body)
        except ValueError:
            return None
        if isinstance(value, dict) and "errorType" in value and "errorMessage" in value:
            return value["errorType"]
        return None


# -- finding the binary --------------------------------------------------------------

def rie_member(arch: str) -> str:
    return "samcli/local/rapid/aws-lambda-rie-" + arch


def rie_binary(arch: Optional[str] = None, cache_dir: str = CACHE_DIR) -> str:
    """Path of the RIE for arch: the importable samcli package's, else extracted from the
    aws-sam-cli wheel (pip download, cached in .cache/rie/)."""
    arch = arch or host_arch()
    try:
        import samcli
        path = os.path.join(os.path.dirname(samcli.__file__), "local", "rapid", "aws-lambda-rie-" + arch)
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    return cached_rie(arch, cache_dir)


def cached_rie(arch: str, cache_dir: str = CACHE_DIR) -> str:
    path = os.path.join(cache_dir, "aws-lambda-rie-%s-%s" % (arch, SAM_CLI_VERSION))
    if os.path.exists(path):
        return path
    os.makedirs(cache_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as download_dir:
        wheel = download_sam_cli_wheel(download_dir)
        with zipfile.ZipFile(wheel) as zf, open(path + ".tmp", "wb") as out:
            out.write(zf.read(rie_member(arch)))
    os.chmod(path + ".tmp", 0o755)
    os.replace(path + ".tmp", path)
    return path


def download_sam_cli_wheel(download_dir: str) -> str:
    print("emulator: fetching the RIE from aws-sam-cli==%s (pip download)" % SAM_CLI_VERSION, file=sys.stderr)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--dest", download_dir, "aws-sam-cli==" + SAM_CLI_VERSION]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = [f for f in os.listdir(download_dir) if f.endswith(".whl")]
    if result.returncode != 0 or not wheels:
        raise EmulatorError("could not download aws-sam-cli==%s for its Runtime Interface Emulator "
                            "(`pip install aws-sam-cli` also works):\n%s"
                            % (SAM_CLI_VERSION, (result.stdout + result.stderr)[-2000:]))
    return os.path.join(download_dir, wheels[0])


# -- running it ----------------------------------------------------------------------

def function_env(bootstrap: str, handler: Optional[str], memory: int, timeout: int, extra: Optional[dict]) -> dict:
    task_root = os.path.dirname(os.path.abspath(bootstrap))
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_FUNCTION_NAME": "function",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": task_root,
        "TZ": ":UTC",
    })
    if handler:
        env["_HANDLER"] = handler
    env.update(extra or {})
    return env


class Emulator:
    """The RIE running one bootstrap, on free loopback ports."""

    def __init__(self, rie: str, bootstrap: str, handler: Optional[str] = None, env: Optional[dict] = None,
                 memory: int = 128, timeout: int = 30, start_timeout: float = 10):
        self.rie = rie
        self.bootstrap = os.path.abspath(bootstrap)
        self.env = function_env(self.bootstrap, handler, memory, timeout, env)
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.port = None
        self.process = None
        self._log = tempfile.TemporaryFile()
        self._lock = threading.Lock()

    START_ATTEMPTS = 3      # another process may take a chosen port before the RIE binds it

    def start(self):
        if not os.access(self.bootstrap, os.X_OK):
            raise EmulatorError("%s is not an executable bootstrap (run `python build.py` first)" % self.bootstrap)
        for attempt in range(self.START_ATTEMPTS):
            self.port, api_port = free_ports(2)
            command = [self.rie, "--runtime-interface-emulator-address", "127.0.0.1:%d" % self.port,
                       "--runtime-api-address", "127.0.0.1:%d" % api_port, "--log-level", "error",
                       self.bootstrap]
            self._log.seek(0)
            self._log.truncate()
            self.process = subprocess.Popen(command, cwd=os.path.dirname(self.bootstrap), env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                            start_new_session=True)     # its own group: stop() ends the bootstrap too
            try:
                self._wait_for_port()
                return self
            except EmulatorError:
                if "address already in use" not in self.logs() or attempt + 1 == self.START_ATTEMPTS:
                    raise
                self.stop()

    def _wait_for_port(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError("the RIE exited with status %d:\n%s" % (self.process.returncode, self.logs()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise EmulatorError("the RIE did not listen on port %d within %s s" % (self.port, self.start_timeout))

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, INVOKE_PATH)

    def invoke(self, event: bytes) -> Answer:
        request = urllib.request.Request(self.url, data=event, method="POST")
        with self._lock:                    # the RIE fails on concurrent invokes
            try:
                with urllib.request.urlopen(request, timeout=self.timeout + 10) as response:
                    status, body = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, body = error.code, error.read()
        return Answer(status, body, self.logs())

    def logs(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self):
        if self.process is None:
            return
        for sig, grace in ((signal.SIGTERM, 3), (signal.SIGKILL, 5)):   # the bootstrap too
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        self._log.close()


def invoke_once(bootstrap: str, event: bytes, handler: Optional[str] = None, env: Optional[dict] = None,
                timeout: int = 30, arch: Optional[str] = None) -> Answer:
    """Start the RIE on bootstrap, invoke it once with event, stop it."""
    with Emulator(rie_binary(arch), bootstrap, handler=handler, env=env, timeout=timeout) as emulator:
        return emulator.invoke(event)
