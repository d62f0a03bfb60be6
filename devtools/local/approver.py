"""A stand-in for the person who approves: watches the alert topic's subscriber queue for the
approval request, then runs `promote-model approve|reject TOKEN` — the real command, with boto3's
Step Functions client pointed at the local task-token endpoint. Used by `make demo` and the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.local.task_tokens import TaskTokens

CLI = str(Path(sys.executable).parent / "promote-model")
REQUEST_EVENT = "approval_requested"  # the request's SNS message attribute `event`


@dataclass
class Approver:
    verb: str  # "approve" or "reject"
    arguments: list[str] = field(default_factory=list)  # after the token, e.g. ["--reason", "..."]
    on_request: Callable[[dict[str, Any]], None] = lambda request: None
    request: dict[str, Any] = field(default_factory=dict)
    decision: subprocess.CompletedProcess[str] | None = None
    _thread: threading.Thread | None = None

    def start(self, sqs: Any, queue_url: str, tokens: TaskTokens, *, wait_seconds: float = 60) -> None:
        def act() -> None:
            deadline = time.monotonic() + wait_seconds
            while time.monotonic() < deadline and not self.request:
                answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                for message in answer.get("Messages", []):
                    body = json.loads(message["Body"])
                    if body.get("MessageAttributes", {}).get("event", {}).get("Value") == REQUEST_EVENT:
                        self.request = json.loads(body["Message"])
            if not self.request:
                return
            self.on_request(self.request)
            env = os.environ | {"AWS_ENDPOINT_URL_SFN": tokens.url}
            command = [CLI, self.verb, self.request["task_token"], *self.arguments]
            self.decision = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

        self._thread = threading.Thread(target=act, daemon=True)
        self._thread.start()

    def join(self, timeout: float = 70) -> None:
        if self._thread is not None:
            self._thread.join(timeout=timeout)
