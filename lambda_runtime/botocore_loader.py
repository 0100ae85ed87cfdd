"""botocore's Loader, reading the models the build baked (buildtools/botocore_models.py).

Installed by the bootstrap right after `botocore.loaders` is imported, and only when the
build baked botocore's data: `botocore.loaders.Loader` becomes a subclass whose
- file loader reads `<name>.marshal` (the data json.load gives, as plain dicts) before
  botocore's own `.json`/`.json.gz`, so any search path (AWS_DATA_PATH, ~/.aws/models,
  boto3's data) still works as in botocore;
- listings of a data root that has `_index.marshal` come from that index, not from
  listing directories; other roots are listed as botocore lists them;
- unknown services raise botocore's UnknownServiceError, saying so when the build left
  that service's model out and how to add it.
Search order, caching, extras and every method's result are botocore's own.
"""

import gc
import marshal
import mmap
import os

INDEX_NAME = "_index"  # buildtools/botocore_models.py writes it
BAKED_SUFFIX = ".marshal"


def _read_marshal(path):
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return None
    # Unmarshalled from the mapped file: no copy of it on the heap (s3's model is 1 MB).
    # A model is one tree of new containers, all alive: collecting during its load (several
    # young and often a full collection, ~10 ms for endpoints.json) would find nothing.
    with f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return marshal.loads(data)
        finally:
            if enabled:
                gc.enable()


def has_baked_data(loaders):
    return os.path.isfile(os.path.join(loaders.BOTOCORE_ROOT, "data", INDEX_NAME + BAKED_SUFFIX))


def make_loader_class(loaders, exceptions):
    """The Loader subclass for this botocore's `loaders` and `exceptions` modules."""

    class BakedFileLoader(loaders.JSONFileLoader):
        def exists(self, file_path):
            return os.path.isfile(file_path + BAKED_SUFFIX) or super().exists(file_path)

        def load_file(self, file_path):
            data = _read_marshal(file_path + BAKED_SUFFIX)
            return data if data is not None else super().load_file(file_path)

    class PrunedServiceError(exceptions.UnknownServiceError):
        fmt = (exceptions.UnknownServiceError.fmt + ". This build left the model of '{service_name}' out: "
               "add it with `python build.py --aws-service {service_name}` (or --aws-service all)")

    class BakedLoader(loaders.Loader):
        FILE_LOADER_CLASS = BakedFileLoader

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._indexes = {}

        def _index(self, path):
            if path not in self._indexes:
                self._indexes[path] = _read_marshal(os.path.join(path, INDEX_NAME + BAKED_SUFFIX))
            return self._indexes[path]

        @loaders.instance_cache
        def list_available_services(self, type_name):
            services = set()
            for path in self._potential_locations():
                index = self._index(path)
                if index is not None:
                    services.update(index["types"].get(type_name, ()))
                    continue
                for service in os.listdir(path):  # botocore's own listing, for one root
                    service_dir = os.path.join(path, service)
                    if os.path.isdir(service_dir) and any(
                            self.file_loader.exists(os.path.join(service_dir, version, type_name))
                            for version in os.listdir(service_dir)):
                        services.add(service)
            return sorted(services)

        @loaders.instance_cache
        def list_api_versions(self, service_name, type_name):
            versions = set()
            for path in self._potential_locations(service_name, must_exist=True, is_dir=True):
                index = self._index(os.path.dirname(path))
                if index is not None:
                    versions.update(index["types"].get(type_name, {}).get(service_name, ()))
                    continue
                for version in os.listdir(path):
                    if self.file_loader.exists(os.path.join(path, version, type_name)):
                        versions.add(version)
            if not versions:
                raise exceptions.DataNotFoundError(data_path=service_name)
            return sorted(versions)

        def load_service_model(self, service_name, type_name, api_version=None):
            try:
                return super().load_service_model(service_name, type_name, api_version)
            except exceptions.UnknownServiceError as error:
                if not self._left_out(service_name):
                    raise
                raise PrunedServiceError(**error.kwargs) from None

        def _left_out(self, service_name):
            return any(service_name in (self._index(path) or {}).get("left_out", ())
                       for path in self._potential_locations())

    return BakedLoader


def install(loaders):
    """Makes botocore create BakedLoaders (botocore.loaders.create_loader uses the module's
    Loader), if the build baked botocore's data."""
    if has_baked_data(loaders):
        from botocore import exceptions

        loaders.Loader = make_loader_class(loaders, exceptions)
