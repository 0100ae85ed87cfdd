"""Local invoke without Docker: the built bootstrap under AWS's Runtime Interface Emulator
(devtools/emulator.py, `python invoke.py --emulator`)."""

import json
import os
import socket
import subprocess
import sys

import pytest

from devtools import emulator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def rie():
    import samcli  # noqa: F401  (aws-sam-cli is pinned in tests/requirements.txt: it ships the RIE)
    return emulator.rie_binary()


def test_rie_comes_from_the_sam_cli_wheel(rie):
    assert rie.endswith(os.path.join("samcli", "local", "rapid", "aws-lambda-rie-" + emulator.host_arch()))
    assert os.access(rie, os.X_OK)


def test_emulator_returns_the_handlers_answer(rie, test_build):
    with emulator.Emulator(rie, test_build.bootstrap, handler="echo.handler") as emu:
        first = emu.invoke(json.dumps({"greeting": "hi"}).encode())
        second = emu.invoke(b'[1, 2, 3]')          # the same process serves a second event
    assert first.status == 200 and first.error_type is None, first
    assert json.loads(first.body) == {"greeting": "hi"}
    assert json.loads(second.body) == [1, 2, 3]


def test_emulator_reports_a_failing_handler(rie, test_build):
    answer = emulator.invoke_once(test_build.bootstrap, b'{"x": 1}', handler="failing.value_error")
    assert answer.status == 200
    assert answer.error_type == "ValueError"
    error = json.loads(answer.body)
    assert error["errorMessage"] and isinstance(error["stackTrace"], list)


def test_emulator_starts_again_when_its_port_was_taken(rie, test_build, monkeypatch):
    """The ports are free when chosen but another process may bind one before the RIE does."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))                        # bound, not listening: connects are refused
    taken_port = taken.getsockname()[1]
    choices = [[taken_port, taken_port]]                # the race lost: both ports already in use

    def free_ports(count, real=emulator.free_ports):
        return choices.pop() if choices else real(count)
    monkeypatch.setattr(emulator, "free_ports", free_ports)
    with taken, emulator.Emulator(rie, test_build.bootstrap, handler="echo.handler") as emu:
        answer = emu.invoke(b'{"again": true}')
    assert not choices
    assert emu.port != taken_port
    assert json.loads(answer.body) == {"again": True}
    assert "address already in use" not in answer.logs


def test_free_ports_are_distinct():
    from devtools.ports import free_ports
    assert len(set(free_ports(50))) == 50


def run_invoke(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "invoke.py")] + list(args),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("backend", [[], ["--emulator"]], ids=["mock", "emulator"])
def test_invoke_py(rie, test_build, tmp_path, backend):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"from": "file"}))
    ok = run_invoke(*backend, "--bootstrap", test_build.bootstrap, "--handler", "echo.handler",
                    "--event", str(event))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout) == {"from": "file"}

    failed = run_invoke(*backend, "--bootstrap", test_build.bootstrap, "--handler", "failing.value_error")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith("FUNCTION ERROR (")
    assert "ValueError" in failed.stdout
