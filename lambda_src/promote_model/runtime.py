"""What one execution environment keeps across warm invocations: settings, connections, clients.

Built on the first invocation (not at import), so a bad setting raises ``ConfigurationError``
where Step Functions can see it by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

from promote_model.alerts import SnsAlertPublisher
from promote_model.credentials import resolve_auth
from promote_model.deadline import Deadline
from promote_model.events import EventBridgePublisher
from promote_model.http_client import RegistryHttpClient, new_pool
from promote_model.promotion import PromotionPolicy, promote
from promote_model.registry import MLflowAdapter
from promote_model.request import PromotionRequest
from promote_model.results import DryRun, NotPromoted, PromotionResult
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

    def promote(self, request: PromotionRequest, *, actor: str, remaining_time_millis: int | None) -> PromotionResult:
        """Run the promotion rules once against this runtime's registry and alert publisher."""
        settings = self.settings
        return promote(
            request,
            registry=self.registry(Deadline.for_invocation(remaining_time_millis)),
            publisher=None if request.dry_run else self.alert_publisher(),
            policy=PromotionPolicy(
                environment=settings.environment,
                registry_name=settings.registry_name,
                actor=actor,
                promotion_alias=settings.promotion_alias,
                challenger_alias=settings.challenger_alias,
                audit_tags=settings.audit_tags,
                subject_prefix=settings.subject_prefix,
                mode=settings.promotion_mode,
                gates=settings.gates,
                target_model=settings.target_model_name,
            ),
            together=self._together,
        )

    def registry(self, deadline: Deadline) -> MLflowAdapter:
        http = RegistryHttpClient(
            self.settings.tracking_uri,
            auth=resolve_auth(self.settings),
            pool=self._pool,
        )
        return MLflowAdapter(http, deadline)

    def announce(self, result: PromotionResult, execution_id: str | None) -> PromotionResult:
        """``result`` with ``event_sent`` after its ``Model Promotion`` event; a dry run sends none.
        One place for the handler and the CLI."""
        if isinstance(result, DryRun) or (isinstance(result, NotPromoted) and result.dry_run):
            return result
        detail = {**result.to_dict(), "outcome": result.outcome, "execution_id": execution_id}
        return replace(result, event_sent=self.publish_outcome(detail))

    def publish_outcome(self, detail: dict[str, Any]) -> bool:
        """The ``Model Promotion`` event with ``detail`` plus the environment; ``False`` when off or failed."""
        bus = self.settings.event_bus_name
        if bus is None:
            return False
        from botocore.exceptions import BotoCoreError

        try:
            client = self._events_client
        except BotoCoreError:  # e.g. no region: a CLI run without AWS settings still promotes
            return False
        return EventBridgePublisher(bus, client).publish({**detail, "environment": self.settings.environment})

    def alert_publisher(self) -> SnsAlertPublisher | None:
        if not self.settings.alerts_active or self.settings.alert_topic_arn is None:
            return None
        return SnsAlertPublisher(self.settings.alert_topic_arn, self._sns_client)

    @cached_property
    def _sns_client(self) -> Any:
        return _aws_client("sns")

    @cached_property
    def _events_client(self) -> Any:
        return _aws_client("events")


def _aws_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Bounded, so an unreachable service costs seconds, not the invocation.
    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client(service, config=config)
