"""What one execution environment keeps across warm invocations: settings, connections, clients.

Built on the first invocation (not at import), so a bad setting raises ``ConfigurationError``
where Step Functions can see it by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from promote_model.alerts import SnsAlertPublisher
from promote_model.aws_calls import bounded_client
from promote_model.credentials import resolve_auth
from promote_model.deadline import Deadline
from promote_model.events import EventBridgePublisher
from promote_model.http_client import RegistryHttpClient, new_pool
from promote_model.promotion import PromotionPolicy, promote
from promote_model.registry import MLflowAdapter
from promote_model.request import PromotionRequest
from promote_model.results import DryRun, NotPromoted, Promoted, PromotionResult
from promote_model.settings import ModelManagementSettings
from promote_model.together import AtOnce


class Runtime:
    def __init__(self, settings: ModelManagementSettings) -> None:
        self.settings = settings
        # Keep-alive connections to MLflow survive between warm invocations.
        self._pool = new_pool(ca_bundle=settings.ca_bundle, insecure_tls=settings.insecure_tls)
        self._together = AtOnce()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Runtime:
        return cls(ModelManagementSettings.from_environ(environ))

    def promote(
        self, request: PromotionRequest, *, actor: str, deadline: Deadline, execution_id: str | None = None
    ) -> PromotionResult:
        """Run the promotion rules once against this runtime's registry and alert publisher, every
        call ending by ``deadline`` (the invocation's)."""
        settings = self.settings
        return promote(
            request,
            registry=self.registry(deadline),
            publisher=None if request.dry_run else self.alert_publisher(deadline),
            policy=PromotionPolicy(
                environment=settings.environment,
                registry_name=settings.registry_name,
                actor=actor,
                promotion_alias=settings.promotion_alias,
                challenger_alias=settings.challenger_alias,
                audit_tags=settings.audit_tags,
                subject_prefix=settings.subject_prefix,
                mode=settings.promotion_mode,
            ),
            together=self._together,
            emit_event=None
            if request.dry_run or settings.event_bus_name is None
            else partial(self._emit_promoted, execution_id, deadline),
        )

    def _emit_promoted(self, execution_id: str | None, deadline: Deadline, result: Promoted) -> bool:
        detail = {**result.to_dict(), "outcome": result.outcome, "execution_id": execution_id}
        return self.publish_outcome(detail, deadline)

    def registry(self, deadline: Deadline) -> MLflowAdapter:
        http = RegistryHttpClient(
            self.settings.tracking_uri,
            auth=resolve_auth(self.settings, deadline),
            pool=self._pool,
        )
        return MLflowAdapter(http, deadline)

    def announce(self, result: PromotionResult, execution_id: str | None, deadline: Deadline) -> PromotionResult:
        """``result`` with ``event_sent`` after its ``Model Promotion`` event; a dry run sends none.
        One place for the handler and the CLI. The event reports how the invocation ended, so it
        may run a moment past the budget (never past the deadline's hard limit)."""
        if isinstance(result, DryRun) or (isinstance(result, NotPromoted) and result.dry_run):
            return result
        if isinstance(result, Promoted) and not result.already_promoted:
            return result  # the promotion rules sent its event before marking it finished
        detail = {**result.to_dict(), "outcome": result.outcome, "execution_id": execution_id}
        return replace(result, event_sent=self.publish_outcome(detail, deadline))

    def publish_outcome(self, detail: dict[str, Any], deadline: Deadline) -> bool:
        """The ``Model Promotion`` event with ``detail`` plus the environment; ``False`` when off or failed."""
        bus = self.settings.event_bus_name
        if bus is None:
            return False
        deadline = deadline.with_grace(EVENT_SECONDS)
        from botocore.exceptions import BotoCoreError

        try:
            client = bounded_client("events", deadline)
        except BotoCoreError:  # e.g. no region: a CLI run without AWS settings still promotes
            return False
        return EventBridgePublisher(bus, client, deadline).publish({**detail, "environment": self.settings.environment})

    def alert_publisher(self, deadline: Deadline) -> SnsAlertPublisher | None:
        if not self.settings.alerts_active or self.settings.alert_topic_arn is None:
            return None
        from botocore.exceptions import BotoCoreError

        try:
            client = bounded_client("sns", deadline)
        except BotoCoreError:  # no region: reported as a notification not sent
            client = None
        return SnsAlertPublisher(self.settings.alert_topic_arn, client, deadline)


# How far past the budget the outcome's events may run (within the deadline's hard limit).
EVENT_SECONDS = 2.0
