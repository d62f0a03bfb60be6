"""The function's answers: the spec's result shapes plus the decisions of docs/design.md §2."""

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
    SUPERSEDED = "SUPERSEDED"
    NO_ROLLBACK_TARGET = "NO_ROLLBACK_TARGET"
    NO_CHALLENGER_VERSION = "NO_CHALLENGER_VERSION"  # alias mode, no version given, no challenger
    CONFIDENCE_BELOW_MINIMUM = "CONFIDENCE_BELOW_MINIMUM"  # the gates (docs/promotion-policies.md)
    REQUIRED_TAG_MISSING = "REQUIRED_TAG_MISSING"
    METRIC_MISSING = "METRIC_MISSING"
    METRIC_NOT_IMPROVED = "METRIC_NOT_IMPROVED"


NO_STAGING_VERSION_REASON = "No Staging version found"


@dataclass(frozen=True)
class SourceVersion:
    """Copy mode: the source model's version a champion was copied from."""

    model_name: str
    version: str


@dataclass(frozen=True)
class GateCheck:
    """One promotion gate's evaluation, as dry runs and gated-out answers report it."""

    gate: str  # the setting that asked for it
    passed: bool
    detail: str
    reason_code: ReasonCode | None = None  # set when it failed

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"gate": self.gate, "passed": self.passed, "detail": self.detail}
        if self.reason_code is not None:
            result["reason_code"] = self.reason_code.value
        return result


@dataclass(frozen=True)
class Promoted:
    """The version is the champion now: freshly promoted, or already (``already_promoted``)."""

    model_name: str
    new_version: str
    archived_version: str | None
    confidence: float
    already_promoted: bool
    notification_sent: bool = False
    alias: str | None = None  # the alias that now points at new_version
    audit_tags_written: bool = False
    event_sent: bool = False
    rolled_back_from: str | None = None  # a rollback: the champion it replaced
    new_stage: str = ModelStage.PRODUCTION.value  # alias mode: "alias:<name>"
    source: SourceVersion | None = None  # copy mode: the version copied into model_name

    @property
    def outcome(self) -> str:
        return "already_promoted" if self.already_promoted else "promoted"

    def to_dict(self) -> dict[str, Any]:
        rollback = {"rollback": True, "rolled_back_from": self.rolled_back_from} if self.rolled_back_from else {}
        return {
            "promoted": True,
            **_champion_fields(self),
            "notification_sent": self.notification_sent,
            "alias": self.alias,
            "audit_tags_written": self.audit_tags_written,
            "event_sent": self.event_sent,
            **rollback,
            **_source_fields(self.source),
        }


@dataclass(frozen=True)
class DryRun:
    """What a promotion would do: nothing was changed and nothing was sent."""

    model_name: str
    new_version: str | None  # copy mode: None until the copy exists
    archived_version: str | None
    confidence: float
    already_promoted: bool
    alias: str | None
    event_sent: bool = False  # a dry run sends nothing
    new_stage: str = ModelStage.PRODUCTION.value
    gates: tuple[GateCheck, ...] = ()  # each configured gate's evaluation
    source: SourceVersion | None = None  # copy mode: the version that is (or would be) copied

    outcome = "dry_run"

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": False,
            "dry_run": True,
            "would_promote": not self.already_promoted,
            **_champion_fields(self),
            "alias": self.alias,
            "event_sent": self.event_sent,
            "gates": [check.to_dict() for check in self.gates],
            **_source_fields(self.source),
        }


@dataclass(frozen=True)
class NotPromoted:
    """The request was understood, and the registry says nothing can be done."""

    reason_code: ReasonCode
    reason: str
    model_name: str | None = None
    new_version: str | None = None
    dry_run: bool = False
    event_sent: bool = False
    gates: tuple[GateCheck, ...] = ()  # a gated-out candidate: every gate's evaluation

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
        if self.dry_run:
            result["dry_run"] = True
        if self.gates:
            result["gates"] = [check.to_dict() for check in self.gates]
        result["event_sent"] = self.event_sent
        return result


PromotionResult = Promoted | NotPromoted | DryRun


def _source_fields(source: SourceVersion | None) -> dict[str, Any]:
    return {} if source is None else {"source_model_name": source.model_name, "source_version": source.version}


def _champion_fields(result: Promoted | DryRun) -> dict[str, Any]:
    """The spec's keys of a (would-be) champion, shared by promotions and dry runs."""
    return {
        "new_version": result.new_version,
        "new_stage": result.new_stage,
        "archived_version": result.archived_version,
        "already_promoted": result.already_promoted,
        "model_name": result.model_name,
        "confidence": result.confidence,
    }
