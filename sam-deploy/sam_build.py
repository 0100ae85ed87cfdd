#!/usr/bin/env python3
"""The build step of `sam build` (sam-deploy/function/Makefile): build.py for the function's
architecture, its unpacked output copied into the artifacts directory SAM zips.

    python sam-deploy/sam_build.py LOGICAL_ID ARTIFACTS_DIR

The SAM CLI hands make nothing but ARTIFACTS_DIR (aws-lambda-builders' custom_make
workflow); the function's Architectures, with --parameter-overrides applied, are in the
build graph it writes before building: build.toml next to its build directory
(ARTIFACTS_DIR is <build dir>/<logical id>).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class SamBuildError(Exception):
    pass


def architecture(build_toml, logical_id):
    """The architecture SAM resolved for `logical_id`, from its build graph."""
    try:
        with open(build_toml, "rb") as f:
            graph = tomllib.load(f)
    except FileNotFoundError:
        raise SamBuildError("%s is missing: run `sam build` for the whole template (SAM writes the build graph "
                            "only then), not for one resource" % build_toml) from None
    for definition in graph.get("function_build_definitions", {}).values():
        if logical_id in definition.get("functions", []):
            return definition["architecture"]
    raise SamBuildError("%s has no build definition for %s" % (build_toml, logical_id))


def build(logical_id, artifacts_dir):
    artifacts_dir = os.path.abspath(artifacts_dir)
    build_dir = os.path.dirname(artifacts_dir)
    arch = architecture(os.path.join(os.path.dirname(build_dir), "build.toml"), logical_id)
    print("sam_build: %s for %s" % (logical_id, arch), flush=True)
    with tempfile.TemporaryDirectory(prefix="sam-build-", dir=build_dir) as out:
        command = [sys.executable, os.path.join(ROOT, "build.py"), "--arch", arch, "--out", out]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            raise SamBuildError("build.py failed (see above)")
        os.makedirs(artifacts_dir, exist_ok=True)
        shutil.copytree(os.path.join(out, "function"), artifacts_dir, dirs_exist_ok=True)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        build(*argv)
    except SamBuildError as error:
        print("sam_build.py: error: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
