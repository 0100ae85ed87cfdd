"""The context object handed to handlers, with the fields AWS's Python runtime gives.

Built once per invocation from the GET /next headers (Invocation) and the environment,
which is read once at start-up: Lambda does not change it between invocations.
"""

import os

from _lambda_runtime import epoch_ms

from . import marshal


class ContextUnmarshalError(Exception):
    """A Lambda-Runtime-Client-Context or -Cognito-Identity header that is not JSON."""

    error_type = "Runtime.LambdaContextUnmarshalError"


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, cognito_identity_id=None, cognito_identity_pool_id=None):
        self.cognito_identity_id = cognito_identity_id
        self.cognito_identity_pool_id = cognito_identity_pool_id

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client:
    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self):
        return "Client([%s])" % ",".join("%s=%s" % (n, getattr(self, n)) for n in self.__slots__)


class ClientContext:
    __slots__ = ("custom", "env", "client")

    def __init__(self, fields):
        self.custom = fields.get("custom")
        self.env = fields.get("env")
        client = fields.get("client")
        self.client = Client(client) if client is not None else None

    def __repr__(self):
        return "ClientContext([custom=%s,env=%s,client=%s])" % (self.custom, self.env, self.client)


def _parse_header_json(value, what):
    try:
        return marshal.loads(value)
    except ValueError as error:
        raise ContextUnmarshalError("Unable to parse %s JSON: %s" % (what, error)) from None


class _EmptyIdentity:
    """context.identity of an invoke without Cognito identity: an empty CognitoIdentity, made
    on first use (most handlers never look) and then kept in the context like any attribute."""

    def __get__(self, context, owner=None):
        if context is None:
            return self
        identity = context.__dict__["identity"] = CognitoIdentity()
        return identity


class LambdaContext:
    """What `context` is in `handler(event, context)`.

    The function's settings are class attributes, read from the environment once (Lambda
    does not change them between invocations); an instance holds what the invoke brought:
    one is built per invocation, so the common case sets four attributes and no more."""

    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
    function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
    log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
    client_context = None
    identity = _EmptyIdentity()
    _w3c = {}

    def __init__(self, invocation):
        self.aws_request_id = invocation.request_id
        self.invoked_function_arn = invocation.invoked_function_arn
        self.tenant_id = invocation.tenant_id
        self._deadline_ms = invocation.deadline_ms
        if invocation.client_context:
            fields = _parse_header_json(invocation.client_context, "Client Context")
            if isinstance(fields, dict):
                w3c = fields.pop("w3c", None)
                if isinstance(w3c, dict):
                    self._w3c = {k: v for k, v in w3c.items()
                                 if k in ("traceparent", "tracestate", "baggage") and isinstance(v, str)}
                self.client_context = ClientContext(fields)
        if invocation.cognito_identity:
            fields = _parse_header_json(invocation.cognito_identity, "Cognito Identity")
            identity = self.identity = CognitoIdentity()
            if isinstance(fields, dict):
                identity.cognito_identity_id = fields.get("cognitoIdentityId")
                identity.cognito_identity_pool_id = fields.get("cognitoIdentityPoolId")

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - epoch_ms()
        return remaining if remaining > 0 else 0

    def w3c(self):
        """The W3C trace context fields (traceparent, tracestate, baggage) of the invoke."""
        return dict(self._w3c)

    def log(self, message):
        import sys

        sys.stdout.write(str(message))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
            "identity=%s,tenant_id=%s])"
            % (self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
               self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
               self.client_context, self.identity, self.tenant_id)
        )
