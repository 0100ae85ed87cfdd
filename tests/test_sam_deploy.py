"""sam-deploy/: the SAM template is valid (sam validate, cfn-lint on the translated template),
and deploy.py really deploys into moto's server (CloudFormation + S3 + Lambda on loopback)."""

import base64
import hashlib
import importlib.util
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile

import pytest

from devtools.ports import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAM_DEPLOY = os.path.join(ROOT, "sam-deploy")
TEMPLATE = os.path.join(SAM_DEPLOY, "template.yaml")
DEPLOY_PY = os.path.join(SAM_DEPLOY, "deploy.py")
BIN = os.path.dirname(sys.executable)
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}

pytest.importorskip("samcli", reason="aws-sam-cli is pinned in tests/requirements.txt")
pytest.importorskip("cfnlint", reason="cfn-lint is pinned in tests/requirements.txt")


def load_deploy():
    spec = importlib.util.spec_from_file_location("sam_deploy", DEPLOY_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


deploy = load_deploy()


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra)
    return env


# -- the template -------------------------------------------------------------------

def test_sam_validate():
    result = subprocess.run([sys.executable, "-m", "samcli", "validate", "--region", "us-east-1",
                             "--template-file", TEMPLATE], capture_output=True, text=True,
                            env=clean_env(**FAKE_CREDENTIALS), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def translated_template(tmp_path, replace=None):
    """template.yaml (CodeUri on S3, as after `sam package`) as plain CloudFormation JSON."""
    sam_template = deploy.stage_template("s3://artifacts/function.zip", str(tmp_path))
    template = deploy.translate(sam_template, "us-east-1")
    if replace:
        replace(template)
    path = tmp_path / "cloudformation.json"
    import json
    path.write_text(json.dumps(template, indent=1))
    return template, path


def cfn_lint(path):
    return subprocess.run([os.path.join(BIN, "cfn-lint"), "--regions", "us-east-1", "--", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_translated_template_passes_cfn_lint(tmp_path):
    template, path = translated_template(tmp_path)
    function = template["Resources"]["Function"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Runtime"] == "provided.al2023"
    assert function["Properties"]["Code"] == {"S3Bucket": "artifacts", "S3Key": "function.zip"}
    url = template["Resources"]["FunctionUrl"]["Properties"]
    assert url["AuthType"] == "NONE" and url["InvokeMode"] == {"Ref": "InvokeMode"}
    assert template["Parameters"]["InvokeMode"]["AllowedValues"] == ["BUFFERED", "RESPONSE_STREAM"]
    assert {"FunctionArn", "FunctionUrl"} <= set(template["Outputs"])
    result = cfn_lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_catches_a_bad_runtime(tmp_path):
    def bad_runtime(template):
        template["Resources"]["Function"]["Properties"]["Runtime"] = "provided.al2099"

    _, path = translated_template(tmp_path, bad_runtime)
    result = cfn_lint(path)
    assert result.returncode != 0
    assert "provided.al2099" in result.stdout


# -- deploy.py without AWS ----------------------------------------------------------

def test_zip_is_rebuilt_when_missing_or_stale(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "app.py").write_text("def handler(e, c): return e\n")
    zip_path = tmp_path / "function.zip"
    monkeypatch.setattr(deploy, "DEFAULT_ZIP", str(zip_path))
    args = deploy.parse_args(["--src", str(src)])
    assert "missing" in deploy.build_reason(args)
    zip_path.write_bytes(b"zip")
    future = time.time() + 3600
    os.utime(zip_path, (future, future))
    assert deploy.build_reason(args) is None
    os.utime(src / "app.py", (future + 1, future + 1))
    assert "app.py is newer than the zip" in deploy.build_reason(args)


def run_deploy(*args, env):
    return subprocess.run([sys.executable] + list(args), capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def test_clear_error_without_sam_cli(tmp_path, test_build):
    # -S: without the venv's site-packages (no samcli), and no `sam` on PATH
    result = run_deploy("-S", DEPLOY_PY, "--zip", test_build.zip_path, env=clean_env(PATH=str(tmp_path)))
    assert result.returncode == 1
    assert "SAM CLI is not installed" in result.stderr and "pip install aws-sam-cli" in result.stderr


def test_clear_error_without_credentials(tmp_path, test_build):
    env = clean_env(HOME=str(tmp_path), AWS_CONFIG_FILE=str(tmp_path / "none"),
                    AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), AWS_EC2_METADATA_DISABLED="true")
    result = run_deploy(DEPLOY_PY, "--zip", test_build.zip_path, "--region", "us-east-1", env=env)
    assert result.returncode == 1
    assert "no AWS credentials found" in result.stderr and "aws configure" in result.stderr
    assert "AWS_ACCESS_KEY_ID" in result.stderr


# -- a real deploy into moto's server -------------------------------------------------

@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=clean_env(**FAKE_CREDENTIALS))
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "moto server did not start"
            time.sleep(0.1)
    yield "http://localhost:%d" % port
    process.terminate()
    process.wait(10)
    log.close()


def moto_client(service, url):
    import boto3

    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def lambda_client(url):
    return moto_client("lambda", url)


def test_deploy_into_moto(moto_url, test_build):
    def deploy_once():
        result = run_deploy(DEPLOY_PY, "--zip", test_build.zip_path, "--endpoint-url", moto_url,
                            "--stack-name", "sam-deploy-test", "--handler", "echo.handler",
                            "--memory", "256", "--timeout", "7", "--arch", "x86_64",
                            env=clean_env(**FAKE_CREDENTIALS))
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
        lines = dict(line.split(": ", 1) for line in result.stdout.splitlines()
                     if line.startswith(("FunctionName: ", "FunctionArn: ")))
        return lines, result.stdout

    printed, output = deploy_once()
    assert "translating the SAM template to plain CloudFormation" in output
    function = lambda_client(moto_url).get_function(FunctionName=printed["FunctionName"])["Configuration"]
    assert function["FunctionArn"] == printed["FunctionArn"]
    assert function["Runtime"] == "provided.al2023"
    assert function["Handler"] == "echo.handler"
    assert function["MemorySize"] == 256
    assert function["Timeout"] == 7
    assert function["Architectures"] == ["x86_64"]
    with open(test_build.zip_path, "rb") as f:
        assert function["CodeSha256"] == base64.b64encode(hashlib.sha256(f.read()).digest()).decode()

    printed_again, output = deploy_once()
    assert printed_again == printed
    again = lambda_client(moto_url).get_function(FunctionName=printed["FunctionName"])["Configuration"]
    assert (again["CodeSha256"], again["LastModified"]) == (function["CodeSha256"], function["LastModified"])


@pytest.mark.needs_bootstrap
def test_sam_build_for_arm64_then_deploy_into_moto(moto_url):
    """`sam build` runs the template's makefile build (sam-deploy/function/Makefile) for the
    function's Architectures; deploy.py --sam-build deploys what it built."""
    assert shutil.which("make"), "sam build's makefile method needs make (apt-get install make)"
    result = run_deploy(DEPLOY_PY, "--sam-build", "--arch", "arm64", "--endpoint-url", moto_url,
                        "--stack-name", "sam-build-test", env=clean_env(**FAKE_CREDENTIALS))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    output = result.stdout + result.stderr
    assert "$ sam build" in output
    assert re.search(r"al2023 check: \d+ ELF files, arm64, max GLIBC_2\.3[0-4], .*: OK", output)
    name = dict(line.split(": ", 1) for line in result.stdout.splitlines()
                if line.startswith("FunctionName: "))["FunctionName"]
    function = lambda_client(moto_url).get_function(FunctionName=name)
    # moto's CloudFormation does not hand Architectures on to its Lambda (which then says
    # x86_64): the stack's parameter is what was deployed, the code is what `sam build` made.
    stack = moto_client("cloudformation", moto_url).describe_stacks(StackName="sam-build-test")["Stacks"][0]
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}["Architecture"] == "arm64"
    s3 = moto_client("s3", moto_url)
    uploads = [s3.get_object(Bucket="sam-build-test-artifacts", Key=o["Key"])["Body"].read()
               for o in s3.list_objects_v2(Bucket="sam-build-test-artifacts")["Contents"]]
    sha = function["Configuration"]["CodeSha256"]
    deployed = [z for z in uploads if base64.b64encode(hashlib.sha256(z).digest()).decode() == sha]
    assert len(deployed) == 1, "the deployed code is the zip `sam package` uploaded"
    code = zipfile.ZipFile(io.BytesIO(deployed[0]))
    assert code.getinfo("bootstrap").external_attr >> 16 & 0o111
    machines = {}
    for name in code.namelist():
        header = code.open(name).read(20)
        if header[:4] == b"\x7fELF":
            machines[name] = int.from_bytes(header[18:20], "little")
    assert "bootstrap" in machines and set(machines.values()) == {183}  # EM_AARCH64, every ELF
