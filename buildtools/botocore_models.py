"""botocore's and boto3's JSON models, baked at build time for lambda_runtime/botocore_loader.py.

botocore reads every model through its Loader: it lists `botocore/data` (hundreds of
directories) to learn which services exist, then gunzips and json-loads the service model,
its endpoint rule set, paginators, waiters, extras. That is most of a client's creation
time. The build does it once instead:

- Each model file of a carried service becomes `<same path>.marshal`: the data json.load
  gives, marshalled, with equal strings made one object (less to unmarshal, less heap).
- botocore's legacy endpoint data (`endpoints.json`, 3.5 MB of heap in every process)
  keeps only the carried services' entries (unless every service ships).
- `_index.marshal` at the data root is the listing of what the build ships there (which
  services and API versions have which model types) plus the services left out, so the
  loader never lists directories and can say what to rebuild with.

Which services: those the code can reach, by a scan of every module in --src and in the
installed packages for calls with a literal service name (`boto3.client("s3")`,
`session.resource("dynamodb")`, `create_client("sts")`, `service_name="sqs"`), plus
`--aws-service` names and the ones botocore's own credential and token providers create
(ALWAYS). When the function's own code names a service with anything but a literal, the
scan cannot know the set: every other service then ships as botocore's original JSON, which
the loader reads as botocore does. `--aws-service all` asks for that too.
"""

import ast
import json
import marshal
import os
import shutil
from dataclasses import dataclass, field

INDEX_NAME = "_index"            # <data root>/_index.marshal (lambda_runtime/botocore_loader.py)
BAKED_SUFFIX = ".marshal"
JSON_SUFFIXES = (".json", ".json.gz")
DATA_ROOTS = ("botocore/data", "boto3/data")  # package-relative; Nuitka is told not to copy them
ALWAYS = ("sts", "sso", "sso-oidc", "signin")  # botocore/credentials.py, botocore/tokens.py
CLIENT_CALLS = {"client", "resource", "create_client", "_client_creator"}
ALL = "all"


@dataclass
class Scan:
    services: set = field(default_factory=set)    # literal service names seen
    dynamic: list = field(default_factory=list)   # "file:line" of a call naming a service otherwise


def _service_argument(call):
    """(True, name-or-None) for a client/resource call: the literal name, or None if it is
    not a literal; (False, None) for any other call."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in CLIENT_CALLS:
        return False, None
    argument = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "service_name"), None)
    if argument is None:
        return False, None
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return True, argument.value
    return True, None


def scan_file(path, scan, own_code):
    with open(path, "rb") as f:
        source = f.read()
    if b"client(" not in source and b"resource(" not in source and b"_creator(" not in source:
        return
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            is_client_call, service = _service_argument(node)
            if service is not None:
                scan.services.add(service)
            elif is_client_call and own_code:
                scan.dynamic.append("%s:%d" % (path, node.lineno))


def scan_tree(directory, scan, own_code, skip=()):
    for dirpath, dirnames, filenames in os.walk(directory):
        if dirpath == directory:
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f[:-3] not in skip]
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "tests", "test")]
        for filename in filenames:
            if filename.endswith(".py"):
                scan_file(os.path.join(dirpath, filename), scan, own_code)


def available_services(data_dir):
    return sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d)))


@dataclass
class Choice:
    baked: list                 # services whose models are baked
    json_fallback: bool         # every other service ships as the original JSON
    reason: str                 # one line for the build's output


def choose_services(scan, requested, known):
    """requested: --aws-service names (ALL for every service); known: botocore's services."""
    unknown = sorted(set(requested) - set(known) - {ALL})
    if unknown:
        raise ValueError("--aws-service %s: not a botocore service (see botocore/data)" % ", ".join(unknown))
    baked = sorted((scan.services | set(requested) | set(ALWAYS)) & set(known))
    if ALL in requested:
        return Choice(baked, True, "--aws-service all: every other service's model as JSON")
    if scan.dynamic:
        return Choice(baked, True, "a service named by a non-literal at %s: every other service's model as JSON "
                      "(name them with --aws-service to ship only those)" % ", ".join(scan.dynamic[:3]))
    return Choice(baked, False, "the services the code names, --aws-service ones and %s" % ", ".join(ALWAYS))


def _interned(value, strings):
    if isinstance(value, dict):
        return {strings.setdefault(k, k): _interned(v, strings) for k, v in value.items()}
    if isinstance(value, list):
        return [_interned(v, strings) for v in value]
    if isinstance(value, str):
        return strings.setdefault(value, value)
    return value


def _load_json(path):
    import gzip

    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def bake_file(source, target, transform=None):
    """source: a .json or .json.gz model; target: its .marshal (the data json.loads gives,
    or transform(data))."""
    data = _load_json(source)
    with open(target, "wb") as f:
        f.write(marshal.dumps(_interned(transform(data) if transform else data, {})))


def endpoint_prefixes(source_root, services):
    """The endpoint prefixes (legacy endpoint data's service keys) of these services' models."""
    prefixes = set()
    for service in services:
        service_dir = os.path.join(source_root, service)
        for version in os.listdir(service_dir) if os.path.isdir(service_dir) else ():
            for filename in os.listdir(os.path.join(service_dir, version)):
                if _model_name(filename) == "service-2":
                    metadata = _load_json(os.path.join(service_dir, version, filename))["metadata"]
                    prefixes.add(metadata.get("endpointPrefix", service))
    return prefixes


def pruned_endpoints(endpoints, prefixes):
    """endpoints.json with only the services keyed by these prefixes in each partition: what
    every lookup for those services finds (botocore's EndpointResolver) stays the same, and
    the data of services the build left out (~3 MB of heap) is not loaded."""
    partitions = [dict(partition, services={k: v for k, v in partition["services"].items() if k in prefixes})
                  for partition in endpoints["partitions"]]
    return dict(endpoints, partitions=partitions)


def _model_name(filename):
    for suffix in JSON_SUFFIXES:
        if filename.endswith(suffix):
            return filename[:-len(suffix)]
    return None


def write_root(source_root, target_root, services, json_fallback):
    """Ships one data root: top-level files and the given services baked, every other
    service as JSON if json_fallback, and the index. Returns (baked files, JSON files)."""
    shutil.rmtree(target_root, ignore_errors=True)
    os.makedirs(target_root)
    transforms = {}
    if not json_fallback:
        prefixes = endpoint_prefixes(source_root, services)
        transforms["endpoints"] = lambda data: pruned_endpoints(data, prefixes)
    types, left_out, baked, copied = {}, [], 0, 0
    for entry in sorted(os.listdir(source_root)):
        path = os.path.join(source_root, entry)
        if not os.path.isdir(path):
            name = _model_name(entry)
            if name:
                bake_file(path, os.path.join(target_root, name + BAKED_SUFFIX), transforms.get(name))
                baked += 1
            continue
        if entry not in services and not json_fallback:
            left_out.append(entry)
            continue
        for version in sorted(os.listdir(path)):
            os.makedirs(os.path.join(target_root, entry, version))
            for filename in sorted(os.listdir(os.path.join(path, version))):
                name = _model_name(filename)
                if name is None:
                    continue
                source, target = os.path.join(path, version, filename), os.path.join(target_root, entry, version)
                if entry in services:
                    bake_file(source, os.path.join(target, name + BAKED_SUFFIX))
                    baked += 1
                else:
                    shutil.copy2(source, os.path.join(target, filename))
                    copied += 1
                types.setdefault(name, {}).setdefault(entry, []).append(version)
    index = {"types": types, "left_out": left_out}
    with open(os.path.join(target_root, INDEX_NAME + BAKED_SUFFIX), "wb") as f:
        f.write(marshal.dumps(index))
    return baked, copied


@dataclass
class Plan:
    roots: dict                 # package-relative data root -> its installed directory
    choice: Choice


def plan(deps_dirs, src, requested, vendored=()):
    """Scans the code and chooses the services (None when botocore is not a dependency).
    vendored: names of third-party packages installed into src (not the function's code)."""
    roots = {}
    for root in DATA_ROOTS:
        for directory in deps_dirs:
            if os.path.isdir(os.path.join(directory, root)):
                roots[root] = os.path.join(directory, root)
                break
    if "botocore/data" not in roots:
        if requested:
            raise ValueError("--aws-service: the function does not depend on botocore")
        return None
    scan = Scan()
    scan_tree(src, scan, own_code=True, skip=vendored)
    for directory in deps_dirs:
        scan_tree(directory, scan, own_code=False)
    return Plan(roots, choose_services(scan, requested, available_services(roots["botocore/data"])))


def write(plan, dist_dir):
    """The build step: each data root of the installed botocore and boto3 into dist_dir."""
    if plan is None:
        return
    choice = plan.choice
    for root, source_root in plan.roots.items():
        baked, copied = write_root(source_root, os.path.join(dist_dir, root), set(choice.baked), choice.json_fallback)
        print("    %s: %d model files baked%s" % (root, baked, ", %d as JSON" % copied if copied else ""))
    print("    services baked: %s (%s)" % (", ".join(choice.baked), choice.reason))


def nuitka_options(deps):
    """Nuitka must not copy the original data roots: this step writes them."""
    return ["--noinclude-data-files=%s/*" % root for root in DATA_ROOTS if root.split("/")[0] in deps.packages]
