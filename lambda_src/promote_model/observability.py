"""The function's logger, metrics and tracer (Powertools), and the one log line and metric per outcome."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from promote_model.results import DryRun, Promoted, PromotionResult

SERVICE = "promote-model"
NAMESPACE = "PromoteModel"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def record_outcome(result: PromotionResult) -> None:
    if isinstance(result, DryRun):
        logger.info(
            "dry run finished",
            extra={
                "model_name": result.model_name,
                "new_version": result.new_version,
                "archived_version": result.archived_version,
                "outcome": result.outcome,
                "reason_code": None,
                "already_promoted": result.already_promoted,
            },
        )
        metrics.add_metric(name="DryRun", unit=MetricUnit.Count, value=1)
        return
    if isinstance(result, Promoted):
        logger.info(
            "promotion finished",
            extra={
                "model_name": result.model_name,
                "new_version": result.new_version,
                "archived_version": result.archived_version,
                "outcome": result.outcome,
                "reason_code": None,
                "notification_sent": result.notification_sent,
                "alias": result.alias,
                "audit_tags_written": result.audit_tags_written,
            },
        )
        metrics.add_metric(
            name="AlreadyPromoted" if result.already_promoted else "Promoted", unit=MetricUnit.Count, value=1
        )
        return
    logger.info(
        "promotion not done",
        extra={
            "model_name": result.model_name,
            "new_version": result.new_version,
            "archived_version": None,
            "outcome": result.outcome,
            "reason_code": result.reason_code.value,
            "reason": result.reason,
        },
    )
    _count_with_dimension("NotPromoted", "reason_code", result.reason_code.value)


def record_notification_failure(model_name: str, version: str) -> None:
    logger.warning("notification failed", extra={"model_name": model_name, "new_version": version})
    metrics.add_metric(name="NotificationFailed", unit=MetricUnit.Count, value=1)


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
