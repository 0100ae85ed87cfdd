#!/usr/bin/env python3
"""The test command: sets up .test-venv/ (pinned, from tests/requirements.txt) and runs pytest.

    python tests/run_tests.py [pytest args...]   # every test (builds the test bootstrap once)
    python tests/run_tests.py --unit             # only the tests that need no compiled bootstrap
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from devtools.venv import ensure_venv  # noqa: E402

VENV = os.path.join(ROOT, ".test-venv")
REQUIREMENTS = [os.path.join(ROOT, "tests", "requirements.txt"),
                os.path.join(ROOT, "buildtools", "requirements-build.txt")]


def ensure_arm64_toolchain():
    """Debian's aarch64 CPython and qemu-user, pinned, for the arm64 tests (tests/test_targets.py)."""
    if os.uname().machine != "x86_64":
        return
    script = os.path.join(ROOT, "buildtools", "debian_arm64.py")
    if subprocess.run([sys.executable, script, "--check"], capture_output=True).returncode != 0:
        print("run_tests: installing the arm64 build and run tools (buildtools/debian_arm64.py)", flush=True)
        if subprocess.run([sys.executable, script]).returncode != 0:
            print("run_tests: could not install them: the arm64 tests will fail", flush=True)


def main():
    ensure_arm64_toolchain()
    python = ensure_venv(VENV, REQUIREMENTS, announce=lambda message: print("run_tests: " + message, flush=True))
    args = sys.argv[1:]
    if not [arg for arg in args if arg != "--unit"]:
        args = ["-q", "-ra", os.path.join(ROOT, "tests")] + args
    return subprocess.run([python, "-m", "pytest"] + args, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
