"""The function's logger, metrics and tracer (Powertools), and the one log line and metric per outcome."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from promote_model.results import NotPromoted, PromotionResult

SERVICE = "promote-model"
NAMESPACE = "PromoteModel"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """X-Ray is active (the Lambda runtime sets the daemon address) and not switched off."""
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true")
    return not disabled and bool(environ.get("AWS_XRAY_DAEMON_ADDRESS"))


def traced(handler: Handler) -> Handler:
    """Wrap ``handler`` with the Powertools Tracer only where tracing is enabled.

    Creating a Tracer loads the X-Ray SDK and botocore: about 400 ms of a 600 ms import measured
    here (docs/performance.md), paid at every cold start. So it is created only when wanted.
    """
    if not tracing_enabled():
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler(handler)  # type: ignore[return-value]


_LOG_MESSAGES = {
    "promoted": "promotion finished",
    "already_promoted": "promotion finished",
    "dry_run": "dry run finished",
    "not_promoted": "promotion not done",
}
_OUTCOME_METRICS = {"promoted": "Promoted", "already_promoted": "AlreadyPromoted", "dry_run": "DryRun"}


def record_outcome(result: PromotionResult) -> None:
    """One structured log line (the result's fields, its outcome and reason code) and its metric."""
    fields = {"archived_version": None, "reason_code": None, **result.to_dict(), "outcome": result.outcome}
    logger.info(_LOG_MESSAGES[result.outcome], extra=fields)
    if isinstance(result, NotPromoted):
        _count_with_dimension("NotPromoted", "reason_code", result.reason_code.value)
    else:
        metrics.add_metric(name=_OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)


def record_notification_failure(model_name: str, version: str) -> None:
    logger.warning("notification failed", extra={"model_name": model_name, "new_version": version})
    metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=1)


def log_aws_failure(message: str, failure: Any) -> None:
    """A warning naming the AWS service, the operation and the AWS error code (``AwsCallFailed``)."""
    logger.warning(message, extra=failure.log_fields)


def record_error(error: Exception, model_name: str | None) -> None:
    error_type = type(error).__name__
    logger.error(
        "promotion failed",
        extra={"model_name": model_name, "outcome": "error", "error_type": error_type, "error": str(error)},
    )
    _count_with_dimension("Error", "error_type", error_type)


def _count_with_dimension(name: str, dimension: str, value: str) -> None:
    """Count ``name`` in total and, as a separate metric, per ``dimension`` value."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="service", value=SERVICE)
        metric.add_dimension(name=dimension, value=value)
