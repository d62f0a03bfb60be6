"""Every call to an AWS service (Secrets Manager, SNS, EventBridge) ends by the invocation's deadline,
and a failed one is described by service, operation and AWS error code.

botocore's timeouts bound each socket operation and its retries multiply them; name resolution
(``getaddrinfo``) is bounded by nothing at all (docs/design.md §5). So each call runs on its own
daemon thread and the caller waits for it only as long as the deadline allows; the client's own
timeouts and attempts are derived from the same deadline, so an abandoned call ends soon after too.
A call abandoned this way may still reach the service: the caller reports it as not done, and a
retry may repeat it (a duplicate, never a loss; docs/delivery-guarantees.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from promote_model.deadline import Deadline

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 3  # botocore's total_max_attempts: the first try included
DEADLINE_EXCEEDED = "DeadlineExceeded"
# Error codes AWS services give for a request that may succeed if sent again.
_TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalServiceError",
        "InternalServiceErrorException",
        "InternalFailure",
        "InternalError",
        "InternalErrorException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)


@dataclass(eq=False)
class AwsCallFailed(Exception):
    """An AWS call that did not succeed: internal, each caller turns it into its own outcome."""

    service: str
    operation: str
    code: str  # the AWS error code, the SDK's exception name, or DEADLINE_EXCEEDED
    transient: bool  # sending the request again may succeed
    cause: BaseException | None = None

    def __str__(self) -> str:
        return f"{self.service} {self.operation} failed: {self.code}"

    @property
    def log_fields(self) -> dict[str, Any]:
        return {
            "aws_service": self.service,
            "aws_operation": self.operation,
            "aws_error_code": self.code,
            "transient": self.transient,
        }


def bounded_client(service: str, deadline: Deadline) -> Any:
    """A boto3 client whose connect/read timeouts and attempts fit in ``deadline``'s time left."""
    from botocore.config import Config

    left = max(deadline.remaining(), 0.1)
    read = min(READ_TIMEOUT_SECONDS, left)
    connect = min(CONNECT_TIMEOUT_SECONDS, left)
    attempts = max(1, min(MAX_ATTEMPTS, int(left // (connect + read)) or 1))
    config = Config(
        connect_timeout=connect,
        read_timeout=read,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return _session().client(service, config=config)


@cache
def _session() -> Any:
    """One boto3 session per execution environment: its loaded service models make clients cheap."""
    import boto3

    return boto3.session.Session()


def call_within(deadline: Deadline, service: str, operation: str, call: Callable[[], T]) -> T:
    """``call()``'s result, or ``AwsCallFailed`` when it fails or does not end by ``deadline``."""
    outcome: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the waiting caller, which classifies it
            outcome.append((False, error))
        finally:
            done.set()

    threading.Thread(target=run, name=f"aws-{service}-{operation}", daemon=True).start()
    if not done.wait(deadline.remaining()):
        raise AwsCallFailed(service, operation, DEADLINE_EXCEEDED, transient=True)
    succeeded, value = outcome[0]
    if succeeded:
        return value
    raise classify(service, operation, value)


def classify(service: str, operation: str, error: BaseException) -> AwsCallFailed:
    """What a failed call's exception says: its AWS error code and whether another try may succeed."""
    from botocore.exceptions import ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as SdkConnectionError

    if isinstance(error, AwsCallFailed):
        return error
    if isinstance(error, ClientError):
        details = error.response.get("Error") or {}
        code = str(details.get("Code") or "Unknown")
        status = (error.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
        transient = code in _TRANSIENT_CODES or status == 429 or status >= 500
        return AwsCallFailed(service, operation, code, transient, error)
    # botocore's connect and read timeouts, refused and dropped connections (EndpointConnectionError
    # is an SdkConnectionError, the timeouts and ConnectionClosedError HTTPClientErrors).
    transient = isinstance(error, HTTPClientError | SdkConnectionError | ConnectionError | TimeoutError)
    return AwsCallFailed(service, operation, type(error).__name__, transient, error)
