#!/usr/bin/env python3
"""The test command: sets up .test-venv/ (pinned, from tests/requirements.txt) and runs pytest.

    python tests/run_tests.py [pytest args...]
"""

import hashlib
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".test-venv")
REQUIREMENTS = [os.path.join(ROOT, "tests", "requirements.txt"),
                os.path.join(ROOT, "buildtools", "requirements-build.txt")]


def requirements_hash():
    digest = hashlib.sha256()
    for path in REQUIREMENTS:
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, "requirements.sha256")
    wanted = requirements_hash()
    if os.path.exists(python) and os.path.exists(stamp) and open(stamp).read() == wanted:
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    print("run_tests: creating %s" % VENV, flush=True)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([base, "-m", "venv", VENV], check=True)
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for path in REQUIREMENTS:
        command += ["-r", path]
    subprocess.run(command, check=True)
    with open(stamp, "w") as f:
        f.write(wanted)
    return python


def main():
    python = ensure_venv()
    args = sys.argv[1:] or ["-q", "-ra", os.path.join(ROOT, "tests")]
    return subprocess.run([python, "-m", "pytest"] + args, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
