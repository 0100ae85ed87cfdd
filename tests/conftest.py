"""Shared fixtures: the test bootstrap (built once per run), the runtime's extension
modules for plain CPython, and a helper that runs the runtime against the mock.

Two tiers, told apart by the fixtures a test uses, so that no test can fall between them:
a test needs the compiled bootstrap when it uses `test_build`, or `program` (and so
`start_bootstrap`) with the compiled bootstrap; one that asks for the build only at run
time (request.getfixturevalue) says so with the `needs_bootstrap` marker. `--unit` runs
every other test, and fails one that asks for the build anyway. A test marked `portable`
runs twice through `program`: with the compiled bootstrap, and with the runtime under
plain CPython (tests/cpython_bootstrap.py: lambda_runtime + the extension modules of
`native_modules`), which is in the unit tier.
"""

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

from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env  # noqa: E402

TEST_HANDLERS = os.path.join(TESTS, "handlers")
BUILD_ROOT = os.path.join(ROOT, "build", "test")
CPYTHON_BOOTSTRAP = os.path.join(TESTS, "cpython_bootstrap.py")
COMPILED, CPYTHON = "compiled", "cpython"


def pytest_addoption(parser):
    parser.addoption("--unit", action="store_true",
                     help="run only the tests that need no compiled bootstrap (see tests/conftest.py)")


def pytest_configure(config):
    config.addinivalue_line("markers", "portable: also run against the runtime under plain CPython")
    config.addinivalue_line("markers", "needs_bootstrap: asks for test_build at run time (not in --unit)")


def pytest_generate_tests(metafunc):
    if "program" in metafunc.fixturenames and metafunc.definition.get_closest_marker("portable"):
        metafunc.parametrize("program", [COMPILED, CPYTHON], indirect=True)


BUILD_FIXTURES = {"test_build", "real_build", "arm64_boto3_build", "py313_build"}  # each compiles a bootstrap


def needs_bootstrap(item):
    if BUILD_FIXTURES & set(item.fixturenames) or item.get_closest_marker("needs_bootstrap"):
        return True
    if "program" in item.fixturenames:
        callspec = getattr(item, "callspec", None)
        return callspec is None or callspec.params.get("program") != CPYTHON
    return False


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--unit"):
        return
    kept = [item for item in items if not needs_bootstrap(item)]
    if not kept:
        raise pytest.UsageError("--unit selected no test out of %d collected" % len(items))
    config.hook.pytest_deselected(items=[item for item in items if needs_bootstrap(item)])
    items[:] = kept


@dataclass
class TestBuild:
    dist_dir: str      # the unpacked function (bootstrap + anything next to it)
    zip_path: str
    log: str

    @property
    def bootstrap(self):
        return os.path.join(self.dist_dir, "bootstrap")


def _build_once(request, what, name, src, handler, reuse_env, *options):
    """A bootstrap built by build.py into BUILD_ROOT/name (or reused from $reuse_env)."""
    if request.config.getoption("--unit"):
        pytest.fail("a test in the --unit tier asked for %s: mark it needs_bootstrap" % what)
    root = os.path.join(BUILD_ROOT, name)
    reuse = os.environ.get(reuse_env)
    out = os.path.abspath(reuse) if reuse else os.path.join(root, "dist")
    log = os.path.join(root, "build.log")
    if not reuse:
        os.makedirs(root, exist_ok=True)
        with open(log, "w") as f:
            result = subprocess.run(
                [sys.executable, os.path.join(ROOT, "build.py"), *options, "--src", src, "--handler", handler,
                 "--out", out, "--build-dir", os.path.join(root, "build")],
                stdout=f, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            pytest.fail("building %s failed:\n%s" % (what, open(log).read()[-5000:]))
    return TestBuild(os.path.join(out, "function"), os.path.join(out, "function.zip"), log)


@pytest.fixture(scope="session")
def test_build(request):
    """The bootstrap with tests/handlers compiled in, built once per test run.
    LAMBDA_TEST_DIST=DIR reuses an earlier build's output directory."""
    return _build_once(request, "the test bootstrap", "", TEST_HANDLERS, "echo.handler", "LAMBDA_TEST_DIST")


REAL_FUNCTION = os.path.join(TESTS, "functions", "real")


@pytest.fixture(scope="session")
def real_build(request):
    """tests/functions/real (boto3, requests, Powertools, pydantic, numpy, orjson, the
    stdlib, data files) built once per test run. LAMBDA_TEST_REAL_DIST=DIR reuses a build."""
    return _build_once(request, "the real-function bootstrap", "real", REAL_FUNCTION, "aws.handler",
                       "LAMBDA_TEST_REAL_DIST")


TARGET_HANDLERS = os.path.join(TESTS, "target_handlers")


@pytest.fixture(scope="session")
def py313_build(request):
    """tests/target_handlers built for CPython 3.13 once per test run (test_targets: the
    target; test_concurrency: Managed Instances' immortal init heap, which needs 3.12+).
    LAMBDA_TEST_PY313_DIST=DIR reuses a build."""
    return _build_once(request, "the CPython 3.13 bootstrap", "py313", TARGET_HANDLERS, "app.echo",
                       "LAMBDA_TEST_PY313_DIST", "--python", "3.13")


ARM64_BOTO3_FUNCTION = os.path.join(TESTS, "functions", "arm64_boto3")


@pytest.fixture(scope="session")
def arm64_boto3_build(request):
    """tests/functions/arm64_boto3 (boto3 and pydantic, aarch64 wheels) cross-built for arm64
    once per test run; it runs under qemu-user. LAMBDA_TEST_ARM64_BOTO3_DIST=DIR reuses a build."""
    return _build_once(request, "the arm64 boto3 bootstrap", "arm64-boto3", ARM64_BOTO3_FUNCTION, "app.handler",
                       "LAMBDA_TEST_ARM64_BOTO3_DIST", "--arch", "arm64")


@pytest.fixture(scope="session")
def real_deps():
    """The directory build.py installed tests/functions/real/requirements.txt into (for
    running the same handlers under awslambdaric with the same package versions)."""
    import build

    path = build.requirements_target(REAL_FUNCTION, os.path.join(ROOT, ".cache"))
    assert os.path.exists(os.path.join(path, ".complete")), "the real-function build installs it first"
    return path


@pytest.fixture(scope="session")
def moto():
    from devtools.local_services import MotoServer

    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory):
    from devtools.local_services import TlsServer

    server = TlsServer(str(tmp_path_factory.mktemp("tls")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def native_modules():
    """_lambda_http and _lambda_runtime as extension modules of this interpreter."""
    from buildtools import native

    out = native.build_runtime_extensions(os.path.join(BUILD_ROOT, "ext"))
    if out not in sys.path:
        sys.path.insert(0, out)
    return out


@pytest.fixture
def program(request):
    """argv of the runtime under test: the compiled bootstrap, or (the `cpython` half of a
    portable test) tests/cpython_bootstrap.py under this interpreter."""
    if getattr(request, "param", COMPILED) == CPYTHON:
        request.getfixturevalue("native_modules")  # where cpython_bootstrap.py looks: build/test/ext
        return [sys.executable, CPYTHON_BOOTSTRAP]
    return [request.getfixturevalue("test_build").bootstrap]


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
def start_bootstrap(program, api):
    """start_bootstrap(handler="echo.handler", env={...}) -> RunningBootstrap against `api`."""
    started = []

    def start(handler="echo.handler", env=None, bootstrap=None, server=None):
        server = server or api
        argv = [bootstrap] if bootstrap else program
        environ = lambda_env(argv[-1], server.address, handler=handler, env=env)
        process = subprocess.Popen(argv, env=environ,
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
