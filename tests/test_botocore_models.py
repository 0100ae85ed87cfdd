"""Baked botocore models (buildtools/botocore_models.py) read through the runtime's Loader
(lambda_runtime/botocore_loader.py), against plain botocore's Loader on the original JSON:
the same data, listings and versions; the carried services' endpoints resolved as with the
full endpoint data; a clear error for a service the build left out; botocore's JSON for the
rest when the build carries it; which services a scan finds."""

import os

import pytest
from botocore import exceptions, loaders
from botocore.session import Session

from buildtools import botocore_models

CARRIED = {"s3", "dynamodb", "sts"}


@pytest.fixture(scope="module")
def botocore_loader(native_modules):
    """lambda_runtime.botocore_loader (importing the package needs the runtime's extension modules)."""
    from lambda_runtime import botocore_loader

    return botocore_loader


@pytest.fixture(scope="module")
def BakedLoader(botocore_loader):
    return botocore_loader.make_loader_class(loaders, exceptions)


def _original():
    return loaders.Loader(extra_search_paths=[loaders.Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


def _baked(BakedLoader, tmp_path, services=CARRIED, json_fallback=False):
    root = str(tmp_path / "data")
    botocore_models.write_root(loaders.Loader.BUILTIN_DATA_PATH, root, set(services), json_fallback)
    return BakedLoader(extra_search_paths=[root], include_default_search_paths=False)


@pytest.fixture(scope="module")
def baked(BakedLoader, tmp_path_factory):
    return _baked(BakedLoader, tmp_path_factory.mktemp("baked"))


@pytest.mark.parametrize("service", sorted(CARRIED))
@pytest.mark.parametrize("type_name", ["service-2", "endpoint-rule-set-1", "paginators-1", "waiters-2"])
def test_models_equal_the_json(baked, service, type_name):
    original = _original()
    if type_name not in ("service-2", "endpoint-rule-set-1") and service not in original.list_available_services(
            type_name):  # botocore has none: the baked data must not have one either
        with pytest.raises(exceptions.DataNotFoundError):
            baked.load_service_model(service, type_name)
        assert service not in baked.list_available_services(type_name)
        return
    assert baked.load_service_model(service, type_name) == original.load_service_model(service, type_name)
    assert baked.list_api_versions(service, type_name) == original.list_api_versions(service, type_name)
    assert baked.determine_latest_version(service, type_name) == original.determine_latest_version(
        service, type_name)


@pytest.mark.parametrize("name", ["partitions", "_retry", "sdk-default-configuration"])
def test_top_level_data_equals_the_json(baked, name):
    assert baked.load_data(name) == _original().load_data(name)


def test_listing_is_the_carried_services(baked):
    assert baked.list_available_services("service-2") == sorted(CARRIED)


def test_a_left_out_service_says_how_to_add_it(baked):
    with pytest.raises(exceptions.UnknownServiceError) as raised:
        baked.load_service_model("ec2", "service-2")
    assert "Unknown service: 'ec2'" in str(raised.value)
    assert "--aws-service ec2" in str(raised.value)
    with pytest.raises(exceptions.UnknownServiceError) as raised:
        baked.load_service_model("no-such-service", "service-2")
    assert "--aws-service" not in str(raised.value)  # botocore's own error


def test_the_rest_as_json_when_the_build_carries_it(BakedLoader, tmp_path):
    loader = _baked(BakedLoader, tmp_path, services={"s3"}, json_fallback=True)
    original = _original()
    assert loader.list_available_services("service-2") == original.list_available_services("service-2")
    assert loader.load_service_model("ec2", "service-2") == original.load_service_model("ec2", "service-2")
    assert loader.load_data("endpoints") == original.load_data("endpoints")  # every service's endpoints
    assert os.path.exists(tmp_path / "data" / "s3" / "2006-03-01" / "service-2.marshal")


def test_other_search_paths_are_read_as_botocore_reads_them(BakedLoader, tmp_path):
    custom = tmp_path / "models" / "myservice" / "2020-01-01"
    custom.mkdir(parents=True)
    (custom / "service-2.json").write_text('{"metadata": {"apiVersion": "2020-01-01"}, "operations": {}}')
    root = str(tmp_path / "data")
    botocore_models.write_root(loaders.Loader.BUILTIN_DATA_PATH, root, {"s3"}, False)
    loader = BakedLoader(extra_search_paths=[str(tmp_path / "models"), root], include_default_search_paths=False)
    assert loader.list_available_services("service-2") == ["myservice", "s3"]
    assert loader.load_service_model("myservice", "service-2")["metadata"] == {"apiVersion": "2020-01-01"}


def test_a_session_with_the_baked_loader_makes_working_clients(BakedLoader, tmp_path):
    session = Session()
    session.register_component("data_loader", _baked(BakedLoader, tmp_path))
    client = session.create_client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    plain = Session().create_client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert client.meta.service_model.operation_names == plain.meta.service_model.operation_names
    assert client.meta.endpoint_url == plain.meta.endpoint_url
    assert client.can_paginate("list_objects_v2") and client.get_waiter("bucket_exists")


def test_install_changes_nothing_without_baked_data(botocore_loader):
    before = loaders.Loader
    botocore_loader.install(loaders)  # this botocore's data is the original JSON
    assert loaders.Loader is before


# -- which services ------------------------------------------------------------------------

def _scan(tmp_path, code, own_code=True):
    (tmp_path / "app.py").write_text(code)
    scan = botocore_models.Scan()
    botocore_models.scan_tree(str(tmp_path), scan, own_code=own_code)
    return scan


def test_scan_finds_literal_service_names(tmp_path):
    scan = _scan(tmp_path, "import boto3\ns3 = boto3.client('s3')\nt = boto3.resource(service_name='dynamodb')\n"
                           "s = boto3.session.Session().client('sqs', region_name='x')\n")
    assert scan.services == {"s3", "dynamodb", "sqs"} and scan.dynamic == []


def test_a_non_literal_name_in_the_function_ships_every_model(tmp_path):
    scan = _scan(tmp_path, "import boto3, os\nc = boto3.client(os.environ['SERVICE'])\n")
    assert scan.dynamic == ["%s:2" % (tmp_path / "app.py")]
    choice = botocore_models.choose_services(scan, [], ["s3", "sqs", "sts"])
    assert choice.json_fallback and "--aws-service" in choice.reason
    assert _scan(tmp_path, "c = session.client(name)\n", own_code=False).dynamic == []  # a library's: passed through


def test_requested_services_and_all(tmp_path):
    scan = _scan(tmp_path, "import boto3\nboto3.client('s3')\n")
    known = ["ec2", "s3", "sqs", "sts"]
    assert botocore_models.choose_services(scan, ["sqs"], known) == botocore_models.Choice(
        ["s3", "sqs", "sts"], False, botocore_models.choose_services(scan, [], known).reason)
    assert botocore_models.choose_services(scan, ["all"], known).json_fallback
    with pytest.raises(ValueError, match="nosuch"):
        botocore_models.choose_services(scan, ["nosuch"], known)


def _outcome(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except Exception as error:
        return type(error), str(error)


def test_the_carried_services_endpoints_resolve_as_with_the_full_data(baked):
    from botocore.regions import EndpointResolver

    full = EndpointResolver(_original().load_data("endpoints"))
    pruned = EndpointResolver(baked.load_data("endpoints"))
    partitions = full.get_available_partitions()
    assert pruned.get_available_partitions() == partitions
    regions = {r for p in _original().load_data("endpoints")["partitions"] for r in p["regions"]} | {"nowhere-1"}
    checked = 0
    for service in CARRIED:
        prefix = baked.load_service_model(service, "service-2")["metadata"].get("endpointPrefix", service)
        for partition in partitions:
            for non_regional in (False, True):
                assert pruned.get_available_endpoints(prefix, partition, non_regional) == \
                    full.get_available_endpoints(prefix, partition, non_regional)
        for region in sorted(regions):
            for fips in (False, True):
                for dualstack in (False, True):
                    kwargs = dict(use_fips_endpoint=fips, use_dualstack_endpoint=dualstack)
                    assert _outcome(pruned.construct_endpoint, prefix, region, **kwargs) == \
                        _outcome(full.construct_endpoint, prefix, region, **kwargs), (prefix, region, kwargs)
                    checked += 1
    assert checked > 100
    assert len(baked.load_data("endpoints")["partitions"][0]["services"]) < 10  # the carried ones only


def test_the_build_and_the_runtime_agree_on_the_file_names(botocore_loader):
    assert (botocore_models.INDEX_NAME, botocore_models.BAKED_SUFFIX) == (
        botocore_loader.INDEX_NAME, botocore_loader.BAKED_SUFFIX)
