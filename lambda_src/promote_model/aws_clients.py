"""AWS clients with small timeouts and retries, so an unreachable service costs seconds, not the
invocation (docs/design.md §5: botocore's defaults are unbounded for a Lambda)."""

from __future__ import annotations

from functools import cache
from typing import Any

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 2  # the standard retry mode counts attempts, the first one included


def bounded_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return boto3.client(service, config=config)


@cache
def secrets_provider() -> Any:
    """Powertools' Secrets Manager provider (its cache of values lives as long as this environment)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=bounded_client("secretsmanager"))
