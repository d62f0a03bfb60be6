"""A urllib3 pool whose every request ends by a deadline: connect, send, headers and the whole body.

urllib3's timeouts bound each socket operation, not a whole answer: a server trickling one byte every
0.5 s never trips them (docs/design.md §5). Inside ``ends_by(seconds)``, each connection the pool uses
arms a watchdog that shuts its socket down when the time is up, which ends a blocked read or write at
once. The caller then asks the watchdog whether it fired, and reports the deadline rather than a
dropped connection. The pool classes are urllib3's documented extension point (``ConnectionCls``,
``pool_classes_by_scheme``); nothing else of urllib3 is changed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Watchdog:
    """Shuts down the socket of the connection in use when ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self._expires_at = time.monotonic() + max(seconds, 0.0)
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        self.fired = False

    def watch(self, connection: HTTPConnection) -> None:
        timer = threading.Timer(max(self._expires_at - time.monotonic(), 0.0), self._expire, args=(connection,))
        timer.daemon = True
        with self._lock:
            self._timers.append(timer)
        timer.start()

    def cancel(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def _expire(self, connection: HTTPConnection) -> None:
        self.fired = True
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing left to interrupt
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def ends_by(seconds: float) -> Iterator[Watchdog]:
    """Requests made by this thread inside the block are cut off after ``seconds``."""
    watchdog = Watchdog(seconds)
    _current.watchdog = watchdog
    try:
        yield watchdog
    finally:
        _current.watchdog = None
        watchdog.cancel()


def _arm(connection: HTTPConnection) -> None:
    watchdog: Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None:
        watchdog.watch(connection)


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _arm(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        _arm(self)  # the TLS handshake happens here, before request()
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:
        _arm(self)
        super().request(*args, **kwargs)


class _WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def deadline_pool(**kwargs: Any) -> urllib3.PoolManager:
    """A ``PoolManager`` whose connections honour ``ends_by``; keyword arguments as urllib3's."""
    pool = urllib3.PoolManager(**kwargs)
    pool.pool_classes_by_scheme = {"http": _WatchedHTTPConnectionPool, "https": _WatchedHTTPSConnectionPool}
    return pool
