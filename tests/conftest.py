"""Shared fixtures: the test bootstrap (built once per run), the runtime's extension
modules for socket-free tests, and a helper that runs the bootstrap against the mock."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path.insert(0, ROOT)

from mock_runtime_api import MockRuntimeAPI, lambda_env  # noqa: E402

TEST_HANDLERS = os.path.join(TESTS, "handlers")
BUILD_ROOT = os.path.join(ROOT, "build", "test")


@dataclass
class TestBuild:
    dist_dir: str      # the unpacked function (bootstrap + anything next to it)
    zip_path: str
    log: str

    @property
    def bootstrap(self):
        return os.path.join(self.dist_dir, "bootstrap")


@pytest.fixture(scope="session")
def test_build():
    """The bootstrap with tests/handlers compiled in, built once per test run.
    LAMBDA_TEST_DIST=DIR reuses an earlier build's output directory."""
    reuse = os.environ.get("LAMBDA_TEST_DIST")
    reuse = os.path.abspath(reuse) if reuse else None
    out = reuse or os.path.join(BUILD_ROOT, "dist")
    log = os.path.join(BUILD_ROOT, "build.log")
    if not reuse:
        os.makedirs(BUILD_ROOT, exist_ok=True)
        with open(log, "w") as f:
            result = subprocess.run(
                [sys.executable, os.path.join(ROOT, "build.py"), "--src", TEST_HANDLERS,
                 "--handler", "echo.handler", "--out", out, "--build-dir", os.path.join(BUILD_ROOT, "build")],
                stdout=f, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            pytest.fail("building the test bootstrap failed:\n" + open(log).read()[-5000:])
    return TestBuild(os.path.join(out, "function"), os.path.join(out, "function.zip"), log)


@pytest.fixture(scope="session")
def native_modules():
    """_lambda_http and _lambda_runtime as extension modules of this interpreter."""
    from buildtools import native

    out = native.build_runtime_extensions(os.path.join(BUILD_ROOT, "ext"))
    if out not in sys.path:
        sys.path.insert(0, out)
    return out


class RunningBootstrap:
    def __init__(self, process, api):
        self.process = process
        self.api = api

    def wait(self, timeout=10):
        return self.process.wait(timeout)

    def output(self):
        """(stdout, stderr) once the process has ended."""
        out, err = self.process.communicate(timeout=10)
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        try:
            self.process.communicate(timeout=5)
        except ValueError:
            pass


@pytest.fixture
def api():
    with MockRuntimeAPI() as server:
        yield server


@pytest.fixture
def start_bootstrap(test_build, api):
    """start_bootstrap(handler="echo.handler", env={...}) -> RunningBootstrap against `api`."""
    started = []

    def start(handler="echo.handler", env=None, bootstrap=None, server=None):
        server = server or api
        bootstrap = bootstrap or test_build.bootstrap
        environ = lambda_env(bootstrap, server.address, handler=handler, env=env)
        process = subprocess.Popen([bootstrap], env=environ,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        running = RunningBootstrap(process, server)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def wait_until(predicate, timeout=10, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met within %s s" % timeout)
