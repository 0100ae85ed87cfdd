"""Wheels with C extensions: pydantic v2 (pydantic-core), numpy, orjson."""

import numpy
import orjson
from pydantic import BaseModel, Field, ValidationError


class User(BaseModel):
    name: str
    age: int = Field(ge=0)


def pydantic_handler(event, context):
    try:
        user = User.model_validate(event)
    except ValidationError as error:
        return {"valid": False, "errors": [e["loc"][0] for e in error.errors()]}
    return {"valid": True, "user": user.model_dump(), "schema_keys": sorted(User.model_json_schema()["properties"])}


def numpy_handler(event, context):
    a = numpy.array(event["values"], dtype=numpy.float64)
    return {"sum": float(a.sum()), "mean": float(a.mean()), "dot": float(a @ a), "version": numpy.__version__}


def orjson_handler(event, context):
    return {"roundtrip": orjson.loads(orjson.dumps(event)), "bytes": orjson.dumps({"a": [1, 2]}).decode()}


def cryptography_handler(event, context):
    """cryptography's Rust/OpenSSL wheel: a Fernet round trip and a digest."""
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes

    fernet = Fernet(Fernet.generate_key())
    digest = hashes.Hash(hashes.SHA256())
    digest.update(event["text"].encode())
    return {"roundtrip": fernet.decrypt(fernet.encrypt(event["text"].encode())).decode(),
            "sha256": digest.finalize().hex()[:16]}


def regex_table(event, context):
    """Whether re's compiler takes the patterns urllib3 compiles at import from the build's
    table (lambda_runtime/regex_cache.py): equal Patterns, re's parser run only for others."""
    from re import _compiler, _parser

    import urllib3.util.url as url

    parsed = []
    real_parse = _parser.parse
    _parser.parse = lambda *args: parsed.append(args[0]) or real_parse(*args)
    try:
        again = _compiler.compile(url._PERCENT_RE.pattern)
        other = _compiler.compile(r"[0-9]{3}-(?P<unseen>x)")
    finally:
        _parser.parse = real_parse
    return {"table_in_use": hasattr(_compiler.compile, "__wrapped__"), "equal": again == url._PERCENT_RE,
            "parsed": parsed, "other_groups": other.groupindex.get("unseen")}


def codegen_table(event, context):
    """Whether namedtuple's generated __new__ of botocore's ReadOnlyCredentials runs the code
    the build compiled (lambda_runtime/codegen_cache.py), and the class works."""
    import collections

    from botocore.credentials import ReadOnlyCredentials
    from lambda_runtime import codegen_cache

    new = ReadOnlyCredentials.__new__.__code__
    from_table = any(new in code.co_consts for table in codegen_cache._tables.values() if table
                     for code in table.values())
    return {"table_in_use": hasattr(vars(collections).get("eval"), "__wrapped__"), "from_table": from_table,
            "credentials": list(ReadOnlyCredentials("key", "secret", None)[:3])}
