"""A Lambda Function URL on loopback: each HTTP request becomes a payload-format-2.0 event for a
handler running in this process, and the handler's answer becomes the HTTP response.

What the real service does and this keeps: lower-cased headers (repeats joined with ","), the body
as text for JSON and text types and base64 (``isBase64Encoded``) otherwise, 502 when the handler
raises. Invocations run one at a time, as in one execution environment. Every request is kept
(``deliveries``), so a test can replay or tamper with exactly what a sender sent.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_BODY_BYTES = 6 * 1024 * 1024  # a Function URL's request limit
_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/javascript")


@dataclass(frozen=True)
class Delivery:
    """One request as received, and the status answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class _Context:
    """The attributes of a Lambda context the handlers read."""

    function_name: str = "promote-model-webhook"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:promote-model-webhook"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: float = 15.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self.timeout_seconds - (time.monotonic() - self._started), 0) * 1000)


@dataclass
class Faults:
    """What Lambda does to the next requests when things go wrong, for retry tests (set by a test):
    ``throttle`` requests answered 429 without running the handler (reserved concurrency used up),
    then ``lose_answers`` answered 502 after the handler ran (a timeout or a dropped connection after
    the work was done). Each counts down to 0."""

    throttle: int = 0
    lose_answers: int = 0


@dataclass
class FunctionUrl:
    url: str
    deliveries: list[Delivery]
    _changed: threading.Condition
    faults: Faults = field(default_factory=Faults)

    def wait_for_deliveries(self, count: int, *, timeout: float) -> list[Delivery]:
        """The first ``count`` deliveries, once that many arrived (``TimeoutError`` after ``timeout``)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.deliveries) >= count, timeout=timeout):
                raise TimeoutError(f"{len(self.deliveries)} of {count} deliveries arrived within {timeout} s")
            return list(self.deliveries[:count])


def function_url_event(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    content_type = headers.get("content-type", "")
    as_text = content_type.startswith(_TEXT_TYPES) and _is_utf8(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": body.decode() if as_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not as_text,
    }


@contextmanager
def function_url(handler: Handler) -> Iterator[FunctionUrl]:
    deliveries: list[Delivery] = []
    changed = threading.Condition()
    invoke_lock = threading.Lock()
    faults = Faults()

    class _Request(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: the handler logs
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self._respond(413, {}, b"")
                return
            body = self.rfile.read(length)
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            event = function_url_event(self.command, self.path, headers, body)
            with invoke_lock:
                status, response_headers, data = _invoke(handler, event, faults)
            with changed:
                deliveries.append(Delivery(self.command, self.path, headers, body, status))
                changed.notify_all()
            self._respond(status, response_headers, data)

        def _respond(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET = do_PUT = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Request)
    thread = threading.Thread(target=server.serve_forever, name="function-url", daemon=True)
    thread.start()
    try:
        yield FunctionUrl(f"http://127.0.0.1:{server.server_address[1]}/", deliveries, changed, faults)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _invoke(handler: Handler, event: dict[str, Any], faults: Faults) -> tuple[int, dict[str, str], bytes]:
    error = {"content-type": "application/json"}
    if faults.throttle > 0:
        faults.throttle -= 1
        return 429, error, json.dumps({"Message": "Rate Exceeded."}).encode()
    try:
        answer = handler(event, _Context())
        status = int(answer.get("statusCode", 200))
        payload = answer.get("body") or ""
        data = base64.b64decode(payload) if answer.get("isBase64Encoded") else payload.encode()
        headers = dict(answer.get("headers") or {})
    except Exception:
        return 502, error, json.dumps({"Message": "Internal Server Error"}).encode()
    if faults.lose_answers > 0:
        faults.lose_answers -= 1
        return 502, error, json.dumps({"Message": "Internal Server Error"}).encode()
    return status, headers, data


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True
