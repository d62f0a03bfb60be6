"""A small JSON-over-HTTP client for the registry, bounded by the invocation's deadline.

It owns every byte sent to MLflow and maps transport failures onto the function's errors
(docs/design.md §7): each request — connect, send, headers and the whole body — ends by the deadline;
a body is read with a size cap; transient failures are retried while the deadline allows, honouring
``Retry-After``; a 401 re-reads the credentials once; redirects are reported, never followed.
Credentials never appear in a log line or an exception message.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, InsecureRequestWarning, NewConnectionError, SSLError

from promote_model.auth import BearerAuth, RequestAuth, SageMakerSigV4Auth
from promote_model.deadline import Deadline
from promote_model.errors import ConfigurationError, RegistryAuthError, RegistryResponseError, RegistryUnavailableError
from promote_model.together import MAX_CONCURRENT_CALLS
from promote_model.transport import deadline_pool, ends_by

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
MAX_ATTEMPTS = 4
# MLflow's answers on the routes used are small: a model version is about 1 KB, a search page of
# 500 versions with a handful of tags each well under 1 MB. 4 MiB leaves room for long tags, and
# parsing that much JSON costs tens of MB, far from the function's 256 MB (docs/design.md §7).
MAX_BODY_BYTES = 4 * 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024
_BACKOFF_BASE_SECONDS = 0.25
_BACKOFF_CAP_SECONDS = 2.0
_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BASE_HEADERS = {"Accept": "application/json", "Accept-Encoding": "identity", "User-Agent": "promote-model"}


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: dict[str, Any]
    parsed: bool = True  # False: the body was not a JSON object (HTML, empty, truncated)

    @property
    def error_code(self) -> str | None:
        code = self.body.get("error_code")
        return code if isinstance(code, str) else None


class RequestOutcomeUnknown(Exception):
    """A non-idempotent request may have reached MLflow, but no usable answer came back.

    Internal: the adapter checks what happened and raises one of the function's errors.
    """


class _Retryable(Exception):
    """One attempt failed in a way another attempt may not."""

    def __init__(self, problem: str, *, reached_server: bool, wait_seconds: float = 0.0) -> None:
        super().__init__(problem)
        self.problem = problem
        self.reached_server = reached_server
        self.wait_seconds = wait_seconds


def new_pool(*, ca_bundle: str | None = None, insecure_tls: bool = False) -> urllib3.PoolManager:
    """The connection pool one execution environment keeps for MLflow (one connection per concurrent call).

    ``ca_bundle`` trusts a private CA (``MLFLOW_TRACKING_SERVER_CERT_PATH``); ``insecure_tls`` skips
    verification (``MLFLOW_TRACKING_INSECURE_TLS``), as MLflow's own client does with those settings.
    """
    if insecure_tls:
        urllib3.disable_warnings(InsecureRequestWarning)  # chosen on purpose; docs/function.md says what it costs
        return deadline_pool(num_pools=2, maxsize=MAX_CONCURRENT_CALLS, cert_reqs="CERT_NONE")
    if ca_bundle is not None:
        return deadline_pool(num_pools=2, maxsize=MAX_CONCURRENT_CALLS, ca_certs=ca_bundle)
    return deadline_pool(num_pools=2, maxsize=MAX_CONCURRENT_CALLS)


class RegistryHttpClient:
    """Sends one logical request, retrying transient failures while the deadline allows."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: RequestAuth | None = None,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._pool = pool or new_pool()
        self._auth = auth

    def get(self, path: str, params: Mapping[str, str], *, deadline: Deadline) -> JsonResponse:
        # MLflow's own client sends spaces as '+'; '%20' is what a signing proxy expects, and both decode alike.
        url = f"{self._base_url}{path}?{urlencode(params, quote_via=quote)}"
        return self._send("GET", url, None, deadline=deadline, idempotent=True)

    def post(self, path: str, payload: Mapping[str, Any], *, deadline: Deadline, idempotent: bool) -> JsonResponse:
        body = json.dumps(payload).encode()
        return self._send("POST", f"{self._base_url}{path}", body, deadline=deadline, idempotent=idempotent)

    def _send(self, method: str, url: str, body: bytes | None, *, deadline: Deadline, idempotent: bool) -> JsonResponse:
        last_problem = "no attempt was made"
        attempts = 0
        refreshed = False
        while attempts < MAX_ATTEMPTS and deadline.remaining() > 0.05:
            attempts += 1
            try:
                response = self._attempt(method, url, body, deadline)
            except _Retryable as failure:
                last_problem = failure.problem
                if failure.reached_server and not idempotent:
                    raise RequestOutcomeUnknown(
                        f"MLflow did not answer a {method} request that may have reached it: {failure.problem}"
                    ) from None
                if failure.wait_seconds > deadline.remaining():
                    last_problem += f", and asked to wait {failure.wait_seconds:.0f} s, beyond the time left"
                    break
                if attempts < MAX_ATTEMPTS:
                    _sleep_before_retry(attempts, deadline, at_least=failure.wait_seconds)
                continue
            if response.status == 401 and not refreshed and self._auth is not None and self._auth.refresh():
                refreshed = True  # the credentials changed (a rotated secret): one more try, not counted
                attempts -= 1
                continue
            if response.status in (401, 403):
                raise _auth_error(response.status, self._auth)
            return response
        raise RegistryUnavailableError(
            f"MLflow at {self._base_url} is unavailable after {attempts} attempt(s): {last_problem}"
        )

    def _attempt(self, method: str, url: str, body: bytes | None, deadline: Deadline) -> JsonResponse:
        headers = dict(_BASE_HEADERS)
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self._auth is not None:
            headers = self._auth.sign(method, url, headers, body)
        remaining = deadline.remaining()
        timeout = urllib3.Timeout(
            connect=min(CONNECT_TIMEOUT_SECONDS, remaining), read=min(READ_TIMEOUT_SECONDS, remaining)
        )
        with ends_by(remaining) as watchdog:
            try:
                raw = self._pool.request(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    timeout=timeout,
                    retries=False,
                    redirect=False,
                    preload_content=False,
                )
                try:
                    data = _read_capped(raw)
                finally:
                    raw.release_conn()
            except SSLError as error:
                if _is_verification_failure(error):
                    raise ConfigurationError(_verification_message(self._base_url, error)) from None
                raise _Retryable(f"TLS failed ({_ssl_reason(error)})", reached_server=False) from None
            except (ConnectTimeoutError, NewConnectionError) as error:
                if watchdog.fired:
                    raise _Retryable(_deadline_problem(remaining), reached_server=True) from None
                # The request never left this machine: always safe to send again.
                raise _Retryable(f"could not connect ({type(error).__name__})", reached_server=False) from None
            except (HTTPError, OSError, ValueError, RuntimeError) as error:
                # OSError, ValueError, RuntimeError: what the socket, TLS or http.client layers raise
                # when urllib3 does not wrap them; the request may have left, so it counts as sent.
                problem = _deadline_problem(remaining) if watchdog.fired else f"no answer ({type(error).__name__})"
                raise _Retryable(problem, reached_server=True) from None
            if watchdog.fired:  # cut off mid-answer: what arrived may parse, but it is not the answer
                raise _Retryable(_deadline_problem(remaining), reached_server=True)
        if raw.status in _REDIRECT_STATUSES:
            raise RegistryResponseError(
                f"MLflow answered a redirect (HTTP {raw.status}) to {_without_secrets(raw.headers.get('Location'))}; "
                "the function does not follow redirects: set MLFLOW_TRACKING_URI to the address that answers"
            )
        if raw.status in _RETRYABLE_STATUSES:
            raise _Retryable(
                f"HTTP {raw.status}", reached_server=True, wait_seconds=_retry_after(raw.headers.get("Retry-After"))
            )
        return _json_response(raw.status, data)


def _is_verification_failure(error: SSLError) -> bool:
    text = str(error)
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text


def _ssl_reason(error: SSLError) -> str:
    """The TLS library's own reason, e.g. ``self-signed certificate in certificate chain``."""
    cause = error.args[0] if error.args else error
    reason = getattr(cause, "verify_message", None) or getattr(cause, "reason", None) or str(cause)
    return str(reason)[:200]


def _verification_message(base_url: str, error: SSLError) -> str:
    return (
        f"certificate verify failed for {base_url}: {_ssl_reason(error)}. If the server uses a private CA, set "
        "MLFLOW_TRACKING_SERVER_CERT_PATH to its CA bundle (MLFLOW_TRACKING_INSECURE_TLS=true skips the check)"
    )


def _read_capped(raw: Any) -> bytes:
    """The whole body, read chunk by chunk (each chunk returns as soon as any bytes arrive, so the
    watchdog's deadline governs), refusing more than ``MAX_BODY_BYTES``."""
    declared = raw.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raw.close()
        raise _too_large(f"declared {int(declared):,} bytes")
    read_some = getattr(raw, "read1", None) or raw.read  # read1: urllib3 2; read: the 1.26 fallback
    chunks: list[bytes] = []
    size = 0
    while chunk := read_some(_READ_CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raw.close()
            raise _too_large("sent more")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(detail: str) -> RegistryResponseError:
    return RegistryResponseError(
        f"MLflow's answer is larger than the {MAX_BODY_BYTES // (1024 * 1024)} MiB the function reads ({detail}); "
        "an MLflow answer on these routes is a few KB"
    )


def _deadline_problem(seconds: float) -> str:
    return f"the answer did not complete within the {seconds:.1f} s left of the time budget"


def _json_response(status: int, data: bytes) -> JsonResponse:
    try:
        parsed = json.loads(data) if data else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return JsonResponse(status=status, body=parsed)
    return JsonResponse(status=status, body={}, parsed=False)


def _retry_after(value: str | None) -> float:
    """Seconds a 429/503 asks to wait (the delta-seconds form; an HTTP date is treated as absent)."""
    if value and value.strip().isdigit():
        return float(value.strip())
    return 0.0


def _without_secrets(location: str | None) -> str:
    """A redirect target fit for a message: scheme, host and path, without credentials or a query."""
    if not location:
        return "nowhere (no Location header)"
    parts = urlsplit(location)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else parts.path or "an unnamed place"


def _auth_error(status: int, auth: RequestAuth | None) -> RegistryAuthError:
    if isinstance(auth, SageMakerSigV4Auth):
        return RegistryAuthError(
            f"the SageMaker tracking server refused the request (HTTP {status}): the function's role needs the "
            "sagemaker-mlflow actions on that tracking server, and its AWS credentials must be valid"
        )
    if status == 401:
        what = "token" if isinstance(auth, BearerAuth) else "credentials"
        return RegistryAuthError(f"MLflow rejected the {what} (HTTP 401)")
    return RegistryAuthError(
        "MLflow refused the request (HTTP 403): the user needs EDIT permission on the registered model"
    )


def _sleep_before_retry(attempt: int, deadline: Deadline, *, at_least: float = 0.0) -> None:
    backoff = min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
    time.sleep(min(max(backoff, at_least), deadline.remaining()))
