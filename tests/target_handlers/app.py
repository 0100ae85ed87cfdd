"""Handlers for the builds of other targets (arm64, other CPython versions): each proves
one thing about the bootstrap it is compiled into."""
import os
import sys


def echo(event, context):
    return event


def version(event, context):
    """The interpreter and machine the bootstrap really runs on."""
    return {"version_info": list(sys.version_info[:3]), "machine": os.uname().machine,
            "request_id": context.aws_request_id}


def fail(event, context):
    raise ValueError("failed on purpose: %s" % event.get("n"))
