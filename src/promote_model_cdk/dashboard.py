"""``PromotionDashboard``: one CloudWatch dashboard of what the promote-model functions did."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from promote_model_cdk.function import PromoteModel
from promote_model_cdk.metrics import (
    ERROR,
    ERROR_TYPE_DIMENSION,
    NOT_PROMOTED,
    REASON_CODE_DIMENSION,
    per_dimension_search,
)

WIDGET_WIDTH = 12  # two widgets a row (a dashboard row is 24 wide)


class PromotionDashboard(Construct):
    """A CloudWatch dashboard of ``functions`` (``PromoteModel`` s): promotions, not-promoted
    answers by reason code, errors by type (every reason and type the functions emitted, found by a
    CloudWatch SEARCH), each function's duration (p50 and p99), and, when ``state_machine`` is
    given, its executions started, succeeded, failed and timed out.

    The promotion, not-promoted and error counts are the functions' Powertools metrics, which carry
    no function name (docs/cdk-conventions.md): they cover every promote-model function of the
    account and region. ``period`` (default 5 minutes) is each graph's. Attribute: ``dashboard``.
    """

    dashboard: cloudwatch.Dashboard
    """The CloudWatch dashboard itself (``dashboard_name``, or a name CloudFormation generates)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Sequence[PromoteModel],
        state_machine: sfn.IStateMachine | None = None,
        dashboard_name: str | None = None,
        period: Duration | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not functions:
            raise ValueError("PromotionDashboard needs at least one PromoteModel in functions=[...]; got none")
        period = period or Duration.minutes(5)
        first = functions[0]
        widgets: list[cloudwatch.IWidget] = [
            cloudwatch.GraphWidget(
                title="Promotions",
                left=[first.metric_promotions(period=period, label="Promoted")],
                width=WIDGET_WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Not promoted, by reason code",
                left=[per_dimension_search(NOT_PROMOTED, REASON_CODE_DIMENSION, period=period)],
                width=WIDGET_WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Errors, by type",
                left=[per_dimension_search(ERROR, ERROR_TYPE_DIMENSION, period=period)],
                width=WIDGET_WIDTH,
            ),
            cloudwatch.GraphWidget(
                title="Duration (ms)",
                left=[
                    metric
                    for promote_model in functions
                    for metric in (
                        promote_model.metric_duration(
                            period=period, statistic="p50", label=f"{promote_model.node.path} p50"
                        ),
                        promote_model.metric_duration(
                            period=period, statistic="p99", label=f"{promote_model.node.path} p99"
                        ),
                    )
                ],
                width=WIDGET_WIDTH,
            ),
        ]
        if state_machine is not None:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Workflow executions",
                    left=[
                        state_machine.metric_started(period=period, label="Started"),
                        state_machine.metric_succeeded(period=period, label="Succeeded"),
                        state_machine.metric_failed(period=period, label="Failed"),
                        state_machine.metric_timed_out(period=period, label="Timed out"),
                    ],
                    width=2 * WIDGET_WIDTH,
                )
            )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            widgets=[widgets[i : i + 2] for i in range(0, len(widgets), 2)],  # two a row
        )
