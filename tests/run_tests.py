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


def main():
    python = ensure_venv(VENV, REQUIREMENTS, announce=lambda message: print("run_tests: " + message, flush=True))
    args = sys.argv[1:]
    if not [arg for arg in args if arg != "--unit"]:
        args = ["-q", "-ra", os.path.join(ROOT, "tests")] + args
    return subprocess.run([python, "-m", "pytest"] + args, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
