"""A boto3 function with a requirements.txt cross-built for arm64 on this x86_64 machine
(tests/functions/arm64_boto3: boto3 and pydantic, whose pydantic-core is an aarch64 wheel's
extension module), built once per run (the `arm64_boto3_build` fixture) and run under
qemu-user against moto's server; its answers are compared with awslambdaric running the
same handler natively on the same package versions (the x86_64 wheels the cross build
installs for Nuitka's compile-time queries)."""

import hashlib
import os
import subprocess
import zipfile

import pytest

from conftest import ARM64_BOTO3_FUNCTION, ROOT

from buildtools import elf_check, shared_libs, targets
from devtools import facts
from devtools.local_services import run_awslambdaric
from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env

pytestmark = pytest.mark.skipif(facts.host_arch() != "x86_64", reason="cross-building arm64 is for x86_64 hosts")

EVENTS = [
    {"op": "s3", "bucket": "arm64-bucket", "key": "a/b.txt", "body": "h\u00e9llo from aarch64"},
    {"op": "s3", "bucket": "arm64-bucket", "key": "c.txt", "body": "second"},
    {"op": "dynamodb", "table": "arm64-table", "order": {"id": "o1", "price": "19.99", "quantity": 2}},
    {"op": "validate", "order": {"id": "o2", "price": "not a number", "quantity": 0}},
]


def host_deps():
    import build

    path = build.requirements_target(ARM64_BOTO3_FUNCTION, os.path.join(ROOT, ".cache"), facts.host_arch())
    assert os.path.exists(os.path.join(path, ".complete")), "the arm64 build installs the host's wheels too"
    return path


def test_every_elf_in_the_zip_is_aarch64_for_glibc_2_34(arm64_boto3_build, tmp_path):
    with zipfile.ZipFile(arm64_boto3_build.zip_path) as zf:
        zf.extractall(tmp_path)
        names = zf.namelist()
    infos, violations = elf_check.check_tree(str(tmp_path), "arm64",
                                             allowed_libs=elf_check.AL2023_LIBS | shared_libs.SYSTEM_ONLY)
    assert not violations, [str(v) for v in violations]
    assert {info.arch for info in infos} == {"arm64"}
    assert all(info.max_glibc is None or info.max_glibc <= (2, 34) for info in infos)
    by_name = {os.path.relpath(info.path, tmp_path): info for info in infos}
    assert by_name["bootstrap"].interpreter == "/lib/ld-linux-aarch64.so.1"
    # the wheel's extension module, and the stdlib's with the aarch64 libraries they need
    assert "pydantic_core/_pydantic_core.so" in by_name
    for library in ("libssl.so.3", "libcrypto.so.3", "libffi.so.8", "liblzma.so.5", "libbz2.so.1.0"):
        assert library in by_name, sorted(by_name)
    # the S3 and DynamoDB models are baked (.marshal), not botocore's JSON
    assert any(n.startswith("botocore/data/s3/") and n.endswith("service-2.marshal") for n in names)
    assert any(n.startswith("botocore/data/dynamodb/") and n.endswith("service-2.marshal") for n in names)
    assert not [n for n in names if n.startswith("botocore/data/") and ".json" in n]


def test_s3_dynamodb_and_pydantic_under_qemu_match_awslambdaric(arm64_boto3_build, moto):
    bootstrap = arm64_boto3_build.bootstrap
    moto.reset()
    with MockRuntimeAPI() as api:
        process = subprocess.Popen(targets.emulator_prefix("arm64") + [bootstrap],
                                   env=lambda_env(bootstrap, api.address, handler="app.handler", env=moto.env()),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            first = api.wait_result(api.enqueue({"op": "facts"}), timeout=120)
            ours = [api.wait_result(api.enqueue(event), timeout=60) for event in EVENTS]
            assert process.poll() is None
        finally:
            process.kill()
            _, stderr = process.communicate(timeout=30)
    assert first.kind == "response", (first.body, stderr[-3000:])
    answer = first.json()
    assert answer["machine"] == "aarch64" and answer["python"] == "3.11"
    assert answer["pydantic_core"] == "_pydantic_core.so"  # the aarch64 wheel's module, loaded
    assert answer["loader"] == "BakedLoader"               # the models came from the .marshal files
    assert answer["openssl"].startswith("OpenSSL 3.")
    assert answer["sha256"] == hashlib.sha256(b"arm64").hexdigest()

    moto.reset()
    theirs = run_awslambdaric("app.handler", EVENTS, ARM64_BOTO3_FUNCTION, [host_deps()], env=moto.env())
    for mine, aws in zip(ours, theirs, strict=True):
        assert mine.kind == aws.kind == "response", (mine.body, aws.body)
        assert mine.json() == aws.json()
    answers = [r.json() for r in ours]
    assert answers[0]["body"] == "h\u00e9llo from aarch64"
    assert answers[1]["keys"] == ["a/b.txt", "c.txt"]
    assert answers[2] == {"item": {"id": "o1", "price": 19.99, "quantity": 2},
                          "order": {"id": "o1", "price": "19.99", "quantity": 2}}
    assert answers[3] == {"errors": [["price", "decimal_parsing"], ["quantity", "greater_than"]]}

