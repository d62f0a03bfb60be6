"""A fault injector on loopback: an HTTP proxy in front of MLflow that forwards, refuses to answer,
stalls, answers 5xx, or drops the connection after forwarding, per request path; and records what
it forwards, so requests are counted at the server's door (the reliability tests and the benchmark).
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PASS, STALL, DROP_AFTER_FORWARD = "pass", "stall", "drop_after_forward"


@dataclass
class Fault:
    path_contains: str
    mode: str  # PASS, STALL, DROP_AFTER_FORWARD, or an HTTP status such as "503"
    times: int | None = None  # None: every matching request


@dataclass
class FaultProxy:
    upstream: str
    url: str = ""
    faults: list[Fault] = field(default_factory=list)
    forwarded: list[tuple[str, str]] = field(default_factory=list)  # (method, path) MLflow received
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, path_contains: str, mode: str, times: int | None = None) -> None:
        with self._lock:
            self.faults.append(Fault(path_contains, mode, times))

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.forwarded.clear()

    def take(self) -> list[tuple[str, str]]:
        """The requests forwarded since the last call, oldest first; the record starts afresh."""
        with self._lock:
            seen, self.forwarded = self.forwarded, []
        return seen

    def writes(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(m, p) for m, p in self.forwarded if m != "GET"]

    def _fault_for(self, path: str) -> str:
        with self._lock:
            for fault in self.faults:
                if fault.path_contains in path and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.mode
        return PASS

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
            mode = proxy._fault_for(self.path)
            if mode == STALL:
                proxy._release.wait(timeout=120)
                self.close_connection = True
                return
            if mode.isdigit():
                payload = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected fault"}'
                self.send_response(int(mode))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            connection = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            proxy._record(self.command, self.path)
            if mode == DROP_AFTER_FORWARD:
                self.close_connection = True  # MLflow acted; the caller never hears of it
                return
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    return Handler


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream=upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(proxy))
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy._release.set()
        server.shutdown()
        server.server_close()
