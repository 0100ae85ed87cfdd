#!/usr/bin/env python3
"""Deploys the compiled function with the AWS SAM CLI (sam-deploy/template.yaml).

    python sam-deploy/deploy.py [--stack-name NAME] [--region REGION] [--arch x86_64|arm64]
                                [--memory MB] [--timeout S] [--invoke-mode BUFFERED|RESPONSE_STREAM]
                                [--src DIR] [--handler MOD.FN] [--python 3.11|3.12|3.13]
                                [--zip PATH | --sam-build] [--guided] [--endpoint-url URL]

1. Builds dist/function.zip with `python build.py` when it is missing, older than any
   source (handler/ or --src, and devtools.facts.BUILD_INPUTS: runtime.pyx, native/, ...)
   or built for another architecture. --zip PATH deploys that zip as it is. --sam-build
   runs `sam build` instead (the template's makefile build, sam-deploy/function/Makefile,
   for the --arch given as the Architecture parameter; setup.cfg's handler sources).
2. Points the template's CodeUri at the zip (or takes the template `sam build` wrote) and
   runs `sam deploy` (the managed S3 bucket of the SAM CLI holds the code).
3. Prints the function's name, ARN and URL.

--endpoint-url URL deploys into an AWS emulator (moto, LocalStack) instead: the emulator
does not run the SAM transform, so the zip is uploaded with `sam package` into a bucket
made for it, the template is translated to plain CloudFormation with samtranslator, and
`sam deploy` deploys that. Emulators accept any credentials; "testing" is used if none set.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from buildtools import targets  # noqa: E402
from devtools import facts  # noqa: E402

TEMPLATE = os.path.join(HERE, "template.yaml")
DEFAULT_ZIP = os.path.join(ROOT, "dist", "function.zip")

INSTALL_SAM = ("the AWS SAM CLI is not installed: `pip install aws-sam-cli` (or AWS's installer, "
               "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/"
               "install-sam-cli.html)")
NO_CREDENTIALS = ("no AWS credentials found: run `aws configure` (or `aws sso login --profile P` "
                  "and set AWS_PROFILE=P), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                  "(and AWS_SESSION_TOKEN for temporary credentials)")


class DeployError(Exception):
    """A problem the user can fix; printed without a traceback."""


def shown(path):
    """path relative to the repo when it is inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def step(message):
    print("==> " + message, flush=True)


def parse_args(argv):
    default_src, default_handler = facts.setup_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack-name", default="compiled-python-lambda")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                        help="AWS region (default: AWS_REGION, else your AWS config; us-east-1 with --endpoint-url)")
    parser.add_argument("--arch", default=facts.host_arch(), choices=facts.ARCHITECTURES)
    parser.add_argument("--memory", type=int, default=128, help="memory in MB (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=10, help="timeout in seconds (default: %(default)s)")
    parser.add_argument("--invoke-mode", default="BUFFERED", choices=("BUFFERED", "RESPONSE_STREAM"),
                        help="function URL invoke mode (default: %(default)s)")
    parser.add_argument("--src", default=default_src, help="handler sources, passed to build.py")
    parser.add_argument("--handler", default=default_handler, help="MODULE.FUNCTION, passed to build.py")
    parser.add_argument("--python", default=targets.DEFAULT_PYTHON, choices=targets.PYTHONS,
                        help="CPython version of the bootstrap, passed to build.py (default: %(default)s)")
    parser.add_argument("--zip", help="deploy this zip as it is (no build)")
    parser.add_argument("--sam-build", action="store_true", help="build with `sam build` (the template's makefile)")
    parser.add_argument("--guided", action="store_true", help="run `sam deploy --guided` (asks for settings)")
    parser.add_argument("--endpoint-url", help="deploy into an AWS emulator at URL (moto, LocalStack)")
    args = parser.parse_args(argv)
    if args.endpoint_url and args.guided:
        parser.error("--guided does not go with --endpoint-url")
    if args.zip and args.sam_build:
        parser.error("--zip and --sam-build are two ways to get the code: choose one")
    if args.endpoint_url and not args.region:
        args.region = "us-east-1"
    return args


# -- the zip -------------------------------------------------------------------------

def newest_source(src):
    """(mtime, path) of the most recently changed source file the zip is built from."""
    newest = (0.0, None)
    for top in [src] + [os.path.join(ROOT, p) for p in facts.BUILD_INPUTS]:
        paths = [top] if os.path.isfile(top) else []
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            paths += [os.path.join(dirpath, f) for f in filenames]
        for path in paths:
            newest = max(newest, (os.path.getmtime(path), path))
    return newest


def zip_arch(zip_path):
    """Architecture of the bootstrap that build.py unpacked next to the zip, or None."""
    bootstrap = os.path.join(os.path.dirname(zip_path), "function", "bootstrap")
    if not os.path.exists(bootstrap):
        return None
    return targets.bootstrap_arch(bootstrap)


def build_reason(args):
    """Why dist/function.zip must be (re)built, or None when it is up to date."""
    if not os.path.exists(DEFAULT_ZIP):
        return "%s is missing" % shown(DEFAULT_ZIP)
    mtime, path = newest_source(os.path.abspath(args.src))
    if mtime > os.path.getmtime(DEFAULT_ZIP):
        return "%s is newer than the zip" % shown(path)
    arch = zip_arch(DEFAULT_ZIP)
    if arch and arch != args.arch:
        return "the zip is for %s, not %s" % (arch, args.arch)
    if args.python != targets.DEFAULT_PYTHON:  # a zip does not record its CPython version
        return "--python %s" % args.python
    return None


def ensure_zip(args):
    if args.zip:
        if not os.path.exists(args.zip):
            raise DeployError("--zip %s does not exist" % args.zip)
        return os.path.abspath(args.zip)
    reason = build_reason(args)
    if reason is None:
        step("%s is up to date" % shown(DEFAULT_ZIP))
        return DEFAULT_ZIP
    command = [sys.executable, os.path.join(ROOT, "build.py"), "--src", args.src, "--handler", args.handler,
               "--arch", args.arch, "--python", args.python]
    step("building (%s): %s" % (reason, " ".join(command)))
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        raise DeployError("build.py failed (see above)")
    return DEFAULT_ZIP


# -- the SAM CLI ---------------------------------------------------------------------

def sam_command():
    """How to run the SAM CLI: this interpreter's samcli package, else `sam` on PATH."""
    try:
        import samcli  # noqa: F401
        return [sys.executable, "-m", "samcli"]
    except ImportError:
        pass
    sam = shutil.which("sam")
    if not sam:
        raise DeployError(INSTALL_SAM)
    return [sam]


def sam_env(args):
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    if args.endpoint_url:
        env["AWS_ENDPOINT_URL"] = args.endpoint_url     # every boto3 client of the SAM CLI
        if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_PROFILE"):
            env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    return env


def check_credentials(env):
    """Fails early without credentials (when botocore is here to look: the SAM CLI's own)."""
    try:
        import botocore.session
    except ImportError:
        return
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        credentials = botocore.session.Session().get_credentials()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if credentials is None:
        raise DeployError(NO_CREDENTIALS)


def run_sam(sam, arguments, env, capture=False):
    print("    $ sam " + " ".join(arguments), flush=True)
    result = subprocess.run(sam + arguments, env=env, text=True,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)
    if capture:
        print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        raise DeployError("`sam %s` failed (exit status %d, see above)" % (arguments[0], result.returncode))
    return result.stdout


# -- the template --------------------------------------------------------------------

def stage_template(zip_path, out_dir):
    """template.yaml with CodeUri set to the zip's absolute path, written into out_dir."""
    with open(TEMPLATE) as f:
        text = f.read()
    text, count = re.subn(r"(?m)^(\s+CodeUri:).*$", lambda m: "%s %s" % (m.group(1), zip_path), text)
    if count != 1:
        raise DeployError("%s must have exactly one CodeUri line" % TEMPLATE)
    path = os.path.join(out_dir, "template.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def sam_build(args, sam, env, work_dir):
    """`sam build` of the template for --arch; returns the template it wrote."""
    build_dir = os.path.join(work_dir, "build")
    step("building with `sam build` (sam-deploy/function/Makefile) for %s" % args.arch)
    make_env = dict(env, PYTHON=sys.executable)  # the Makefile's $(PYTHON)
    run_sam(sam, ["build", "--template-file", TEMPLATE, "--build-dir", build_dir,
                  "--parameter-overrides", "Architecture=" + args.arch], make_env)
    return os.path.join(build_dir, "template.yaml")


def translate(sam_template_path, region):
    """The SAM template as plain CloudFormation (dict), as the AWS::Serverless transform makes it."""
    try:
        from samcli.yamlhelper import yaml_parse
        from samtranslator.translator.transform import transform
    except ImportError:
        raise DeployError("--endpoint-url translates the template itself and needs the SAM CLI's Python "
                          "packages in this interpreter: `%s -m pip install aws-sam-cli`" % sys.executable)
    with open(sam_template_path) as f:
        template = yaml_parse(f.read())
    os.environ.setdefault("AWS_DEFAULT_REGION", region or "us-east-1")   # the translator's partition
    return transform(template, {}, None)


def parameter_overrides(args):
    return ["Architecture=" + args.arch, "MemorySize=%d" % args.memory, "Timeout=%d" % args.timeout,
            "FunctionHandler=" + args.handler, "InvokeMode=" + args.invoke_mode]


# -- deploying -----------------------------------------------------------------------

def deploy_to_aws(args, sam, env, template):
    arguments = ["deploy", "--template-file", template, "--stack-name", args.stack_name,
                 "--capabilities", "CAPABILITY_IAM", "--parameter-overrides"] + parameter_overrides(args)
    if args.region:
        arguments += ["--region", args.region]
    if args.guided:
        arguments.append("--guided")
    else:
        arguments += ["--resolve-s3", "--no-confirm-changeset", "--no-fail-on-empty-changeset"]
    run_sam(sam, arguments, env)


def deploy_to_emulator(args, sam, env, template, work_dir):
    bucket = artifact_bucket(args, env)
    packaged = os.path.join(work_dir, "packaged.yaml")
    step("uploading the zip to s3://%s (sam package)" % bucket)
    run_sam(sam, ["package", "--template-file", template, "--output-template-file", packaged,
                  "--s3-bucket", bucket, "--region", args.region], env, capture=True)
    step("translating the SAM template to plain CloudFormation (samtranslator)")
    translated = os.path.join(work_dir, "cloudformation.json")
    with open(translated, "w") as f:
        json.dump(translate(packaged, args.region), f, indent=1)
    step("deploying the translated template")
    run_sam(sam, ["deploy", "--template-file", translated, "--stack-name", args.stack_name,
                  "--region", args.region, "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset",
                  "--no-fail-on-empty-changeset", "--parameter-overrides"] + parameter_overrides(args), env)


def boto3_client(service, args, env):
    import boto3

    session = boto3.session.Session(aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                                     aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
                                     aws_session_token=env.get("AWS_SESSION_TOKEN"),
                                     profile_name=env.get("AWS_PROFILE"), region_name=args.region)
    return session.client(service, endpoint_url=args.endpoint_url)


def artifact_bucket(args, env):
    """An S3 bucket in the emulator for the code (`sam deploy --resolve-s3` needs CloudFormation
    features emulators lack)."""
    bucket = re.sub(r"[^a-z0-9-]", "-", args.stack_name.lower())[:40] + "-artifacts"
    s3 = boto3_client("s3", args, env)
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        config = {} if args.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": args.region}}
        s3.create_bucket(Bucket=bucket, **config)
    return bucket


def describe_function(args, env):
    """{"FunctionName", "FunctionArn", "FunctionUrl"} of the deployed stack (stack outputs, or the
    function resource when the emulator gives no outputs)."""
    try:
        cloudformation = boto3_client("cloudformation", args, env)
    except ImportError:
        return {}
    stack = cloudformation.describe_stacks(StackName=args.stack_name)["Stacks"][0]
    found = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    if "FunctionArn" not in found:
        resource = cloudformation.describe_stack_resource(StackName=args.stack_name, LogicalResourceId="Function")
        name = resource["StackResourceDetail"]["PhysicalResourceId"]
        configuration = boto3_client("lambda", args, env).get_function(FunctionName=name)["Configuration"]
        found.update(FunctionName=name, FunctionArn=configuration["FunctionArn"])
    return found


def deploy(args):
    sam = sam_command()
    env = sam_env(args)
    check_credentials(env)
    zip_path = None if args.sam_build else ensure_zip(args)
    target = args.endpoint_url or "AWS" + (" (%s)" % args.region if args.region else "")
    with tempfile.TemporaryDirectory(prefix="sam-deploy-") as work_dir:
        if args.sam_build:
            template = sam_build(args, sam, env, work_dir)
        else:
            template = stage_template(zip_path, work_dir)
        step("deploying %s as stack %s to %s" % (shown(zip_path or template), args.stack_name, target))
        if args.endpoint_url:
            deploy_to_emulator(args, sam, env, template, work_dir)
        else:
            deploy_to_aws(args, sam, env, template)
    found = describe_function(args, env)
    for key in ("FunctionName", "FunctionArn", "FunctionUrl"):
        if key in found:
            print("%s: %s" % (key, found[key]))
    if not found:
        print("deployed: the stack outputs above name the function, its ARN and URL")
    elif "FunctionUrl" not in found:
        print("FunctionUrl: none reported (emulators may not implement AWS::Lambda::Url)")
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return deploy(args)
    except DeployError as error:
        print("deploy.py: error: %s" % error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
