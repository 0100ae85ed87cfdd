"""build.py's own checks: clear, early errors (no Nuitka run), the Docker dry run, arm64."""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, TEST_HANDLERS

BUILD = os.path.join(ROOT, "build.py")


def run_build(*args, env=None):
    return subprocess.run([sys.executable, BUILD] + list(args), capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, **(env or {})))


def test_missing_src(tmp_path):
    result = run_build("--src", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "build.py: error: --src %s is not a directory" % (tmp_path / "nope") in result.stderr
    assert "Traceback" not in result.stderr


def test_syntax_error_names_file_and_line(tmp_path):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return {\n")
    result = run_build("--src", str(tmp_path), "--handler", "app.handler")
    assert result.returncode == 1
    assert "syntax error in %s, line 2" % (tmp_path / "app.py") in result.stderr


@pytest.mark.parametrize("handler, message", [
    ("missing.handler", "handler module 'missing' not found"),
    ("app.nope", "handler function 'nope' is not defined in"),
    ("nodot", "--handler 'nodot' must be MODULE.FUNCTION"),
])
def test_handler_must_exist(tmp_path, handler, message):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event\n")
    result = run_build("--src", str(tmp_path), "--handler", handler)
    assert result.returncode == 1
    assert message in result.stderr


def test_no_c_compiler_with_native_cc(tmp_path):
    result = run_build("--src", TEST_HANDLERS, "--handler", "echo.handler", "--native-cc",
                       "--build-dir", str(tmp_path), env={"CC": str(tmp_path / "no-such-cc")})
    assert result.returncode == 1
    assert "no C compiler" in result.stderr


def test_target_without_a_toolchain_here_is_refused_clearly():
    """arm64 on x86_64 builds against Debian's aarch64 CPython 3.11 (tests/test_targets.py);
    another version for it, or x86_64 on arm64, needs Docker: said before any work starts."""
    if os.uname().machine in ("x86_64", "amd64"):
        args, fix = ("--arch", "arm64", "--python", "3.12"), "python build.py --docker --arch arm64 --python 3.12"
    else:
        args, fix = ("--arch", "x86_64"), "python build.py --docker --arch x86_64"
    result = run_build("--src", TEST_HANDLERS, "--handler", "echo.handler", *args)
    assert result.returncode == 1
    assert fix in result.stderr and "Traceback" not in result.stderr
    assert "==> Nuitka" not in result.stdout


@pytest.mark.parametrize("arch, platform", [("x86_64", "linux/amd64"), ("arm64", "linux/arm64")])
def test_docker_dry_run_prints_the_commands(arch, platform):
    result = run_build("--docker", "--dry-run", "--arch", arch)
    assert result.returncode == 0, result.stderr
    assert "docker build --platform %s" % platform in result.stdout
    assert "docker run --rm --platform %s" % platform in result.stdout
    assert "python3.11 build.py --arch %s" % arch in result.stdout


def test_docker_without_engine_fails_fast(tmp_path):
    fake = tmp_path / "docker"
    fake.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    fake.chmod(0o755)
    result = run_build("--docker", env={"PATH": "%s:%s" % (tmp_path, os.environ["PATH"])})
    assert result.returncode == 2
    assert "Docker" in result.stderr and "python build.py" in result.stderr


def test_test_build_zip_layout(test_build):
    """The zip holds bootstrap at its root, mode 0755, and passes the al2023 check."""
    with zipfile.ZipFile(test_build.zip_path) as zf:
        info = zf.getinfo("bootstrap")
        assert (info.external_attr >> 16) & 0o777 == 0o755
        names = zf.namelist()
    assert all(not name.startswith(("/", "..")) for name in names)
    log = open(test_build.log).read() if os.path.exists(test_build.log) else ""
    if log:
        assert "max GLIBC_2.3" in log and ": OK" in log


def test_an_unknown_aws_service_is_refused_before_compiling(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("import boto3\n\ndef handler(event, context):\n    return boto3.client('s3')\n")
    with open(os.path.join(ROOT, "bench", "functions", "boto3_app", "requirements.txt")) as f:  # installed once
        (src / "requirements.txt").write_text(f.read())
    result = run_build("--src", str(src), "--handler", "app.handler", "--aws-service", "nosuch",
                       "--build-dir", str(tmp_path / "build"))
    assert result.returncode == 1
    assert "--aws-service nosuch: not a botocore service" in result.stderr
    assert "Nuitka" not in result.stdout


def test_aws_service_without_botocore_is_refused(tmp_path):
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return event\n")
    result = run_build("--src", str(tmp_path), "--handler", "app.handler", "--aws-service", "s3",
                       "--build-dir", str(tmp_path / "build"))
    assert result.returncode == 1
    assert "--aws-service: the function does not depend on botocore" in result.stderr
