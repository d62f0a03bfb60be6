"""How a request to MLflow proves who sends it: the ``Authorization`` header, built per request.

A credential never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class RequestAuth(Protocol):
    def headers_for(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        """The headers that authenticate this one request."""
        ...

    def refresh(self) -> bool:
        """Fetch the credentials again after a 401; ``True`` when a retry could now succeed."""
        ...


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # a stray repr in a log must not leak the password
        return f"Credentials(username={self.username!r}, password=<hidden>)"


class BasicAuth:
    """HTTP basic auth. ``reload`` (when the credentials come from a secret) re-reads them, bypassing
    the cache, once: a rotated password is picked up on the first 401 rather than after the cache's age."""

    def __init__(self, credentials: Credentials, *, reload: Callable[[], Credentials] | None = None) -> None:
        self._header = _basic_header(credentials)
        self._reload = reload

    def __repr__(self) -> str:
        return "BasicAuth(<hidden>)"

    def headers_for(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        return {"Authorization": self._header}

    def refresh(self) -> bool:
        if self._reload is None:
            return False
        reload, self._reload = self._reload, None
        fresh = _basic_header(reload())
        changed = fresh != self._header
        self._header = fresh
        return changed


def _basic_header(credentials: Credentials) -> str:
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode("ascii")
    return f"Basic {token}"
