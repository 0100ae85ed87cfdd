#!/usr/bin/env python3
"""Invokes the built function once, locally, with neither Docker nor AWS.

    python invoke.py [--event event.json] [--emulator] [--bootstrap dist/function/bootstrap]
                     [--handler mod.fn] [--env K=V ...] [--timeout 30]

Backends:
  default     the project's mock Runtime API (devtools/mock_runtime_api.py): fast, strict,
              what the tests use. An arm64 bootstrap on an x86_64 machine runs under
              qemu-user (`python buildtools/debian_arm64.py` installs it).
  --emulator  AWS's Runtime Interface Emulator, the binary `sam local invoke` runs inside
              its Docker image (taken from the aws-sam-cli wheel, see devtools/emulator.py).

Prints the function's answer (exit 0), or the error JSON after `FUNCTION ERROR (type):`
(exit 1) / `INIT ERROR` (exit 2), or why the bootstrap did not answer (exit 3/4).
--event: a JSON file, '-' for stdin, or inline JSON (default {}).
"""

import argparse
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, ROOT)

from buildtools import targets  # noqa: E402
from devtools import facts  # noqa: E402

DEFAULT_BOOTSTRAP = os.path.join(ROOT, "dist", "function", "bootstrap")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", default="{}", help="event JSON file, '-' for stdin, or inline JSON")
    parser.add_argument("--emulator", action="store_true", help="run under AWS's Runtime Interface Emulator")
    parser.add_argument("--bootstrap", default=DEFAULT_BOOTSTRAP, help="default: %(default)s")
    parser.add_argument("--handler", help="_HANDLER (default: the one compiled into the bootstrap)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="extra environment variable")
    parser.add_argument("--timeout", type=int, default=30, help="seconds (default: %(default)s)")
    args = parser.parse_args(argv)
    args.env_vars = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error("--env needs K=V, got %r" % item)
        args.env_vars[key] = value
    from devtools.mock_runtime_api import load_event

    try:
        args.event_bytes = load_event(args.event)
    except ValueError:
        parser.error("--event is neither a file nor valid JSON")
    return args


def print_answer(body, error_type=None, init=False):
    """The answer on stdout; returns the exit status."""
    if error_type or init:
        label = "INIT ERROR" if init else "FUNCTION ERROR"
        print("%s (%s): %s" % (label, error_type, body.decode("utf-8", "replace")), flush=True)
        return 2 if init else 1
    sys.stdout.buffer.write(body + b"\n")
    sys.stdout.flush()
    return 0


def invoke_with_emulator(args):
    from devtools import emulator

    arch = targets.bootstrap_arch(args.bootstrap)
    if arch != facts.host_arch():
        print("invoke.py: error: --emulator runs %s bootstraps only on this machine; %s is %s: "
              "leave out --emulator to run it under qemu against the mock" % (facts.host_arch(), args.bootstrap, arch),
              file=sys.stderr)
        return 2

    try:
        answer = emulator.invoke_once(args.bootstrap, args.event_bytes, handler=args.handler,
                                      env=args.env_vars, timeout=args.timeout)
    except emulator.EmulatorError as error:
        print("invoke.py: error: %s" % error, file=sys.stderr)
        return 3
    sys.stderr.write(answer.logs)
    if answer.status != 200:
        print("EMULATOR ERROR (HTTP %d): %s" % (answer.status, answer.body.decode("utf-8", "replace")))
        return 3
    return print_answer(answer.body, answer.error_type)


def invoke_with_mock(args):
    from devtools.mock_runtime_api import BootstrapDied, run_bootstrap_once

    task_root = os.path.dirname(os.path.abspath(args.bootstrap))
    env = dict({"LAMBDA_TASK_ROOT": task_root, "LAMBDA_RUNTIME_DIR": task_root}, **args.env_vars)
    try:
        with tempfile.TemporaryDirectory(prefix="invoke-") as launch_dir:
            # an arm64 bootstrap on x86_64 runs under qemu-user (buildtools/targets.py)
            bootstrap = targets.launcher(args.bootstrap, launch_dir)
            result = run_bootstrap_once(bootstrap, args.event_bytes, env, args.timeout,
                                        handler=args.handler, log_stream=sys.stderr)
    except targets.TargetError as error:
        print("invoke.py: error: %s" % error, file=sys.stderr)
        return 2
    except BootstrapDied as died:
        print("BOOTSTRAP DIED (exit status %d) before answering" % died.returncode)
        return 3
    except TimeoutError as error:
        print("TIMEOUT: %s" % error)
        return 4
    if result.kind == "init_error":
        return print_answer(result.body, result.error_type, init=True)
    return print_answer(result.body, (result.error_type or "Unknown") if result.kind == "error" else None)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.access(args.bootstrap, os.X_OK):
        print("invoke.py: error: %s is not an executable bootstrap: run `python build.py` first" % args.bootstrap,
              file=sys.stderr)
        return 2
    return invoke_with_emulator(args) if args.emulator else invoke_with_mock(args)


if __name__ == "__main__":
    sys.exit(main())
