"""The CloudWatch metrics the function emits, as ``cloudwatch.Metric`` s for alarms and dashboards.

The handler's Powertools ``Metrics`` write, in the namespace ``PromoteModel`` with the dimension
``service=promote-model`` (lambda_src/promote_model/observability.py): ``Promoted``,
``AlreadyPromoted``, ``DryRun``, ``NotPromoted`` and ``Error`` once per outcome, and ``NotPromoted``
again with a ``reason_code`` dimension, ``Error`` again with an ``error_type`` dimension. These carry
no function name: every promote-model function of an account and region adds to the same series.
The duration is Lambda's own ``AWS/Lambda`` ``Duration`` metric, which is per function.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from promote_model_cdk.constants import METRICS_NAMESPACE, SERVICE_NAME

PROMOTED = "Promoted"
ALREADY_PROMOTED = "AlreadyPromoted"
DRY_RUN = "DryRun"
NOT_PROMOTED = "NotPromoted"
ERROR = "Error"
NOTIFICATION_FAILED = "NotificationFailed"
REASON_CODE_DIMENSION = "reason_code"
ERROR_TYPE_DIMENSION = "error_type"
SERVICE_DIMENSION = "service"  # Powertools' default dimension, the function's service name


def outcome_metric(
    name: str,
    *,
    dimension: tuple[str, str] | None = None,
    period: Duration | None = None,
    statistic: str = "Sum",
    label: str | None = None,
) -> cloudwatch.Metric:
    """A count the function emits: ``name`` in the function's namespace, with its service dimension
    and, for the per-reason or per-type series, that one more dimension."""
    dimensions = {SERVICE_DIMENSION: SERVICE_NAME}
    if dimension is not None:
        dimensions[dimension[0]] = dimension[1]
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map=dimensions,
        period=period or Duration.minutes(5),
        statistic=statistic,
        label=label,
    )


def per_dimension_search(name: str, dimension: str, *, period: Duration) -> cloudwatch.MathExpression:
    """Every series of ``name`` per ``dimension`` value the function has emitted (a CloudWatch
    SEARCH, so a reason code or error type needs no list kept here)."""
    seconds = int(period.to_seconds())
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{METRICS_NAMESPACE},{dimension},{SERVICE_DIMENSION}}} "
            f'MetricName="{name}" {SERVICE_DIMENSION}="{SERVICE_NAME}"\', \'Sum\', {seconds})'
        ),
        using_metrics={},
        period=period,
    )
