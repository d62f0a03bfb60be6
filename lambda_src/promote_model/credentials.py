"""Where the MLflow credentials come from: the function's IAM role (SageMaker), the Secrets Manager
secret (username/password or token), or the variables.

The secret is read through Powertools Parameters, cached across warm invocations for
``SECRET_MAX_AGE_SECONDS`` so a rotated password is picked up without a cold start.
"""

from __future__ import annotations

from typing import Any

from promote_model.auth import BasicAuth, BearerAuth, Credentials, RequestAuth, SageMakerSigV4Auth
from promote_model.aws_clients import secrets_provider
from promote_model.errors import ConfigurationError
from promote_model.quiet_sdk import sdk_wire_logging_off
from promote_model.settings import ModelManagementSettings

SECRET_MAX_AGE_SECONDS = 300


def resolve_auth(settings: ModelManagementSettings) -> RequestAuth | None:
    """How requests to MLflow authenticate, first match wins: a SageMaker tracking server (SigV4 with the
    function's IAM role); the secret's username/password or token (re-read once on a 401, so a rotated
    credential works at once); ``MLFLOW_TRACKING_TOKEN``; the username/password variables; nothing."""
    if settings.sagemaker is not None:
        return SageMakerSigV4Auth(settings.sagemaker.arn, settings.sagemaker.region)
    secret_arn = settings.credentials_secret_arn
    if secret_arn is not None:
        return _auth_from_secret(secret_arn)
    if settings.token is not None:
        return BearerAuth(settings.token)
    if settings.username is not None and settings.password is not None:
        return BasicAuth(Credentials(settings.username, settings.password))
    return None


def _auth_from_secret(secret_arn: str) -> RequestAuth:
    value = _read_secret(secret_arn)
    if isinstance(value, dict) and _non_empty(value.get("token")) and "password" not in value:
        return BearerAuth(value["token"], reload=lambda: _token(_read_secret(secret_arn, fresh=True)))
    return BasicAuth(_credentials(value), reload=lambda: _credentials(_read_secret(secret_arn, fresh=True)))


def _read_secret(secret_arn: str, *, fresh: bool = False) -> Any:
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    try:
        with sdk_wire_logging_off():
            return secrets_provider().get(
                secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS, force_fetch=fresh
            )
    except (GetParameterError, TransformParameterError) as error:
        # Not the error's text: a transform error could quote part of the secret.
        raise ConfigurationError(
            "could not read the MLflow credentials secret named by MLFLOW_CREDENTIALS_SECRET_ARN "
            f"({_cause_name(error)})"
        ) from None


def _credentials(value: Any) -> Credentials:
    if not isinstance(value, dict):
        raise _malformed()
    username, password = value.get("username"), value.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise _malformed()
    return Credentials(username, password)


def _token(value: Any) -> str:
    if not isinstance(value, dict) or not _non_empty(value.get("token")):
        raise _malformed()
    return value["token"]


def _non_empty(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _malformed() -> ConfigurationError:
    return ConfigurationError(
        'the secret named by MLFLOW_CREDENTIALS_SECRET_ARN must be JSON {"username": ..., "password": ...} '
        'with two non-empty strings, or {"token": ...}'
    )


def _cause_name(error: Exception) -> str:
    cause = error.__cause__ or error.__context__
    code = getattr(cause, "response", {}).get("Error", {}).get("Code") if cause is not None else None
    return code or type(cause or error).__name__
