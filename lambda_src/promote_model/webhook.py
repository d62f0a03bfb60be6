"""The webhook receiver's Lambda entry point (a Function URL, payload format 2.0): MLflow's signed
registry events in, at most one Step Functions execution per delivery out.

Outcomes: 401 for a delivery that is not authentic or not fresh (nothing started, nothing read but
the headers); 400 for a body that is not the JSON of a registry event; 200 for an event that starts
nothing, or a delivery whose execution already exists; 202 for a started execution; 500 for a
setting, the secret or Step Functions failing in a way a redelivery would meet again, 503 where it
might not (MLflow retries 5xx). Answers never carry the secret, the signature or the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from promote_model.aws_calls import bounded_client
from promote_model.deadline import Deadline
from promote_model.errors import ConfigurationError
from promote_model.executions import Started, StartFailed, start_once
from promote_model.observability import logger, metrics, traced
from promote_model.quiet_sdk import sdk_wire_logging_off
from promote_model.webhook_signature import Rejected, verify_delivery
from promote_model.webhook_trigger import Ignore, Malformed, TriggerSettings, decide

SECRET_MAX_AGE_SECONDS = 300  # a changed secret is picked up within 5 minutes, without a cold start
# Each AWS call's budget (the clients live across warm invocations, so a fixed one, not the
# invocation's): 2 s to connect and 5 s to read, twice, inside the receiver's 15 s timeout.
CALL_BUDGET_SECONDS = 14.0

_settings: TriggerSettings | None = None
_stepfunctions: Any = None


def reset() -> None:
    """Forget settings and clients, as a new execution environment would (for tests)."""
    global _settings, _stepfunctions
    _settings, _stepfunctions = None, None
    secrets_provider.cache_clear()


@metrics.log_metrics
@traced
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        return _handle(event)
    except ConfigurationError as error:
        # The detail goes to the log only: the caller may be anyone on the internet.
        logger.error("webhook receiver misconfigured", extra={"error": str(error)})
        return _answer(500, "error", "the receiver is misconfigured (see its log)", metric="WebhookError")


def _handle(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or _method(event) != "POST":
        return _answer(405, "rejected", "only POST deliveries are accepted", metric="WebhookRejected")
    settings = _current_settings()
    raw_headers = event.get("headers")
    headers = {str(k).lower(): str(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
    body = _raw_body(event)
    if body is None:
        return _answer(400, "rejected", "the body is not valid base64", metric="WebhookRejected")
    verdict = verify_delivery(headers, body, secrets=lambda: _secrets(settings.secret_arn), now=time.time())
    if isinstance(verdict, Rejected):
        return _answer(401, "rejected", verdict.reason, metric="WebhookRejected")
    delivery = {"delivery_id": verdict.delivery_id}
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        return _answer(400, "rejected", "the body is not JSON", metric="WebhookRejected", **delivery)
    decision = decide(verdict.delivery_id, payload, settings)
    if isinstance(decision, Malformed):
        return _answer(400, "rejected", decision.reason, metric="WebhookRejected", **delivery)
    if isinstance(decision, Ignore):
        return _answer(200, "ignored", decision.reason, metric="WebhookIgnored", **delivery)
    started = {**delivery, "execution_name": decision.execution_name}
    try:
        outcome = start_once(_stepfunctions_client(), settings.state_machine_arn, decision)
    except StartFailed as failure:
        status = 503 if failure.retryable else 500
        return _answer(status, "error", f"Step Functions refused: {failure.code}", metric="WebhookError", **started)
    if outcome is Started.ALREADY:
        return _answer(200, outcome.value, "this delivery's execution exists", metric="WebhookDuplicate", **started)
    return _answer(202, outcome.value, "promotion started", metric="WebhookStarted", **started)


def _current_settings() -> TriggerSettings:
    global _settings
    if _settings is None:
        _settings = TriggerSettings.from_environ()
    return _settings


def _stepfunctions_client() -> Any:
    global _stepfunctions
    if _stepfunctions is None:
        _stepfunctions = bounded_client("stepfunctions", Deadline(CALL_BUDGET_SECONDS))
    return _stepfunctions


@cache
def secrets_provider() -> Any:
    """Powertools' Secrets Manager provider (its cache of values lives as long as this environment)."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=bounded_client("secretsmanager", Deadline(CALL_BUDGET_SECONDS)))


def _secrets(secret_arn: str) -> list[str]:
    """The signing secret; during a rotation, one per line (the new and the old one both verify)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        with sdk_wire_logging_off():
            value = secrets_provider().get(secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError as error:
        cause = error.__cause__ or error.__context__
        code = getattr(cause, "response", {}).get("Error", {}).get("Code") if cause is not None else None
        raise ConfigurationError(
            f"could not read the webhook secret named by WEBHOOK_SECRET_ARN ({code or type(cause or error).__name__})"
        ) from None
    secrets = [line.strip() for line in value.splitlines() if line.strip()] if isinstance(value, str) else []
    if not secrets:
        raise ConfigurationError(
            "the secret named by WEBHOOK_SECRET_ARN must hold the signing secret as a plain string"
        )
    return secrets


def _method(event: dict[str, Any]) -> str | None:
    http = (event.get("requestContext") or {}).get("http") or {}
    method = http.get("method")
    return method.upper() if isinstance(method, str) else None


def _raw_body(event: dict[str, Any]) -> bytes | None:
    """The bytes MLflow sent (what it signed): a Function URL base64-encodes bodies it deems binary."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        return None
    if not event.get("isBase64Encoded"):
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def _answer(status: int, outcome: str, reason: str, *, metric: str, **fields: str) -> dict[str, Any]:
    log = logger.error if status >= 500 else logger.warning if status >= 400 else logger.info
    log("webhook delivery", extra={"status": status, "outcome": outcome, "reason": reason, **fields})
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"outcome": outcome, "reason": reason, **fields}),
    }
