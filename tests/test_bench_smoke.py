"""Smoke test of the benchmark's measurement functions (bench/measure.py) on tiny counts,
against the test bootstrap and the stdlib loop. Sanity only: no timing thresholds."""

import math
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import measure  # noqa: E402

TEST_HANDLERS = os.path.join(ROOT, "tests", "handlers")


def _sane(value, upper):
    return isinstance(value, (int, float)) and math.isfinite(value) and 0 < value < upper


@pytest.fixture
def bootstrap_runtime(test_build):
    return measure.Runtime("bootstrap", [test_build.bootstrap], handler="echo.handler", cwd=TEST_HANDLERS)


@pytest.fixture
def stdlib_runtime():
    return measure.Runtime("stdlib loop", [sys.executable, os.path.join(ROOT, "bench", "stdlib_loop.py")],
                           handler="echo.handler", cwd=TEST_HANDLERS, env={"PYTHONPATH": TEST_HANDLERS})


def test_big_event_is_about_one_mib_of_json():
    import json

    event = measure.big_event()
    assert 1024 * 1024 <= len(event) < 1024 * 1024 + 4096
    assert len(json.loads(event)["records"]) > 1000


def test_cold_start(bootstrap_runtime):
    result = measure.cold_start(bootstrap_runtime)
    assert _sane(result.to_next_ms, 30_000)
    assert _sane(result.to_response_ms, 30_000)
    assert result.to_next_ms <= result.to_response_ms


@pytest.mark.parametrize("runtime", [pytest.param("bootstrap_runtime", marks=pytest.mark.needs_bootstrap),
                                     "stdlib_runtime"])
def test_warm(runtime, request):
    rt = request.getfixturevalue(runtime)
    phases = [("small", measure.SMALL_EVENT, 30), ("big", measure.big_event(64 * 1024), 3)]
    results = measure.warm(rt, phases, warmup=2)
    assert set(results) == {"small", "big"}
    for warm in results.values():
        assert _sane(warm.seconds, 60)
        assert _sane(warm.inv_per_s, 1e7)
        assert warm.cpu_seconds >= 0
        assert warm.cpu_us_per_inv >= 0 and math.isfinite(warm.cpu_us_per_inv)
        assert _sane(warm.peak_rss_kib, 16 * 1024 * 1024)
    assert results["big"].peak_rss_kib >= results["small"].peak_rss_kib


def test_warm_raw_mode_echoes_bytes(test_build):
    # tests/handlers/raw_echo.py: a @raw handler that returns its bytes unchanged
    rt = measure.Runtime("raw", [test_build.bootstrap], handler="raw_echo.handler", cwd=TEST_HANDLERS,
                         raw=True)
    event = measure.big_event(32 * 1024)
    results = measure.warm(rt, [("big", event, 2)], warmup=1)
    assert _sane(results["big"].inv_per_s, 1e7)


def test_mock_ceiling():
    assert _sane(measure.mock_ceiling(50), 1e7)


def test_proc_readers_on_this_process():
    pid = os.getpid()
    assert measure.cpu_seconds(pid) > 0
    precise = measure.cpu_seconds_precise(pid)
    assert precise is None or precise > 0
    assert _sane(measure.peak_rss_kib(pid), 16 * 1024 * 1024)


def test_c_floor_echoes(tmp_path, monkeypatch):
    """bench/floor/echo_runtime.c, the benchmark's reference loop, compiles and echoes
    events byte for byte, pipelined or not."""
    import artifacts

    monkeypatch.setattr(artifacts, "FLOOR_BINARY", str(tmp_path / "echo_runtime"))
    binary = artifacts.ensure_c_floor(log=lambda text: None)
    event = measure.big_event(64 * 1024)
    for argv in ([binary], [binary, "pipelined"]):
        rt = measure.Runtime("floor", argv, raw=True)
        results = measure.warm(rt, [("small", measure.SMALL_EVENT, 20), ("big", event, 3)], warmup=2)
        assert _sane(results["small"].inv_per_s, 1e7) and _sane(results["big"].inv_per_s, 1e7)


def test_large_event_shapes():
    import json

    import shapes

    string, records = shapes.string_event(), shapes.records_event()
    for event in (string, records):
        assert 1024 * 1024 - 64 <= len(event) < 1024 * 1024 + 4096
    assert shapes.records_event() == records                      # the same bytes every run
    assert len(json.loads(string)["data"]) > 1000000
    assert b'\\"' in records and max(records) >= 0x80          # escapes and raw UTF-8
    assert len(json.loads(records)["Records"]) > 500
    assert abs(len(shapes.string_event(6 * 1000 * 1000)) - 6 * 1000 * 1000) < 64


def test_codec_bench_measures_every_library():
    import codec_bench

    results = codec_bench.measure({"small": measure.SMALL_EVENT, "list": b"[1, 2.5, \"caf\\u00e9\", null]"}, 1)
    for shape in ("small", "list"):
        assert set(results[shape]) == {"runtime", "orjson", "json"}
        assert all(_sane(t, 1e4) for lib in results[shape].values() for t in lib.values())
    assert codec_bench.ratio_to_orjson(results, "small") > 0 and len(codec_bench.lines(results)) == 6
