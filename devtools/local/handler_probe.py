"""Invokes the handler once in a fresh interpreter and reports what a hostile-registry test asserts.

``python -m devtools.local.handler_probe '<event JSON>' [--timeout-seconds S] [--root-log-level DEBUG]``
prints one JSON line on the original stdout: ``result`` or ``error`` (class name and message), the
wall-clock ``seconds`` from the invocation's start to its answer, and ``peak_rss_kb``, the process's
``VmHWM`` (its high-water mark of resident memory, which is what Lambda's memory limit bounds).
Everything the handler prints (its logs, and the root logger's at the chosen level) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

from devtools.paths import ROOT


def peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


# The function's package as the tests import it (pytest's pythonpath), whatever is installed.
LAMBDA_SOURCE = ROOT / "lambda_src"


def main() -> None:
    sys.path.insert(0, str(LAMBDA_SOURCE))
    parser = argparse.ArgumentParser()
    parser.add_argument("event")
    parser.add_argument("--timeout-seconds", type=float, default=60.0)
    parser.add_argument("--root-log-level", default=None)
    args = parser.parse_args()

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    if args.root_log_level:
        # What raising a Lambda's log level does: every library's records reach the log.
        logging.basicConfig(level=args.root_log_level, stream=sys.stderr, force=True)

    from devtools.local.lambda_worker import LambdaContext

    started = time.monotonic()
    context = LambdaContext("promote-model", timeout_seconds=args.timeout_seconds)
    from promote_model import handler

    report: dict[str, object]
    try:
        report = {"result": handler.lambda_handler(json.loads(args.event), context)}
    except Exception as error:  # the answer under test: reported, never a traceback
        report = {"error": {"type": type(error).__name__, "message": str(error)}}
    report |= {"seconds": time.monotonic() - started, "peak_rss_kb": peak_rss_kb()}
    replies.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
