"""A small JSON-over-HTTP client for the registry, with timeouts and retries bounded by a deadline.

It owns every byte sent to MLflow and maps transport failures onto the function's errors. The
``Authorization`` header is built once and never appears in a log line or an exception message.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from promote_model.deadline import Deadline
from promote_model.errors import RegistryAuthError, RegistryUnavailableError

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 4
_BACKOFF_BASE_SECONDS = 0.25
_BACKOFF_CAP_SECONDS = 2.0
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_USER_AGENT = "promote-model"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # a stray repr in a log must not leak the password
        return f"Credentials(username={self.username!r}, password=<hidden>)"

    def authorization_header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: dict[str, Any]

    @property
    def error_code(self) -> str | None:
        code = self.body.get("error_code")
        return code if isinstance(code, str) else None


class RequestOutcomeUnknown(Exception):
    """A non-idempotent request may have reached MLflow, but no usable answer came back.

    Internal: the adapter checks what happened and raises one of the function's errors.
    """


class RegistryHttpClient:
    """Sends one logical request, retrying transient failures while the deadline allows."""

    def __init__(
        self,
        base_url: str,
        *,
        credentials: Credentials | None = None,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._pool = pool or urllib3.PoolManager(num_pools=2, maxsize=2)
        self._headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
        if credentials is not None:
            self._headers["Authorization"] = credentials.authorization_header()

    def get(self, path: str, params: Mapping[str, str], *, deadline: Deadline) -> JsonResponse:
        url = f"{self._base_url}{path}?{urlencode(params)}"
        return self._send("GET", url, None, deadline=deadline, idempotent=True)

    def post(self, path: str, payload: Mapping[str, Any], *, deadline: Deadline, idempotent: bool) -> JsonResponse:
        body = json.dumps(payload).encode()
        return self._send("POST", f"{self._base_url}{path}", body, deadline=deadline, idempotent=idempotent)

    def _send(self, method: str, url: str, body: bytes | None, *, deadline: Deadline, idempotent: bool) -> JsonResponse:
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        last_problem = "no attempt was made"
        for attempt in range(1, MAX_ATTEMPTS + 1):
            remaining = deadline.remaining()
            if remaining <= 0.05:
                break
            timeout = urllib3.Timeout(
                connect=min(CONNECT_TIMEOUT_SECONDS, remaining),
                read=min(READ_TIMEOUT_SECONDS, remaining),
            )
            try:
                raw = self._pool.request(
                    method, url, body=body, headers=headers, timeout=timeout, retries=False, redirect=False
                )
            except (ConnectTimeoutError, NewConnectionError) as error:
                # The request never left this machine: always safe to send again.
                last_problem = f"could not connect ({type(error).__name__})"
            except HTTPError as error:
                last_problem = f"no answer ({type(error).__name__})"
                if not idempotent:
                    raise RequestOutcomeUnknown(
                        f"MLflow did not answer a {method} request that may have reached it: {last_problem}"
                    ) from None
            else:
                response = _json_response(raw.status, raw.data)
                if raw.status in (401, 403):
                    raise _auth_error(raw.status)
                if raw.status not in _RETRYABLE_STATUSES:
                    return response
                last_problem = f"HTTP {raw.status}"
                if not idempotent:
                    raise RequestOutcomeUnknown(
                        f"MLflow answered HTTP {raw.status} to a {method} request; its effect is unknown"
                    )
            if attempt < MAX_ATTEMPTS:
                _sleep_before_retry(attempt, deadline)
        raise RegistryUnavailableError(
            f"MLflow at {self._base_url} is unavailable after {attempt} attempt(s): {last_problem}"
        )


def _json_response(status: int, data: bytes) -> JsonResponse:
    try:
        parsed = json.loads(data) if data else {}
    except ValueError:
        parsed = {}
    return JsonResponse(status=status, body=parsed if isinstance(parsed, dict) else {})


def _auth_error(status: int) -> RegistryAuthError:
    if status == 401:
        return RegistryAuthError("MLflow rejected the credentials (HTTP 401)")
    return RegistryAuthError(
        "MLflow refused the request (HTTP 403): the user needs EDIT permission on the registered model"
    )


def _sleep_before_retry(attempt: int, deadline: Deadline) -> None:
    backoff = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    time.sleep(min(backoff * random.uniform(0.5, 1.0), deadline.remaining()))
