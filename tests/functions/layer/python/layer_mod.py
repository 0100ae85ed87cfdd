"""A module of a Lambda layer (/opt/python), never compiled into the bootstrap. It imports
stdlib modules that nothing compiled in imports (found in the stdlib tree)."""

import mailbox
import xmlrpc.client
import email.mime.text


def handler(event, context):
    message = email.mime.text.MIMEText("layer body")
    return {"from": "layer", "mailbox": mailbox.__name__, "xmlrpc": xmlrpc.client.__name__,
            "mime": message.get_content_type(), "request_id": context.aws_request_id}
