"""A root holding only glibc (its loader, libc, libm), /proc and /dev: the closest thing to
a provided.al2023 sandbox without Docker. The function is bind-mounted at /var/task and the
bootstrap started there with Lambda's environment, in a private mount namespace
(`unshare -m`, then `chroot`; needs root, as CI has).

    root = BareRoot(tmp_path / "root", dist_dir, ca_bundle=...)
    process = root.popen(env)    # /var/task/bootstrap inside
"""

import os
import shutil
import subprocess

# glibc's files, from this machine (no locale data, no gconv, no nsswitch: none is needed).
GLIBC_FILES = ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6")

LAMBDA_LD_LIBRARY_PATH = ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:"
                          "/var/task/lib:/opt/lib")
AL2023_CA_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # where this machine's mount, chroot and unshare are


class BareRoot:
    def __init__(self, root, dist_dir, ca_bundle=None, system_libraries=()):
        """system_libraries: host library files put into the root's /lib64 (standing for
        the system's copies, e.g. al2023's libssl)."""
        self.root = str(root)
        self.dist_dir = dist_dir
        for directory in ("lib64", "proc", "dev", "tmp", "var/task", "opt", "etc/pki/tls/certs"):
            os.makedirs(os.path.join(self.root, directory), exist_ok=True)
        for path in GLIBC_FILES + tuple(system_libraries):
            shutil.copy2(os.path.realpath(path), os.path.join(self.root, "lib64", os.path.basename(path)))
        if ca_bundle:
            shutil.copy2(ca_bundle, os.path.join(self.root, AL2023_CA_BUNDLE.lstrip("/")))

    def popen(self, env, **kwargs):
        environ = dict(env, LANG="en_US.UTF-8", TZ=":UTC", LD_LIBRARY_PATH=LAMBDA_LD_LIBRARY_PATH,
                       LAMBDA_TASK_ROOT="/var/task", LAMBDA_RUNTIME_DIR="/var/runtime",
                       PATH="/usr/local/bin:/usr/bin/:/bin:/opt/bin")
        mount, chroot = shutil.which("mount", path=HOST_PATH), shutil.which("chroot", path=HOST_PATH)
        script = ('%s --bind "$1" "$2/var/task" && %s -t proc proc "$2/proc" && %s --rbind /dev "$2/dev" '
                  '&& exec %s "$2" /var/task/bootstrap' % (mount, mount, mount, chroot))
        unshare = shutil.which("unshare", path=HOST_PATH)
        return subprocess.Popen([unshare, "-m", "/bin/sh", "-c", script, "bare-root", self.dist_dir, self.root],
                                env=environ, **kwargs)
