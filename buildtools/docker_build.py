"""`python build.py --docker`: run the same build inside Amazon Linux 2023.

Two commands do it (see ``docker_commands``):

1. ``docker build`` of ``docker/Dockerfile`` (Amazon Linux 2023 + a static
   CPython 3.11 + the pinned build requirements) for the target platform;
2. ``docker run`` of that image with the project mounted at ``/src``, running
   ``python3.11 build.py <the same arguments, minus --docker>``.  The outputs
   land in the mounted ``dist/``, owned by the caller (``--user uid:gid``).
   pip / Nuitka / zig caches live in a per-arch named volume mounted at
   ``/cache`` so repeated builds are fast.

Inside the container the environment variable ``LAMBDA_NATIVE_DOCKER=1`` is
set: build.py should then use the image's interpreter and packages as they are
(no ``.build-venv-3.11/``, which would clash with the host's one in the shared
mount), and may compile natively against AL2023's glibc 2.34.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from typing import Callable, Sequence

from devtools import facts

__all__ = [
    "CACHE_MOUNT",
    "IN_DOCKER_ENV",
    "PLATFORMS",
    "SRC_MOUNT",
    "docker_commands",
    "docker_engine_available",
    "image_tag",
    "inner_build_args",
    "run_docker_build",
]

#: docker --platform value for each Lambda architecture.
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

IMAGE_NAME = "lambda-native-python-build"
SRC_MOUNT = "/src"
CACHE_MOUNT = "/cache"
#: Set inside the container so build.py knows it runs there.
IN_DOCKER_ENV = "LAMBDA_NATIVE_DOCKER"
DOCKERFILE = os.path.join("docker", "Dockerfile")

NO_ENGINE_MESSAGE = (
    "error: --docker needs Docker with a running engine (`docker info` must answer), "
    "and none is reachable here.\n"
    "Start Docker (or point DOCKER_HOST at an engine) and retry, or run "
    "`python build.py` without --docker: it builds a bootstrap for glibc 2.34 "
    "(provided.al2023) on this machine with zig."
)


_arch = facts.normalize_arch


def image_tag(arch: str) -> str:
    """Local tag of the build image for ``arch``, e.g. ``lambda-native-python-build:al2023-x86_64``."""
    return f"{IMAGE_NAME}:al2023-{_arch(arch)}"


def cache_volume(arch: str) -> str:
    """Named volume holding pip/Nuitka/zig caches (one per arch: objects differ)."""
    return f"{IMAGE_NAME}-cache-{_arch(arch)}"


def inner_build_args(arch: str, build_args: Sequence[str]) -> list[str]:
    """The arguments for build.py inside the container.

    ``--docker`` is dropped (else it would recurse) and ``--arch`` is set to
    the container's architecture, replacing any ``--arch`` given.
    """
    out: list[str] = []
    skip = False
    for a in build_args:
        if skip:
            skip = False
            continue
        if a == "--docker" or a.startswith("--docker="):
            continue
        if a == "--arch":
            skip = True
            continue
        if a.startswith("--arch="):
            continue
        out.append(a)
    return out + ["--arch", _arch(arch)]


def _user_flag() -> list[str]:
    # Files written into the bind-mounted project must belong to the caller,
    # not to root.  (No getuid on Windows: Docker Desktop maps ownership itself.)
    if hasattr(os, "getuid"):
        return ["--user", f"{os.getuid()}:{os.getgid()}"]
    return []


def docker_commands(arch: str, project_root: str | os.PathLike,
                    build_args: Sequence[str]) -> list[list[str]]:
    """The exact ``docker build`` and ``docker run`` commands for ``arch``."""
    arch = _arch(arch)
    root = os.path.abspath(os.fspath(project_root))
    platform = PLATFORMS[arch]
    tag = image_tag(arch)
    build = [
        "docker", "build",
        "--platform", platform,
        "-t", tag,
        "-f", os.path.join(root, DOCKERFILE),
        root,
    ]
    run = [
        "docker", "run", "--rm",
        "--platform", platform,
        *_user_flag(),
        "-v", f"{root}:{SRC_MOUNT}",
        "-w", SRC_MOUNT,
        "-v", f"{cache_volume(arch)}:{CACHE_MOUNT}",
        "-e", f"{IN_DOCKER_ENV}=1",
        # An arbitrary --user has no passwd entry / home: give it one on the
        # cache volume, and send every tool's cache there.
        "-e", f"HOME={CACHE_MOUNT}/home",
        "-e", f"XDG_CACHE_HOME={CACHE_MOUNT}",
        "-e", f"PIP_CACHE_DIR={CACHE_MOUNT}/pip",
        "-e", f"NUITKA_CACHE_DIR={CACHE_MOUNT}/nuitka",
        "-e", f"ZIG_GLOBAL_CACHE_DIR={CACHE_MOUNT}/zig",
        tag,
        "python3.11", "build.py", *inner_build_args(arch, build_args),
    ]
    return [build, run]


def docker_engine_available(timeout: float = 5) -> bool:
    """True if a Docker engine answers ``docker info`` (not just a client on PATH)."""
    exe = shutil.which("docker")
    if exe is None:
        return False
    try:
        proc = subprocess.run(
            [exe, "info", "--format", "{{.ServerVersion}}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def _quote(cmd: Sequence[str]) -> str:
    return " ".join(shlex.quote(c) for c in cmd)


def run_docker_build(arch: str, project_root: str | os.PathLike, build_args: Sequence[str],
                     dry_run: bool = False,
                     printer: Callable[[str], object] = print) -> int:
    """Build the image and run build.py in it; return the exit code.

    ``dry_run``: print the commands (shell-quoted) and return 0, running nothing.
    No Docker engine: print why to stderr and return 2 at once.
    """
    cmds = docker_commands(arch, project_root, build_args)
    if dry_run:
        for cmd in cmds:
            printer(_quote(cmd))
        return 0
    if not docker_engine_available():
        print(NO_ENGINE_MESSAGE, file=sys.stderr)
        return 2
    os.makedirs(os.path.join(os.path.abspath(os.fspath(project_root)), "dist"), exist_ok=True)
    for cmd in cmds:
        printer("+ " + _quote(cmd))
        try:
            rc = subprocess.run(cmd, check=False).returncode
        except OSError as e:
            print(f"error: could not run docker: {e}", file=sys.stderr)
            return 2
        if rc != 0:
            print(f"error: `{' '.join(cmd[:2])}` failed with exit code {rc}", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":  # python -m buildtools.docker_build [--arch A] [--dry-run] [args...]
    import argparse

    ap = argparse.ArgumentParser(prog="python -m buildtools.docker_build")
    ap.add_argument("--arch", default="x86_64", choices=sorted(facts.ARCH_ALIASES))
    ap.add_argument("--dry-run", action="store_true")
    ns, rest = ap.parse_known_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.exit(run_docker_build(ns.arch, here, rest, dry_run=ns.dry_run))
