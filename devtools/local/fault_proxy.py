"""A fault injector on loopback: an HTTP proxy in front of MLflow that misbehaves per request path.

Modes: forward (``PASS``); stall without answering (``STALL``); answer a status (``"503"``, with
optional headers such as ``Retry-After``); forward, then drop the connection (``DROP_AFTER_FORWARD``);
forward, then send MLflow's answer one byte every half second (``TRICKLE``); forward, then answer
``200`` with an HTML page (``HTML_AFTER_FORWARD``); answer a redirect without forwarding
(``REDIRECT``); forward and rewrite MLflow's JSON answer (``REWRITE`` with a function). It records
what it forwards, so requests are counted at the server's door (the reliability tests and the
benchmark). Optionally it terminates TLS (``tls``, a server ``SSLContext``) and lets through only the
requests a ``gate`` accepts (an enforcing auth proxy: bearer tokens, SigV4 signatures).

In front of moto, one proxy per AWS service (its ``AWS_ENDPOINT_URL_<SERVICE>``), a status mode
answers with that service's own error (``aws_error``: throttling, 5xx, access denied); ``arrived``
and ``wait_for`` tell a test that a request is in flight (to kill the caller mid-call).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

PASS, STALL, DROP_AFTER_FORWARD = "pass", "stall", "drop_after_forward"
TRICKLE, HTML_AFTER_FORWARD, REDIRECT, REWRITE = "trickle", "html_after_forward", "redirect", "rewrite"
TRICKLE_INTERVAL_SECONDS = 0.5
REDIRECT_TARGET = "https://sso.example.com/login?next=/api&token=do-not-show"
_HTML_PAGE = b"<html><body><h1>Welcome</h1><p>Session refreshed.</p></body></html>"

Rewrite = Callable[[dict[str, Any]], dict[str, Any]]
# (method, path with query, headers with lower-case names, body) -> None to let through, or why not
Gate = Callable[[str, str, dict[str, str], bytes], str | None]


@dataclass
class Fault:
    path_contains: str
    mode: str  # one of the modes above, or an HTTP status such as "503"
    times: int | None = None  # None: every matching request
    headers: dict[str, str] = field(default_factory=dict)  # sent with a status mode
    rewrite: Rewrite | None = None  # with REWRITE: MLflow's JSON answer -> what the caller receives
    skip: int = 0  # let this many matching requests pass first
    body: bytes | None = None  # sent with a status mode instead of MLflow's JSON error


@dataclass
class FaultProxy:
    upstream: str
    url: str = ""
    faults: list[Fault] = field(default_factory=list)
    gate: Gate | None = None
    refused: list[str] = field(default_factory=list)  # why the gate refused each request it refused
    forwarded: list[tuple[str, str]] = field(default_factory=list)  # (method, path) MLflow received
    latency: float = 0.0  # seconds added before forwarding, as a network between caller and MLflow would
    exchanges: list[tuple[float, float, str, str]] = field(default_factory=list)  # (start, end, method, path)
    arrived: list[str] = field(default_factory=list)  # the fault mode met by each request, as it arrives
    _arrival: threading.Condition = field(default_factory=threading.Condition)
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(
        self,
        path_contains: str,
        mode: str,
        times: int | None = None,
        *,
        headers: dict[str, str] | None = None,
        rewrite: Rewrite | None = None,
        skip: int = 0,
        body: bytes | None = None,
    ) -> None:
        with self._lock:
            self.faults.append(Fault(path_contains, mode, times, headers or {}, rewrite, skip, body))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.forwarded.clear()
            self.exchanges.clear()
        with self._arrival:
            self.arrived.clear()

    def wait_for(self, mode: str, timeout: float) -> bool:
        """Whether a request meeting ``mode`` arrived within ``timeout`` seconds (it may still be held)."""
        with self._arrival:
            return self._arrival.wait_for(lambda: mode in self.arrived, timeout=timeout)

    def rounds(self) -> list[list[tuple[str, str]]]:
        """The forwarded requests since the last call, grouped into sequential round trips: a request
        that starts before every request of the current group has ended overlaps it (they were in
        flight together); one that starts after begins the next round. The record starts afresh."""
        with self._lock:
            exchanges, self.exchanges = sorted(self.exchanges), []
        groups: list[list[tuple[str, str]]] = []
        group_end = float("-inf")
        for start, end, method, path in exchanges:
            if start >= group_end:
                groups.append([])
            groups[-1].append((method, path))
            group_end = max(group_end, end) if len(groups[-1]) > 1 else end
        return groups

    def take(self) -> list[tuple[str, str]]:
        """The requests forwarded since the last call, oldest first; the record starts afresh."""
        with self._lock:
            seen, self.forwarded = self.forwarded, []
        return seen

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(m, p) for m, p in self.forwarded if m != "GET"]

    def _fault_for(self, path: str) -> Fault:
        with self._lock:
            for fault in self.faults:
                if fault.path_contains in path and fault.times != 0:
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return Fault(path, PASS)

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.forwarded.append((method, path.split("?")[0]))


def _handler_class(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if proxy.gate is not None:
                headers = {key.lower(): value for key, value in self.headers.items()}
                refusal = proxy.gate(self.command, self.path, headers, body)
                if refusal is not None:
                    with proxy._lock:
                        proxy.refused.append(refusal)
                    payload = json.dumps({"error_code": "PERMISSION_DENIED", "message": refusal}).encode()
                    self._answer(403 if "signature" in refusal.lower() else 401, {}, payload)
                    return
            fault = proxy._fault_for(self.path)
            mode = fault.mode
            with proxy._arrival:
                proxy.arrived.append(mode)
                proxy._arrival.notify_all()
            if mode == STALL:
                proxy._release.wait(timeout=120)
                self.close_connection = True
                return
            if mode.isdigit():
                mlflow_error = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected fault"}'
                payload = fault.body if fault.body is not None else mlflow_error
                self._answer(int(mode), {"Content-Type": "application/json", **fault.headers}, payload)
                return
            if mode == REDIRECT:
                self._answer(302, {"Location": REDIRECT_TARGET}, b"")
                return
            started = time.monotonic()
            if proxy.latency:
                time.sleep(proxy.latency)  # the wire's round-trip time, not a wait for readiness
            status, headers, data = self._forward(body)
            if mode == DROP_AFTER_FORWARD:
                self.close_connection = True  # MLflow acted; the caller never hears of it
                return
            if mode == HTML_AFTER_FORWARD:
                self._answer(200, {"Content-Type": "text/html"}, _HTML_PAGE)
                return
            if mode == REWRITE and fault.rewrite is not None:
                data = json.dumps(fault.rewrite(json.loads(data))).encode()
            if mode == TRICKLE:
                self._trickle(status, headers, data)
                return
            # Recorded before the answer goes out: a request the caller sends after reading this answer
            # can only start later, so it never counts as overlapping this one.
            with proxy._lock:
                proxy.exchanges.append((started, time.monotonic(), self.command, self.path.split("?")[0]))
            self._answer(status, headers, data)

        def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
            connection = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            proxy._record(self.command, self.path)
            kept = {
                key: value
                for key, value in answer.getheaders()
                if key.lower() not in ("transfer-encoding", "connection", "content-length")
            }
            return answer.status, kept, data

        def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, status: int, headers: dict[str, str], data: bytes) -> None:
            """The whole answer, status line and headers included, one byte per interval."""
            lines = [f"HTTP/1.1 {status} OK", *(f"{k}: {v}" for k, v in headers.items())]
            lines.append(f"Content-Length: {len(data)}")
            wire = ("\r\n".join(lines) + "\r\n\r\n").encode() + data
            self.close_connection = True
            for index in range(len(wire)):
                if proxy._release.wait(TRICKLE_INTERVAL_SECONDS):
                    return
                try:
                    self.wfile.write(wire[index : index + 1])
                    self.wfile.flush()
                except OSError:
                    return  # the caller gave up: that is the point

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    return Handler


def aws_error(protocol: str, code: str, status: int) -> dict[str, Any]:
    """``inject`` arguments for an AWS service's own error answer: ``protocol`` is ``"query"`` (SNS:
    an XML ``ErrorResponse``) or ``"json"`` (EventBridge, Secrets Manager: ``__type``)."""
    if protocol == "query":
        sender = "Sender" if status < 500 else "Receiver"
        body = (
            f'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{sender}</Type>'
            f"<Code>{code}</Code><Message>injected fault</Message></Error>"
            "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
        ).encode()
        return {"mode": str(status), "headers": {"Content-Type": "text/xml"}, "body": body}
    body = json.dumps({"__type": code, "message": "injected fault"}).encode()
    return {
        "mode": str(status),
        "headers": {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code},
        "body": body,
    }


@contextmanager
def fault_proxy(
    upstream: str, *, tls: ssl.SSLContext | None = None, gate: Gate | None = None, latency: float = 0.0
) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=upstream, gate=gate, latency=latency)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(proxy))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    proxy.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy._release.set()
        server.shutdown()
        server.server_close()
