"""A virtual environment kept in step with its requirement files: created, with them
installed, when missing or when their hash differs from the one it was made with."""

import hashlib
import os
import shutil
import subprocess
import sys

STAMP = "requirements.sha256"


class VenvError(Exception):
    """pip could not install the requirements; the message carries its output."""


def requirements_hash(requirements):
    digest = hashlib.sha256()
    for path in requirements:
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def ensure_venv(venv_dir, requirements, base_python=None, announce=print):
    """The interpreter of venv_dir, with every file of `requirements` installed (pinned).
    base_python: the interpreter to create it with (default: the one running this)."""
    python = os.path.join(venv_dir, "bin", "python")
    stamp = os.path.join(venv_dir, STAMP)
    wanted = requirements_hash(requirements)
    if os.path.exists(python) and os.path.exists(stamp) and open(stamp).read() == wanted:
        return python
    base = base_python or getattr(sys, "_base_executable", sys.executable)
    announce("creating %s from %s" % (venv_dir, base))
    shutil.rmtree(venv_dir, ignore_errors=True)
    subprocess.run([base, "-m", "venv", venv_dir], check=True)
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for path in requirements:
        command += ["-r", path]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise VenvError("pip install %s failed:\n%s" % (" ".join(requirements),
                                                         (result.stdout + result.stderr)[-3000:]))
    with open(stamp, "w") as f:
        f.write(wanted)
    return python
