"""How a request to MLflow proves who sends it: basic auth, a bearer token, or a SageMaker SigV4
signature, applied to each request just before it is sent.

A credential never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

SAGEMAKER_MLFLOW_SERVICE = "sagemaker-mlflow"  # the SigV4 service name of managed MLflow tracking servers
TRACKING_SERVER_ARN_HEADER = "x-mlflow-sm-tracking-server-arn"


class RequestAuth(Protocol):
    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        """The headers to send: ``headers`` plus what authenticates this one request."""
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


class _HeaderAuth:
    """An ``Authorization`` header built from a credential. ``reload`` (when the credential comes from
    a secret) re-reads it, bypassing the cache, once: a rotated credential is picked up on the first
    401 rather than after the cache's age."""

    def __init__(self, header: str, reload: Callable[[], str] | None) -> None:
        self._header = header
        self._reload = reload

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<hidden>)"

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        return {**headers, "Authorization": self._header}

    def refresh(self) -> bool:
        if self._reload is None:
            return False
        reload, self._reload = self._reload, None
        fresh = reload()
        changed = fresh != self._header
        self._header = fresh
        return changed


class BasicAuth(_HeaderAuth):
    def __init__(self, credentials: Credentials, *, reload: Callable[[], Credentials] | None = None) -> None:
        super().__init__(_basic_header(credentials), (lambda: _basic_header(reload())) if reload else None)


class BearerAuth(_HeaderAuth):
    def __init__(self, token: str, *, reload: Callable[[], str] | None = None) -> None:
        super().__init__(f"Bearer {token}", (lambda: f"Bearer {reload()}") if reload else None)


class SageMakerSigV4Auth:
    """Signs each request with AWS Signature Version 4 for a SageMaker managed MLflow tracking server.

    The credentials are the function's own (the Lambda role's, through botocore's default chain);
    botocore refreshes credentials that expire, so they are asked for per request, never cached here.
    The query string is signed exactly as sent (percent-encoded, spaces as ``%20``, see http_client).
    """

    def __init__(self, tracking_server_arn: str, region: str, *, credentials: Any = None) -> None:
        self._arn = tracking_server_arn
        self._region = region
        self._credentials = credentials

    def __repr__(self) -> str:
        return f"SageMakerSigV4Auth({self._arn!r})"

    def sign(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        from promote_model.errors import ConfigurationError

        credentials = self._current_credentials()
        if credentials is None:
            raise ConfigurationError("no AWS credentials found to sign requests to the SageMaker tracking server")
        payload = body or b""
        request = AWSRequest(
            method=method,
            url=url,
            data=payload,
            headers={
                **headers,
                "x-amz-content-sha256": hashlib.sha256(payload).hexdigest(),
                TRACKING_SERVER_ARN_HEADER: self._arn,
            },
        )
        SigV4Auth(credentials, SAGEMAKER_MLFLOW_SERVICE, self._region).add_auth(request)
        return dict(request.headers.items())

    def refresh(self) -> bool:
        return False  # botocore refreshes the role's credentials itself; a 401 here is not a stale password

    def _current_credentials(self) -> Any:
        from promote_model.errors import CredentialsUnavailableError

        try:
            source = self._credentials
            if source is None:
                import boto3

                source = self._credentials = boto3.Session().get_credentials()
            return source.get_frozen_credentials() if source is not None else None
        except Exception as error:  # a failed refresh of the role's credentials: another try may succeed
            raise CredentialsUnavailableError(
                f"could not get the function's AWS credentials to sign requests ({type(error).__name__})"
            ) from None


def _basic_header(credentials: Credentials) -> str:
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode("ascii")
    return f"Basic {token}"
