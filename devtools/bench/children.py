"""The benchmark's child processes: each measurement runs in a fresh interpreter of the benchmark
environment (devtools/bench/worker.py), with the variables the Lambda runtime sets and only its
variant's bundle on ``sys.path``; a ``Server`` is one long-lived worker answering invocations.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.paths import ROOT

WORK = ROOT / ".bench"
WORKER = Path(__file__).with_name("worker.py")

_STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Variant:
    name: str
    module: str
    paths: tuple[Path, ...]
    env: Mapping[str, str | None] = field(default_factory=dict)


def child_env(extra: Mapping[str, str | None], tracking_uri: str | None = None) -> dict[str, str]:
    """What the Lambda runtime sets (LAMBDA_TASK_ROOT and friends), the function's Powertools
    settings with tracing disabled, and ``extra`` (``None`` removes a variable)."""
    env: dict[str, str | None] = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(WORK / "home"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": "promote-model",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(WORK),
        "POWERTOOLS_SERVICE_NAME": "promote-model",
        "POWERTOOLS_METRICS_NAMESPACE": "PromoteModel",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    if tracking_uri is not None:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Children:
    """Starts the worker in the benchmark environment's interpreter, isolated (-I)."""

    def __init__(self, python: Path) -> None:
        self.python = python
        (WORK / "home").mkdir(parents=True, exist_ok=True)
        (WORK / "logs").mkdir(parents=True, exist_ok=True)

    def _command(self, mode: str, paths: Sequence[Path], **options: str) -> list[str]:
        command = [str(self.python), "-I", str(WORKER), mode]
        for path in paths:
            command += ["--path", str(path)]
        for key, value in options.items():
            command += [f"--{key}", value]
        return command

    def _once(self, name: str, command: list[str], env: Mapping[str, str]) -> dict[str, Any]:
        with (WORK / "logs" / f"{name}.log").open("a") as errors:
            completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True, timeout=180)
        if completed.returncode != 0 or not completed.stdout.strip():
            raise SystemExit(f"{name}: the worker failed (exit {completed.returncode}); see .bench/logs/{name}.log")
        answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
        return answer

    def time_code(self, name: str, paths: Sequence[Path], code: str, env: Mapping[str, str | None]) -> float:
        return float(self._once(name, self._command("time", paths, code=code), child_env(env))["ms"])

    def cold(self, variant: Variant, event: Mapping[str, Any], tracking_uri: str) -> dict[str, Any]:
        command = self._command("cold", variant.paths, module=variant.module, event=json.dumps(event), root=str(ROOT))
        answer = self._once(f"{variant.name}-cold", command, child_env(variant.env, tracking_uri))
        check_promoted(variant, answer["result"], event)
        return answer

    @contextmanager
    def serving(self, variant: Variant, tracking_uri: str) -> Iterator[Server]:
        command = self._command("serve", variant.paths, module=variant.module, root=str(ROOT))
        with (WORK / "logs" / f"{variant.name}-serve.log").open("a") as errors:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=child_env(variant.env, tracking_uri),
                text=True,
            )
            try:
                yield Server(variant, process)
            finally:
                if process.stdin is not None:
                    process.stdin.close()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@dataclass
class Server:
    variant: Variant
    process: subprocess.Popen[str]

    def invoke(self, event: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(json.dumps(event) + "\n")
        stdin.flush()
        line = stdout.readline()
        if not line:
            raise SystemExit(f"{self.variant.name}: the worker died; see .bench/logs/{self.variant.name}-serve.log")
        answer = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"{self.variant.name}: {event} failed: {answer['error']}")
        return float(answer["ms"]), answer["result"]


def check_promoted(variant: Variant, result: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    if not result.get("promoted"):
        raise SystemExit(f"{variant.name} did not promote {event}: {result}")
