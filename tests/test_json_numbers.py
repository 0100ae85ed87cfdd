"""native/floatfmt.pxd's short paths and native/floatwide.pxd's 128-bit ones: floats written as
repr() writes them and read as float() reads them, bit for bit, for short decimals, full
precision ones (16 to 19 digits), the ties of both directions and any double."""

import json
import math
import random
import struct
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def codec(native_modules):
    sys.path.insert(0, native_modules)
    from lambda_runtime import marshal

    return marshal.event_codec


def bits(x):
    return struct.pack("<d", x)


short_decimals = st.builds(lambda m, d: m / 10 ** d, st.integers(-10 ** 16, 10 ** 16), st.integers(0, 24))


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False) | short_decimals)
def test_floats_written_as_repr(codec, x):
    assert codec.dumps(x) == json.dumps(x).encode()
    if math.isfinite(x):
        assert codec.dumps(x) == repr(x).encode()


@settings(max_examples=1000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False) | short_decimals)
def test_floats_read_back_bit_for_bit(codec, x):
    for text in (repr(x), "%.17g" % x, "%.3e" % x, "%.15g" % x, "%.20f" % x):
        if "e" not in text and "." not in text:
            text += ".0"
        assert bits(codec.loads(text.encode())) == bits(float(text)), text


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 10 ** 20), st.integers(0, 25), st.integers(-30, 30), st.booleans())
def test_decimal_texts_read_as_float_reads_them(codec, digits, point, exponent, negative):
    text = str(digits).rjust(point + 1, "0")
    text = ("-" if negative else "") + text[:len(text) - point] + "." + (text[len(text) - point:] or "0")
    for form in (text, "%se%d" % (text, exponent), "%sE+%d" % (text, abs(exponent))):
        assert bits(codec.loads(form.encode())) == bits(float(form)), form


def test_a_sweep_of_prices_and_measurements(codec):
    rng = random.Random(15)
    values = [round(rng.uniform(-1e6, 1e6), rng.randrange(0, 8)) for _ in range(50000)]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randrange(-6, 17) for _ in range(50000)]
    values += [float(i) / 100 for i in range(-20000, 20000)] + [1e-4, 1e15, 1e16, 9.999999999999999e14,
                                                                  0.0001, 0.00009999999999999999, -0.0, 0.0]
    assert codec.dumps(values) == json.dumps(values).encode()
    decoded = codec.loads(json.dumps(values).encode())
    assert [bits(v) for v in decoded] == [bits(v) for v in values]


@pytest.mark.parametrize("text", [b"0.0", b"-0.0", b"0e0", b"-0e-0", b"1e22", b"1e23", b"1e-22", b"1e-23",
                                  b"123456789012345.6", b"1234567890123456.7", b"0.000000000000000000001",
                                  b"9007199254740993.0", b"1.7976931348623157e308", b"5e-324", b"1e400",
                                  b"0." + b"0" * 30 + b"1", b"1" + b"0" * 25 + b".0", b"1e99999999999"])
def test_number_edges(codec, text):
    assert bits(codec.loads(text)) == bits(json.loads(text))
    x = json.loads(text)
    if math.isfinite(x):
        assert codec.dumps(x) == json.dumps(x).encode()


def random_double(rng):
    return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]


full_precision = st.floats(min_value=1e-4, max_value=1e16, exclude_max=True)


@settings(max_examples=2000, deadline=None)
@given(full_precision, st.booleans())
def test_full_precision_floats_written_as_repr(codec, x, negative):
    x = -x if negative else x
    assert codec.dumps(x) == repr(x).encode()
    assert bits(codec.loads(repr(x).encode())) == bits(x)


def test_a_sweep_of_full_precision_floats(codec):
    """17-digit fractions, integers near 2**53, every decade's edges, their neighbours, and
    doubles halfway between two shortest decimals (written with the even last digit)."""
    rng = random.Random(15)
    values = [rng.uniform(-1, 1) * 10.0 ** rng.randrange(-4, 16) for _ in range(100000)]
    values += [float(rng.randrange(1, 10 ** 16)) for _ in range(20000)]
    values += [random_double(rng) for _ in range(20000)]
    for decade in range(-4, 17):
        x = 10.0 ** decade
        for direction in (0.0, math.inf):
            y = x
            for _ in range(4):
                y = math.nextafter(y, direction)
                values.append(y)
    values += [670007954234172.75, 19533781476805.6875, 947049477263777.25, 2.0 ** -14, 2.0 ** 53]
    values = [v for v in values if math.isfinite(v)]
    assert codec.dumps(values) == json.dumps(values).encode()
    decoded = codec.loads(json.dumps(values).encode())
    assert [bits(v) for v in decoded] == [bits(v) for v in values]


def test_decimals_halfway_between_doubles_read_to_even(codec):
    """16 to 19 digits exactly halfway between two doubles (spacings 2**-4 to 2**10): float()
    rounds them to the even one, and so must the 128-bit path."""
    rng = random.Random(15)
    for shift in range(-4, 11):
        for _ in range(1000):
            halfway = 2 * rng.randrange(2 ** 52, 2 ** 53) + 1        # times 2**(shift - 1)
            if shift >= 1:
                digits, places = str(halfway << (shift - 1)), 0
            else:
                places = 1 - shift
                digits = str(halfway * 5 ** places)                  # halfway / 2**places
            for text in (digits[:len(digits) - places] + "." + (digits[len(digits) - places:] or "0"),
                         "%se-%d" % (digits, places), "%s0e-%d" % (digits, places + 1)):
                assert bits(codec.loads(text.encode())) == bits(float(text)), text
