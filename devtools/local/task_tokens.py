"""Step Functions' task-token API on loopback, for local executions of a state machine whose approval
state waits for a task token (``.waitForTaskToken``).

It answers ``SendTaskSuccess`` and ``SendTaskFailure`` as boto3 sends them (the AWS JSON 1.0 protocol,
``X-Amz-Target: AWSStepFunctions.<Action>``), so ``promote-model approve/reject`` runs unchanged with
``AWS_ENDPOINT_URL_SFN`` pointing here; and it lets the local task that waits register its token and
long-poll for the decision (``POST /tokens``, ``GET /decision``). Never bundled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_TARGET_PREFIX = "AWSStepFunctions."


@dataclass
class TaskTokens:
    url: str = ""
    _decisions: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def register(self, token: str) -> None:
        with self._changed:
            self._decisions[token] = None

    def decide(self, token: str, decision: dict[str, Any]) -> bool:
        with self._changed:
            if token not in self._decisions or self._decisions[token] is not None:
                return False  # unknown, or decided already: Step Functions answers TaskDoesNotExist / TaskTimedOut
            self._decisions[token] = decision
            self._changed.notify_all()
            return True

    def wait(self, token: str, timeout: float) -> dict[str, Any]:
        with self._changed:
            self._changed.wait_for(lambda: self._decisions.get(token) is not None, timeout=timeout)
            decision = self._decisions.get(token)
            if decision is None:
                self._decisions.pop(token, None)  # timed out: a late decision is refused, as in AWS
                return {"outcome": "timeout"}
            return decision


def _handler_class(tokens: TaskTokens) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path == "/tokens":
                tokens.register(body["token"])
                self._reply(200, {})
                return
            action = (self.headers.get("X-Amz-Target") or "").removeprefix(_TARGET_PREFIX)
            if action == "SendTaskSuccess":
                decision = {"outcome": "success", "output": json.loads(body["output"])}
            elif action == "SendTaskFailure":
                decision = {"outcome": "failure", "error": body.get("error", ""), "cause": body.get("cause", "")}
            else:
                self._reply(400, {"__type": "UnknownOperationException", "message": action})
                return
            if tokens.decide(body["taskToken"], decision):
                self._reply(200, {})
            else:
                self._reply(400, {"__type": "TaskDoesNotExist", "message": "Task Token does not exist"})

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            self._reply(200, tokens.wait(query["token"][0], float(query["timeout"][0])))

    return Handler


@contextmanager
def task_token_server() -> Iterator[TaskTokens]:
    tokens = TaskTokens()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(tokens))
    server.daemon_threads = True
    tokens.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tokens
    finally:
        server.shutdown()
        server.server_close()
