"""What a ``PromoteModel`` tells the rest of an app, as CDK's own constructs do: ``on_*`` methods for
its EventBridge event and ``metric_*`` methods for the metrics it emits."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from promote_model_cdk.metrics import (
    ERROR,
    ERROR_TYPE_DIMENSION,
    NOT_PROMOTED,
    PROMOTED,
    REASON_CODE_DIMENSION,
    outcome_metric,
)

# The function's event (lambda_src/promote_model/events.py): source and detail-type, and the
# ``outcome`` field of its detail.
EVENT_SOURCE = "promote-model"
EVENT_DETAIL_TYPE = "Model Promotion"
OUTCOMES = ("promoted", "already_promoted", "dry_run", "not_promoted", "error")


class PromotionSignals(Construct):
    """The ``on_*`` and ``metric_*`` methods of ``PromoteModel`` (a base class, not used alone)."""

    function: lambda_.Function
    event_bus: events.IEventBus | None

    def on_promoted(
        self,
        id: str,
        *,
        target: events.IRuleTarget | None = None,
        description: str | None = None,
        rule_name: str | None = None,
        enabled: bool | None = None,
    ) -> events.Rule:
        """An EventBridge rule on the function's bus matching each promotion it made: source
        ``promote-model``, detail-type ``Model Promotion``, ``detail.outcome`` ``promoted`` (not a
        version that already was the champion). ``target`` (e.g. ``targets.SqsQueue(queue)``) gets
        the event; more targets with ``rule.add_target``."""
        return self.on_outcome(
            id, outcomes=["promoted"], target=target, description=description, rule_name=rule_name, enabled=enabled
        )

    def on_outcome(
        self,
        id: str,
        *,
        outcomes: Sequence[str],
        target: events.IRuleTarget | None = None,
        description: str | None = None,
        rule_name: str | None = None,
        enabled: bool | None = None,
    ) -> events.Rule:
        """Like ``on_promoted``, for any of the function's outcomes: ``promoted``,
        ``already_promoted``, ``dry_run``, ``not_promoted`` and ``error``."""
        unknown = [outcome for outcome in outcomes if outcome not in OUTCOMES]
        if not outcomes or unknown:
            raise ValueError(f"outcomes must be a non-empty list of {', '.join(OUTCOMES)}; got {list(outcomes)!r}")
        if self.event_bus is None:
            raise ValueError(
                f"{self.node.path}: events_enabled=False, so the function sends no event for a rule to match; "
                "turn events on to use on_promoted or on_outcome"
            )
        return events.Rule(
            self,
            id,
            event_bus=self.event_bus,
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE], detail={"outcome": list(outcomes)}
            ),
            targets=[target] if target is not None else None,
            description=description or f"promote-model outcomes {', '.join(outcomes)} ({self.node.path})",
            rule_name=rule_name,
            enabled=enabled,
        )

    def metric_promotions(
        self, *, period: Duration | None = None, statistic: str = "Sum", label: str | None = None
    ) -> cloudwatch.Metric:
        """The count of promotions made (``Promoted``; a version already champion is not counted)."""
        return outcome_metric(PROMOTED, period=period, statistic=statistic, label=label)

    def metric_not_promoted(
        self,
        *,
        reason_code: str | None = None,
        period: Duration | None = None,
        statistic: str = "Sum",
        label: str | None = None,
    ) -> cloudwatch.Metric:
        """The count of requests answered ``promoted: false`` (``NotPromoted``), in total or, with
        ``reason_code`` (e.g. ``"NO_STAGING_VERSION"``), of that reason only."""
        dimension = (REASON_CODE_DIMENSION, reason_code) if reason_code else None
        return outcome_metric(
            NOT_PROMOTED,
            dimension=dimension,
            period=period,
            statistic=statistic,
            label=label,
        )

    def metric_errors(
        self,
        *,
        error_type: str | None = None,
        period: Duration | None = None,
        statistic: str = "Sum",
        label: str | None = None,
    ) -> cloudwatch.Metric:
        """The count of promotions that raised an error (``Error``), in total or, with
        ``error_type`` (e.g. ``"RegistryUnavailableError"``), of that type only. A crash before the
        handler could record it (a timeout) shows only in ``function.metric_errors()``, Lambda's own."""
        dimension = (ERROR_TYPE_DIMENSION, error_type) if error_type else None
        return outcome_metric(
            ERROR,
            dimension=dimension,
            period=period,
            statistic=statistic,
            label=label,
        )

    def metric_duration(
        self, *, period: Duration | None = None, statistic: str = "p99", label: str | None = None
    ) -> cloudwatch.Metric:
        """How long each invocation of this function took (Lambda's ``Duration``, milliseconds, p99
        by default)."""
        return self.function.metric_duration(period=period or Duration.minutes(5), statistic=statistic, label=label)
