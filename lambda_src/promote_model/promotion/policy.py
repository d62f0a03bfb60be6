"""What the settings decide about every promotion, and what the rules are given to work with: the
registry and the alert publisher (passed in; the rules make no network call of their own) and
``together``, which runs independent calls at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from promote_model.alerts import DEFAULT_SUBJECT_PREFIX, PromotionNotice
from promote_model.registry import ModelVersion, RegisteredModel
from promote_model.request import PromotionRequest
from promote_model.results import Promoted
from promote_model.stages import ModelStage
from promote_model.together import Together

STAGE_MODE, ALIAS_MODE = "stage", "alias"


class Registry(Protocol):
    def get_registered_model(self, name: str) -> RegisteredModel | None: ...

    def get_model_version(self, name: str, version: str) -> ModelVersion | None: ...

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None: ...

    def versions_updated_since(self, name: str, since_ms: int) -> list[ModelVersion]: ...

    def transition_to_production(self, name: str, version: str) -> ModelVersion: ...

    def archive(self, name: str, version: str) -> None: ...

    def set_alias(self, name: str, alias: str, version: str) -> None: ...

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None: ...


class AlertPublisher(Protocol):
    def publish(self, notice: PromotionNotice) -> bool: ...


@dataclass(frozen=True)
class PromotionPolicy:
    """What the settings decide about every promotion."""

    environment: str
    registry_name: str
    actor: str  # who promotes: the function's ARN, or the CLI's user
    promotion_alias: str | None = "champion"
    challenger_alias: str | None = None
    audit_tags: bool = True
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    mode: str = STAGE_MODE  # ALIAS_MODE: the champion is whoever holds promotion_alias; no stage changes

    @property
    def alias_mode(self) -> bool:
        return self.mode == ALIAS_MODE

    @property
    def champion_label(self) -> str:
        """The result's ``new_stage``: the stage, or ``alias:<name>`` in alias mode."""
        return f"alias:{self.promotion_alias}" if self.alias_mode else ModelStage.PRODUCTION.value


@dataclass(frozen=True)
class Context:
    """One promotion's request and everything the rules use to answer it."""

    request: PromotionRequest
    registry: Registry
    publisher: AlertPublisher | None
    policy: PromotionPolicy
    together: Together
    now: Callable[[], datetime]
    pause: Callable[[float], None]
    emit_event: Callable[[Promoted], bool] | None = None  # the ``promoted`` event; True when delivered

    @property
    def name(self) -> str:
        return self.request.model_name
