"""An aarch64 CPython 3.11 to link against on an x86_64 Debian host, from Debian's packages.

`libpython3.11-dev:arm64` ships a static libpython3.11.a with its aarch64 pyconfig.h,
`libpython3.11-stdlib:arm64` the stdlib's aarch64 extension modules (lib-dynload), `libc6:arm64`
the aarch64 loader and libc that `qemu-user-static` needs to run the result here, and
`libssl3:arm64`, `libffi8:arm64`, ... the aarch64 libraries those extension modules need, which
the build ships next to the bootstrap. The
versions are pinned (Debian bookworm and its security updates); `install()` adds the arm64
architecture to dpkg and installs exactly these. Multi-Arch "same" packages must match the
installed amd64 ones, so apt may upgrade the host's own python3.11 packages to the same version.

    python buildtools/debian_arm64.py          # installs what is missing (root, apt)
    python buildtools/debian_arm64.py --check  # exit 1 and list what is missing
"""

import os
import shutil
import subprocess
import sys

#: package -> version, for `apt-get install package=version` (Debian 12 "bookworm").
PACKAGES = {
    "libpython3.11-dev:arm64": "3.11.2-6+deb12u9",
    "libpython3.11-stdlib:arm64": "3.11.2-6+deb12u9",
    "libc6:arm64": "2.36-9+deb12u14",
    "qemu-user-static": "1:7.2+dfsg-7+deb12u18+b3",
    # The libraries beyond glibc that the aarch64 extension modules need, shipped next to
    # the bootstrap (buildtools/shared_libs.py, Target.find_library): _ssl/_hashlib, zlib
    # users, _ctypes, _lzma, _uuid, _sqlite3, _bz2, _dbm. Multi-Arch "same": the versions
    # match the host's own copies of these packages.
    "libssl3:arm64": "3.0.22-1~deb12u2",
    "zlib1g:arm64": "1:1.2.13.dfsg-1+deb12u1",
    "libffi8:arm64": "3.4.4-1",
    "liblzma5:arm64": "5.4.1-1+deb12u2",
    "libuuid1:arm64": "2.38.1-5+deb12u3",
    "libsqlite3-0:arm64": "3.40.1-2+deb12u2",
    "libbz2-1.0:arm64": "1.0.8-5+b1",
    "libdb5.3:arm64": "5.3.28+dfsg2-1",
}

#: Where those packages put the target's files.
MULTIARCH = "aarch64-linux-gnu"  # Debian's multiarch tuple (devtools.facts.GNU_TARGETS["arm64"])
# The position-independent build of the static libpython: the plain libpython3.11.a reaches
# libc's `environ` through a copy relocation, and zig's glibc stubs do not tie that copy to
# glibc's own __environ, so os.environ came out empty.
LIBRARY = "libpython3.11-pic.a"
SYSCONFIGDATA = "/usr/lib/python3.11/_sysconfigdata__%s.py" % MULTIARCH
QEMU = "qemu-aarch64-static"


class MissingPackages(Exception):
    """The pinned packages are not installed; str() says how to install them."""


def installed_versions(packages=PACKAGES):
    """{package: installed version} for those of `packages` that dpkg knows as installed."""
    if not shutil.which("dpkg-query"):
        return {}
    result = subprocess.run(["dpkg-query", "-W", "-f", "${binary:Package} ${Version} ${db:Status-Status}\n"]
                            + list(packages), capture_output=True, text=True)
    found = {}
    for line in result.stdout.splitlines():
        name, version, status = (line.split(" ") + ["", ""])[:3]
        if status == "installed":
            found[name] = version
    return found


def missing(packages=PACKAGES):
    """['package=version', ...] not installed at their pinned version."""
    have = installed_versions(packages)
    return ["%s=%s" % (name, version) for name, version in packages.items() if have.get(name) != version]


def check():
    wanted = missing()
    if wanted:
        raise MissingPackages(
            "building for arm64 on this machine needs Debian's aarch64 CPython 3.11 and qemu; missing: %s. "
            "Install them (as root, with apt): `python buildtools/debian_arm64.py`, "
            "or build with `python build.py --docker --arch arm64`." % " ".join(wanted))


def install(log=sys.stdout):
    """Installs the pinned packages that are missing (needs root and apt-get)."""
    wanted = missing()
    if not wanted:
        return []
    if not shutil.which("apt-get") or os.geteuid() != 0:
        raise MissingPackages("installing %s needs root and apt-get (Debian 12)" % " ".join(wanted))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    architectures = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True,
                                   text=True).stdout.split()
    if "arm64" not in architectures:
        subprocess.run(["dpkg", "--add-architecture", "arm64"], check=True)
    print("debian_arm64: apt-get install %s" % " ".join(wanted), file=log, flush=True)
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + wanted):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise MissingPackages("`%s` failed:\n%s" % (" ".join(command), (result.stdout + result.stderr)[-3000:]))
    still = missing()
    if still:
        raise MissingPackages("after apt-get install, still not at the pinned version: %s" % " ".join(still))
    return wanted


def main(argv):
    try:
        if "--check" in argv:
            check()
        else:
            install()
    except MissingPackages as error:
        print("debian_arm64: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
