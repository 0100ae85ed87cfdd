"""The event shapes the benchmark sends, deterministic (the same bytes on every run).

    string_event()    {"data": "<base64>"}: one long string (a binary body, a Kinesis record)
    records_event()   {"Records": [...]}: SQS-like records, strings with escapes and non-ASCII
                      (raw UTF-8, as Lambda passes it on), ints, floats, bools, nulls, nesting

(The small event is measure.SMALL_EVENT.)
"""

import base64
import json
import random

MIB = 1024 * 1024

_NOTES = ["caf\u00e9 cr\u00e8me", "na\u00efve \u201cquoted\u201d", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
          "emoji \U0001f600 \U0001f680", "line one\nline two\ttabbed", 'say "hi" \\ back', "plain ascii note"]


def string_event(size=MIB):
    """About `size` bytes: {"data": base64 of pseudo-random bytes}."""
    rng = random.Random(15)
    raw = bytes(rng.getrandbits(8) for _ in range(size * 3 // 4 - 12))
    return json.dumps({"data": base64.b64encode(raw).decode("ascii")}).encode()


def _record(i, rng):
    body = {"orderId": 100000 + i, "customer": "c-%05d" % rng.randrange(100000), "note": rng.choice(_NOTES),
            "total": round(rng.uniform(1, 5000), 2), "express": rng.random() < 0.3,
            "coupon": None if rng.random() < 0.7 else "SAVE%d" % rng.randrange(50),
            "lines": [{"sku": "SKU-%04d" % rng.randrange(10000), "qty": rng.randrange(1, 9),
                       "price": round(rng.uniform(0.5, 500), 2)} for _ in range(rng.randrange(1, 4))]}
    return {
        "messageId": "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12),
                                                       rng.getrandbits(12), rng.getrandbits(48)),
        "receiptHandle": base64.b64encode(rng.getrandbits(8 * 96).to_bytes(96, "little")).decode(),
        "body": json.dumps(body, ensure_ascii=False),   # a JSON text inside a string: \" escapes
        "attributes": {"ApproximateReceiveCount": str(rng.randrange(1, 4)),
                       "SentTimestamp": str(1700000000000 + i * 137), "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                       "ApproximateFirstReceiveTimestamp": str(1700000000000 + i * 137 + 5)},
        "messageAttributes": {"lang": {"stringValue": rng.choice(["fr", "ja", "en"]), "dataType": "String"},
                              "priority": {"stringValue": str(rng.randrange(10)), "dataType": "Number"}},
        "md5OfBody": "%032x" % rng.getrandbits(128),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
        "awsRegion": "us-east-1",
        "note": rng.choice(_NOTES),
        "size": rng.randrange(1, 1 << 20),
        "score": rng.uniform(-1, 1),
        "retry": rng.random() < 0.5,
        "deadLetter": None,
        "tags": [rng.choice(["urgent", "bulk", "caf\u00e9", "gift"]) for _ in range(rng.randrange(0, 4))],
        "payload": body,
    }


def records_event(size=MIB):
    """About `size` bytes of {"Records": [...]}, non-ASCII as raw UTF-8."""
    rng = random.Random(15)
    records, total, i = [], 14, 0
    while total < size:
        record = _record(i, rng)
        total += len(json.dumps(record, ensure_ascii=False).encode()) + 2
        records.append(record)
        i += 1
    return json.dumps({"Records": records}, ensure_ascii=False).encode()


SHAPES = {"string": string_event, "records": records_event}
