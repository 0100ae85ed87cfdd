"""Measures one runtime against the mock Runtime API (devtools/mock_runtime_api.py).

    rt = Runtime("bootstrap", ["build/bench/dist/function/bootstrap"], handler="echo.handler")
    cold_start(rt, SMALL_EVENT)                   -> ColdStart(to_next_ms, to_response_ms)
    warm(rt, [("small", SMALL_EVENT, 2000)])      -> {"small": Warm(...)}
    mock_ceiling(2000)                            -> invocations/s of the mock alone

Every function starts its own mock and its own process(es) and stops them. Times are
time.monotonic(), taken right before Popen and by the mock when a request arrives.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, ROOT)

from devtools.mock_runtime_api import MockRuntimeAPI, lambda_env  # noqa: E402

HANDLERS = os.path.join(BENCH, "handlers")
# The Lambda console's hello-world test event.
SMALL_EVENT = b'{"key1": "value1", "key2": "value2", "key3": "value3"}'


def big_event(size=1024 * 1024):
    """A JSON document of about `size` bytes: records of mixed types (ints, floats, strings,
    booleans, nested lists), like a batch of items."""
    records, total, i = [], 2, 0
    while total < size:
        record = {"id": i, "name": "item-%06d" % i, "price": round(i * 0.37, 2), "active": i % 3 == 0,
                  "tags": ["alpha", "beta", str(i % 97)], "dims": {"w": i % 13, "h": i % 7}}
        records.append(record)
        total += len(json.dumps(record)) + 2
        i += 1
    return json.dumps({"records": records}).encode()


@dataclass
class Runtime:
    """How to start one runtime: argv run in cwd with Lambda's environment plus `env`."""
    name: str
    argv: list
    handler: str = "echo.handler"
    cwd: str = HANDLERS
    env: dict = field(default_factory=dict)
    raw: bool = False       # the handler echoes raw bytes (checked byte for byte, not as JSON)

    def spawn(self, api, stderr):
        environ = lambda_env(self.argv[0], api.address, self.handler, self.env)
        return subprocess.Popen(self.argv, env=environ, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)


class RuntimeFailed(RuntimeError):
    pass


class _Process:
    """A runtime process and its mock, with stderr kept in a temp file for error messages."""

    def __init__(self, runtime, api):
        self.runtime = runtime
        self.api = api
        self._stderr = tempfile.TemporaryFile()
        self.started_at = time.monotonic()
        self.popen = runtime.spawn(api, self._stderr)

    def result(self, request_id, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                res = self.api.wait_result(request_id, 0.5)
                break
            except TimeoutError:
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeFailed("%s gave no answer%s" % (self.runtime.name, self._tail())) from None
        if res.kind != "response" or res.status != 202:
            raise RuntimeFailed("%s answered %s %s: %r%s" % (self.runtime.name, res.kind, res.status,
                                                             res.body[:300], self._tail()))
        return res

    def _tail(self):
        self._stderr.seek(0)
        text = self._stderr.read()[-2000:].decode("utf-8", "replace")
        code = self.popen.poll()
        return "\n  exit status: %s\n  stderr: %s" % (code, text.strip() or "(empty)")

    def stop(self):
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)
        self._stderr.close()


# --------------------------------------------------------------------- /proc readers

def cpu_seconds(pid):
    """utime + stime of the process (all its threads), from /proc/PID/stat, in seconds.
    Tick-based (1/CLK_TCK s): meaningful over many invocations only."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds_precise(pid):
    """The scheduler's run time of every thread of the process (/proc/PID/task/*/schedstat,
    nanoseconds), or None where the kernel has no schedstat."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def peak_rss_kib(pid):
    """VmHWM (peak resident set size) from /proc/PID/status, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeFailed("no VmHWM in /proc/%d/status" % pid)


# --------------------------------------------------------------------- measurements

@dataclass
class ColdStart:
    to_next_ms: float       # spawn -> first GET /next received by the mock
    to_response_ms: float   # spawn -> the first event's response received by the mock


def cold_start(runtime, event=SMALL_EVENT, timeout=30):
    """One fresh process: the event is queued before the spawn, so the first GET /next
    gets it at once."""
    with MockRuntimeAPI() as api:
        request_id = api.enqueue(event)
        proc = _Process(runtime, api)     # started_at: monotonic time right before Popen
        try:
            res = proc.result(request_id, timeout)
            first_next = next(r for r in api.requests if r.kind == "next")
            return ColdStart((first_next.received_at - proc.started_at) * 1000,
                             (res.received_at - proc.started_at) * 1000)
        finally:
            proc.stop()


@dataclass
class Warm:
    invocations: int
    seconds: float              # wall time, first event queued -> last response received
    cpu_seconds: float          # utime + stime (/proc/PID/stat, tick-based)
    cpu_seconds_precise: float  # scheduler run time (ns resolution), None if unavailable
    peak_rss_kib: int           # VmHWM after this phase

    @property
    def inv_per_s(self):
        return self.invocations / self.seconds

    @property
    def cpu_us_per_inv(self):
        """Runtime CPU per invocation, in microseconds (precise clock when the kernel has it)."""
        cpu = self.cpu_seconds_precise if self.cpu_seconds_precise is not None else self.cpu_seconds
        return cpu / self.invocations * 1e6


def warm(runtime, phases, warmup=20, check=True, timeout=120):
    """One process, phases [(name, event bytes, n)] run one after the other: each phase
    first does `warmup` invocations, then queues n events at once and waits for the last
    response. CPU is read from /proc before and after the n. Returns {name: Warm}."""
    out = {}
    with MockRuntimeAPI() as api:
        proc = _Process(runtime, api)
        try:
            pid = proc.popen.pid
            for name, event, n in phases:
                last = None
                for _ in range(warmup):
                    last = api.enqueue(event)
                if last is not None:
                    res = proc.result(last, timeout)
                    if check:
                        _check_echo(runtime, event, res.body)
                cpu0, precise0 = cpu_seconds(pid), cpu_seconds_precise(pid)
                t0 = time.monotonic()
                for i in range(n):  # only the last response's body is kept (and checked)
                    last = api.enqueue(event, keep_response_body=i == n - 1)
                res = proc.result(last, timeout)
                seconds = res.received_at - t0
                cpu1, precise1 = cpu_seconds(pid), cpu_seconds_precise(pid)
                if check:
                    _check_echo(runtime, event, res.body)
                precise = None if precise0 is None or precise1 is None else precise1 - precise0
                out[name] = Warm(n, seconds, cpu1 - cpu0, precise, peak_rss_kib(pid))
        finally:
            proc.stop()
    return out


def _check_echo(runtime, event, body):
    same = body == event if runtime.raw else json.loads(body) == json.loads(event)
    if not same:
        raise RuntimeFailed("%s did not echo the event (got %r...)" % (runtime.name, body[:100]))


def mock_ceiling(n=2000, event=SMALL_EVENT):
    """Invocations/s of the mock with a trivial client in this process (raw socket, canned
    requests): the most any runtime can show against it. A lower bound of the true ceiling,
    since client and mock share this interpreter."""
    with MockRuntimeAPI() as api:
        host, port = api.address.rsplit(":", 1)
        done = threading.Event()

        def client():
            sock = socket.create_connection((host, int(port)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            reader = sock.makefile("rb")
            for _ in range(n):
                sock.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
                headers = _read_head(reader)
                body = reader.read(int(headers["content-length"]))
                path = "/2018-06-01/runtime/invocation/%s/response" % headers["lambda-runtime-aws-request-id"]
                sock.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                             % (path.encode(), len(body), body))
                reader.read(int(_read_head(reader)["content-length"]))
            sock.close()
            done.set()

        thread = threading.Thread(target=client, daemon=True)
        t0 = time.monotonic()
        thread.start()
        last = None
        for _ in range(n):
            last = api.enqueue(event)
        res = api.wait_result(last, 60)
        seconds = res.received_at - t0
        done.wait(10)
        return n / seconds


def _read_head(reader):
    headers = {}
    reader.readline()  # status line
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            return headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
