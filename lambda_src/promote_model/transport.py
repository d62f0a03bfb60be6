"""A urllib3 pool whose every request ends by a deadline: connect, send, headers and the whole body.

urllib3's timeouts bound each socket operation, not a whole answer: a server trickling one byte every
0.5 s never trips them (docs/design.md §5). Inside ``ends_by(seconds)``, each connection the pool uses
arms a watchdog that shuts its socket down when the time is up, which ends a blocked read or write at
once. The caller then asks the watchdog whether it fired, and reports the deadline rather than a
dropped connection. Name resolution is bounded too: ``getaddrinfo`` ignores socket timeouts (a hung
resolver held the function 45 s), so each new connection resolves its host on a daemon thread for at
most its connect timeout, then connects to the addresses found. The pool classes are urllib3's
documented extension point (``ConnectionCls``, ``pool_classes_by_scheme``); nothing else of urllib3
is changed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

DEFAULT_RESOLVE_SECONDS = 3.0

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


def resolve_within(host: str, port: int, seconds: float) -> list[str]:
    """The addresses ``host`` resolves to, asked on a daemon thread and waited for at most ``seconds``:
    ``TimeoutError`` when the resolver does not answer in time, ``OSError`` when it answers no."""
    found: list[Any] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as error:
            found.append(error)
        finally:
            done.set()

    threading.Thread(target=resolve, name="resolve", daemon=True).start()
    if not done.wait(max(seconds, 0.0)):
        raise TimeoutError(f"name resolution for {host} took longer than {seconds:.1f} s")
    if isinstance(found[0], OSError):
        raise found[0]
    return list(dict.fromkeys(str(info[4][0]) for info in found[0]))


def _connect_within(connection: HTTPConnection, connect: Callable[[], socket.socket]) -> socket.socket:
    """urllib3's ``_new_conn`` (``connect``), with the host resolved within the connect timeout first
    and each address it resolves to tried in turn."""
    timeout = connection.timeout if isinstance(connection.timeout, int | float) else DEFAULT_RESOLVE_SECONDS
    name = connection._dns_host
    try:
        addresses = resolve_within(name, connection.port, timeout)
    except TimeoutError as error:
        raise ConnectTimeoutError(connection, f"Resolving {connection.host} timed out ({error})") from None
    except OSError as error:
        raise NewConnectionError(connection, f"Failed to resolve {connection.host}: {error}") from None
    last: Exception | None = None
    try:
        for address in addresses:
            connection._dns_host = address  # a numeric address: getaddrinfo answers it at once
            try:
                return connect()
            except NewConnectionError as error:
                last = error
    finally:
        connection._dns_host = name
    raise last or NewConnectionError(connection, f"{connection.host} resolved to no address")


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_within(self, super()._new_conn)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _arm(self)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _connect_within(self, super()._new_conn)

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
