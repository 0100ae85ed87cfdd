"""The build's fixed facts, each written once (no imports beyond the standard library:
build.py reads them before its build environment exists)."""

import configparser
import os
import platform

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# provided.al2023's glibc: the highest symbol version a bootstrap may need.
GLIBC_TARGET = "2.34"

# Lambda's architecture names, and the other names machines and tools use for them.
ARCHITECTURES = ("x86_64", "arm64")
ARCH_ALIASES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "arm64": "arm64", "aarch64": "arm64"}


def normalize_arch(arch):
    """'x86_64'/'amd64'/'x64' -> 'x86_64'; 'arm64'/'aarch64' -> 'arm64'."""
    try:
        return ARCH_ALIASES[arch.lower()]
    except KeyError:
        raise ValueError("unknown architecture %r (use x86_64 or arm64)" % arch) from None


def host_arch():
    return normalize_arch(platform.machine())


# The GNU target of each architecture, as zig spells it.
GNU_TARGETS = {"x86_64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}


def zig_target(arch, glibc=GLIBC_TARGET):
    """The -target that makes zig link against that glibc, e.g. x86_64-linux-gnu.2.34."""
    return "%s.%s" % (GNU_TARGETS[arch], glibc)


def setup_defaults():
    """(handler sources, default handler) from setup.cfg's [lambda_runtime] section."""
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    section = config["lambda_runtime"] if config.has_section("lambda_runtime") else {}
    return section.get("src", "handler"), section.get("handler", "app.handler")


# The runtime's own Cython modules, linked into the bootstrap as built-in modules
# (name, source relative to ROOT), and the module the Nuitka plugin adds beside them.
RUNTIME_NATIVE_MODULES = (
    ("_lambda_http", os.path.join("native", "_lambda_http.pyx")),
    ("_lambda_json", os.path.join("native", "_lambda_json.pyx")),
    ("_lambda_runtime", "runtime.pyx"),
)
NUITKA_HELPER_MODULE = "_lambda_nuitka"
# Built-in modules of the runtime's, not the user's (lambda_runtime/handler_loader.py
# holds the same set inside the bootstrap; a test checks that the two agree).
RUNTIME_BUILTINS = frozenset([name for name, _ in RUNTIME_NATIVE_MODULES] + [NUITKA_HELPER_MODULE])

# What a bootstrap is built from besides the handler sources (relative to ROOT): a change
# in any of them makes a built zip stale.
BUILD_INPUTS = ("build.py", "setup.cfg", "buildtools", "devtools", "runtime.pyx", "native", "lambda_runtime")
