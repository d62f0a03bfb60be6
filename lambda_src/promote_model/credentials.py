"""Where the MLflow credentials come from: the function's IAM role (SageMaker), the Secrets Manager
secret (username/password or token), or the variables.

The secret is read through Powertools Parameters, cached across warm invocations for
``SECRET_MAX_AGE_SECONDS`` so a rotated password is picked up without a cold start. The read ends by
the invocation's deadline. A failure that another try may not repeat (throttling, 5xx, a timeout, a
connection that fails) is ``CredentialsUnavailableError``, which Step Functions retries; a secret
that is missing, forbidden, undecryptable or malformed is ``ConfigurationError``. No other exception
leaves this module.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from promote_model.auth import BasicAuth, BearerAuth, Credentials, RequestAuth, SageMakerSigV4Auth
from promote_model.aws_calls import AwsCallFailed, call_within, classify
from promote_model.deadline import Deadline
from promote_model.errors import ConfigurationError, CredentialsUnavailableError
from promote_model.observability import log_aws_failure
from promote_model.quiet_sdk import sdk_wire_logging_off
from promote_model.settings import ModelManagementSettings

SECRET_MAX_AGE_SECONDS = 300


def resolve_auth(settings: ModelManagementSettings, deadline: Deadline) -> RequestAuth | None:
    """How requests to MLflow authenticate, first match wins: a SageMaker tracking server (SigV4 with the
    function's IAM role); the secret's username/password or token (re-read once on a 401, so a rotated
    credential works at once); ``MLFLOW_TRACKING_TOKEN``; the username/password variables; nothing."""
    if settings.sagemaker is not None:
        return SageMakerSigV4Auth(settings.sagemaker.arn, settings.sagemaker.region)
    secret_arn = settings.credentials_secret_arn
    if secret_arn is not None:
        return _auth_from_secret(secret_arn, deadline)
    if settings.token is not None:
        return BearerAuth(settings.token)
    if settings.username is not None and settings.password is not None:
        return BasicAuth(Credentials(settings.username, settings.password))
    return None


def _auth_from_secret(secret_arn: str, deadline: Deadline) -> RequestAuth:
    value = _read_secret(secret_arn, deadline)
    if isinstance(value, dict) and _non_empty(value.get("token")) and "password" not in value:
        return BearerAuth(value["token"], reload=lambda: _token(_read_secret(secret_arn, deadline, fresh=True)))
    return BasicAuth(_credentials(value), reload=lambda: _credentials(_read_secret(secret_arn, deadline, fresh=True)))


def _read_secret(secret_arn: str, deadline: Deadline, *, fresh: bool = False) -> Any:
    def read() -> Any:
        with sdk_wire_logging_off():
            return _secrets_provider().get(
                secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS, force_fetch=fresh
            )

    try:
        return call_within(deadline, "secretsmanager", "GetSecretValue", read)
    except AwsCallFailed as failure:
        failure = _unwrapped(failure)
        log_aws_failure("could not read the MLflow credentials secret", failure)
        # Never the error's text: a transform error could quote part of the secret.
        what = f"could not read the MLflow credentials secret named by MLFLOW_CREDENTIALS_SECRET_ARN ({failure.code})"
        if failure.transient:
            raise CredentialsUnavailableError(f"{what}; a later try may succeed") from None
        raise ConfigurationError(what) from None


def _unwrapped(failure: AwsCallFailed) -> AwsCallFailed:
    """The SDK's own failure inside Powertools' wrapper, which keeps it only as the implicit context; a
    secret that is not JSON (or not UTF-8) is malformed, whatever exception said so."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    error = failure.cause
    if isinstance(error, GetParameterError) and error.__context__ is not None:
        return classify(failure.service, failure.operation, error.__context__)
    if isinstance(error, TransformParameterError | ValueError):  # UnicodeDecodeError and JSON errors too
        return AwsCallFailed(failure.service, failure.operation, "MalformedSecret", transient=False)
    return failure


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


@cache
def _secrets_provider() -> Any:
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from botocore.config import Config

    # Kept for the environment's life (its cache is the point); each read is still cut off by the
    # invocation's deadline (call_within), and these bounds end an abandoned read soon after.
    config = Config(connect_timeout=2, read_timeout=3, retries={"total_max_attempts": 2, "mode": "standard"})
    return SecretsProvider(boto3_client=boto3.client("secretsmanager", config=config))


def _malformed() -> ConfigurationError:
    return ConfigurationError(
        'the secret named by MLFLOW_CREDENTIALS_SECRET_ARN must be JSON {"username": ..., "password": ...} '
        'with two non-empty strings, or {"token": ...}'
    )
