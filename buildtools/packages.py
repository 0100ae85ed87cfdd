"""Which modules the bootstrap carries, and in which form.

- The user's own modules in --src: compiled to C (what the build is for).
- Third-party packages (installed from --src/requirements.txt, or vendored into --src with
  `pip install -t`): bytecode inside the binary, unless --compile-package names them. They
  are most of a real function's code (botocore alone is ~400 modules) and compiling them
  to C costs minutes per build for no start-up gain: botocore's time is its own work at
  import and client creation (measured, see README "Dependencies").
- The standard library: what the code imports is inside the binary (compiled or as
  bytecode, as Nuitka decides); the rest is a tree of .pyc files next to it
  (buildtools/stdlib_tree.py), for code Nuitka never saw.

Package data (botocore's models, certifi's cacert.pem) travels with each package, and
every *.dist-info directory is put at the output's root, where importlib.metadata finds
it on sys.path as it would in a managed-runtime zip.
"""

import os
import shutil
from dataclasses import dataclass, field

@dataclass
class Dependencies:
    """Third-party distributions: where they are and which top-level names they provide."""
    directories: list = field(default_factory=list)   # directories holding them (sys.path entries)
    packages: list = field(default_factory=list)      # top-level packages
    modules: list = field(default_factory=list)       # top-level single-file modules
    dist_infos: list = field(default_factory=list)    # paths of *.dist-info directories


def find_dependencies(directories):
    deps = Dependencies()
    for directory in filter(None, directories):
        infos = sorted(e for e in os.listdir(directory) if e.endswith(".dist-info"))
        if not infos:
            continue
        deps.directories.append(directory)
        for info in infos:
            deps.dist_infos.append(os.path.join(directory, info))
            for name in _top_level_names(directory, info):
                path = os.path.join(directory, name)
                if os.path.isdir(path) and name not in deps.packages:
                    deps.packages.append(name)
                elif os.path.exists(path + ".py") and name not in deps.modules:
                    deps.modules.append(name)
    return deps


def _top_level_names(directory, info):
    """Top-level importable names of one installed distribution, from its RECORD: the first
    component of each file's path, for packages (a directory), .py modules and extensions."""
    names = []
    record = os.path.join(directory, info, "RECORD")
    if not os.path.exists(record):
        return names
    with open(record, encoding="utf-8") as f:
        for line in f:
            path = line.split(",", 1)[0]
            first, slash, _ = path.partition("/")
            if slash:
                name = first
            elif first.endswith(".py"):
                name = first[:-3]
            elif first.endswith(".so"):
                name = first.split(".", 1)[0]
            else:
                continue
            if name.isidentifier() and name not in ("__pycache__", "bin") and name not in names:
                names.append(name)
    return names


def nuitka_options(deps, compiled_packages, left_out):
    """left_out: stdlib modules never to follow (they cannot run on Lambda)."""
    options = ["--nofollow-import-to=" + ",".join(sorted(left_out)),
               "--nofollow-import-to=*.tests,*.test"]  # packages' own test suites
    for name in deps.packages + deps.modules:
        kind = "package" if name in deps.packages else "module"
        options.append("--include-%s=%s" % (kind, name))
        if name not in compiled_packages:
            options.append("--noinclude-custom-mode=%s:bytecode" % name)
        if kind == "package":
            options.append("--include-package-data=" + name)
    # Nuitka answers importlib.metadata calls in compiled code from what it was told to carry
    options += ["--include-distribution-metadata=" + name for name in distribution_names(deps)]
    return options


def distribution_names(deps):
    names = []
    for info in deps.dist_infos:
        with open(os.path.join(info, "METADATA"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("Name:"):
                    names.append(line.split(":", 1)[1].strip())
                    break
    return names


def unknown_compiled_packages(deps, compiled_packages):
    return sorted(set(compiled_packages) - set(deps.packages) - set(deps.modules))


def copy_metadata(deps, dist_dir):
    for info in deps.dist_infos:
        target = os.path.join(dist_dir, os.path.basename(info))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(info, target)


def carried_summary(report_path):
    """One line from Nuitka's --report XML: modules compiled to C, as bytecode, extension
    modules and data files, the data's size per top-level package (largest first)."""
    import xml.etree.ElementTree as ElementTree

    root = ElementTree.parse(report_path).getroot()
    kinds = [m.get("kind", "") for m in root.iter("module")]
    compiled = sum(k.startswith("Compiled") or k == "PythonMainModule" for k in kinds)
    bytecode = sum(k.startswith("Uncompiled") for k in kinds)
    extensions = sum(k == "PythonExtensionModule" for k in kinds)
    data_by_package = {}
    for data in root.iter("data_file"):
        top = data.get("name", "").split("/", 1)[0]
        data_by_package[top] = data_by_package.get(top, 0) + int(data.get("size") or 0)
    largest = sorted(data_by_package.items(), key=lambda item: -item[1])[:4]
    data = ", ".join("%s %.1f MB" % (name, size / 1e6) for name, size in largest)
    return ("%d modules compiled to C, %d as bytecode, %d extension modules; %d data files%s"
            % (compiled, bytecode, extensions, sum(1 for _ in root.iter("data_file")),
               " (%s)" % data if data else ""))
