"""The promotion rules: the spec's flowchart and DESIGN §2, with no network call of their own.

The registry and the alert publisher are passed in; everything here is decisions.
"""

from __future__ import annotations

from typing import Protocol

from promote_model.alerts import PromotionNotice
from promote_model.registry import ModelVersion, RegisteredModel
from promote_model.request import PromotionRequest
from promote_model.results import (
    NO_STAGING_VERSION_REASON,
    NotPromoted,
    Promoted,
    PromotionResult,
    ReasonCode,
)
from promote_model.stages import ModelStage

READY = "READY"


class Registry(Protocol):
    def get_registered_model(self, name: str) -> RegisteredModel | None: ...

    def get_model_version(self, name: str, version: str) -> ModelVersion | None: ...

    def transition_to_production(self, name: str, version: str) -> ModelVersion: ...


class AlertPublisher(Protocol):
    def publish(self, notice: PromotionNotice) -> bool: ...


def promote(
    request: PromotionRequest,
    *,
    registry: Registry,
    publisher: AlertPublisher | None,
    environment: str,
    registry_name: str,
) -> PromotionResult:
    name = request.model_name
    resolved = _resolve_candidate(request, registry)
    if isinstance(resolved, (NotPromoted, Promoted)):
        return resolved
    candidate, model = resolved

    previous = model.latest_in(ModelStage.PRODUCTION)
    archived_version = previous.version if previous is not None and previous.version != candidate.version else None
    registry.transition_to_production(name, candidate.version)

    notification_sent = False
    if publisher is not None:
        notification_sent = publisher.publish(
            PromotionNotice(
                model_name=name,
                new_version=candidate.version,
                previous_version=archived_version,
                confidence=request.confidence,
                environment=environment,
                registry_name=registry_name,
            )
        )
    return Promoted(
        model_name=name,
        new_version=candidate.version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=notification_sent,
    )


def _resolve_candidate(
    request: PromotionRequest, registry: Registry
) -> tuple[ModelVersion, RegisteredModel] | NotPromoted | Promoted:
    """The version to promote and the model it belongs to, or the answer that ends the request."""
    name = request.model_name
    if request.new_version is None:
        model = registry.get_registered_model(name)
        if model is None:
            return _model_not_found(name)
        candidate = model.latest_in(ModelStage.STAGING)
        if candidate is None:
            return NotPromoted(ReasonCode.NO_STAGING_VERSION, NO_STAGING_VERSION_REASON, model_name=name)
        return _ready_or_not(candidate, model)

    # An explicit version is read first: when it is already the champion, that single read is the
    # whole (idempotent) request.
    version = registry.get_model_version(name, request.new_version)
    if version is None:
        if registry.get_registered_model(name) is None:
            return _model_not_found(name)
        return NotPromoted(
            ReasonCode.VERSION_NOT_FOUND,
            f"Model '{name}' has no version {request.new_version}",
            model_name=name,
            new_version=request.new_version,
        )
    if version.in_production:
        return Promoted(
            model_name=name,
            new_version=version.version,
            archived_version=None,
            confidence=request.confidence,
            already_promoted=True,
        )
    model = registry.get_registered_model(name)
    if model is None:  # deleted between the two reads
        return _model_not_found(name)
    return _ready_or_not(version, model)


def _ready_or_not(
    candidate: ModelVersion, model: RegisteredModel
) -> tuple[ModelVersion, RegisteredModel] | NotPromoted:
    if candidate.status != READY:
        return NotPromoted(
            ReasonCode.VERSION_NOT_READY,
            f"Version {candidate.version} of model '{candidate.name}' is not ready: its status is {candidate.status}",
            model_name=candidate.name,
            new_version=candidate.version,
        )
    return candidate, model


def _model_not_found(name: str) -> NotPromoted:
    return NotPromoted(ReasonCode.MODEL_NOT_FOUND, f"No registered model named '{name}'", model_name=name)
