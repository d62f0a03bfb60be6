"""The function's answers: the spec's result shapes plus the decisions of DESIGN §2."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from promote_model.stages import ModelStage


class ReasonCode(StrEnum):
    INVALID_REQUEST = "INVALID_REQUEST"
    NO_STAGING_VERSION = "NO_STAGING_VERSION"
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    VERSION_NOT_READY = "VERSION_NOT_READY"


NO_STAGING_VERSION_REASON = "No Staging version found"


@dataclass(frozen=True)
class Promoted:
    """The version is the champion now: freshly promoted, or already (``already_promoted``)."""

    model_name: str
    new_version: str
    archived_version: str | None
    confidence: float
    already_promoted: bool
    notification_sent: bool = False

    @property
    def outcome(self) -> str:
        return "already_promoted" if self.already_promoted else "promoted"

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": True,
            "new_version": self.new_version,
            "new_stage": ModelStage.PRODUCTION.value,
            "archived_version": self.archived_version,
            "already_promoted": self.already_promoted,
            "model_name": self.model_name,
            "confidence": self.confidence,
            "notification_sent": self.notification_sent,
        }


@dataclass(frozen=True)
class NotPromoted:
    """The request was understood, and the registry says nothing can be done."""

    reason_code: ReasonCode
    reason: str
    model_name: str | None = None
    new_version: str | None = None

    outcome = "not_promoted"

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "promoted": False,
            "reason": self.reason,
            "reason_code": self.reason_code.value,
        }
        if self.model_name is not None:
            result["model_name"] = self.model_name
        if self.new_version is not None:
            result["new_version"] = self.new_version
        return result


PromotionResult = Promoted | NotPromoted
