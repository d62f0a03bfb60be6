"""The promotion rules: the spec's flowchart, docs/design.md §2, the champion alias, the audit trail and the
convergence rule for concurrent promotions. No network call of their own: the registry and the
alert publisher are passed in; everything here is decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol

from promote_model.alerts import PromotionNotice
from promote_model.errors import PromotionError
from promote_model.registry import ModelVersion, RegisteredModel
from promote_model.request import PromotionRequest
from promote_model.results import (
    NO_STAGING_VERSION_REASON,
    DryRun,
    NotPromoted,
    Promoted,
    PromotionResult,
    ReasonCode,
)
from promote_model.stages import ModelStage

READY = "READY"
MAX_TAG_VALUE_LENGTH = 5000  # MLflow's limit for a model version tag value
EXECUTION_ID_TAG = "execution_id"
PREVIOUS_VERSION_TAG = "previous_version"
PROMOTED_AT_TAG = "promoted_at"  # written last: its presence marks a finished promotion


class Registry(Protocol):
    def get_registered_model(self, name: str) -> RegisteredModel | None: ...

    def get_model_version(self, name: str, version: str) -> ModelVersion | None: ...

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None: ...

    def list_versions(self, name: str) -> list[ModelVersion]: ...

    def transition_to_production(self, name: str, version: str) -> ModelVersion: ...

    def archive(self, name: str, version: str) -> None: ...

    def set_alias(self, name: str, alias: str, version: str) -> None: ...

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None: ...


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


def promote(
    request: PromotionRequest,
    *,
    registry: Registry,
    publisher: AlertPublisher | None,
    policy: PromotionPolicy,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> PromotionResult:
    name = request.model_name
    resolved = _resolve_candidate(request, registry, policy)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, model = resolved

    if candidate.in_production or model is None:
        if _started_by_this_execution(candidate, request, policy) and not _finished(candidate) and not request.dry_run:
            # This execution transitioned the version, but its answer was lost before the alias,
            # tags and notification: finish them, once (promoted_at marks a finished promotion).
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            archived = None if recorded in (None, "none") else recorded
            return _complete(request, candidate.version, archived, registry, publisher, policy, now)
        return _already_champion(request, candidate, registry, policy)
    if candidate.status != READY:
        return NotPromoted(
            ReasonCode.VERSION_NOT_READY,
            f"Version {candidate.version} of model '{name}' is not ready: its status is {candidate.status}",
            model_name=name,
            new_version=candidate.version,
            dry_run=request.dry_run,
        )
    previous = model.latest_in(ModelStage.PRODUCTION)
    archived_version = previous.version if previous is not None else None
    if request.dry_run:
        return DryRun(name, candidate.version, archived_version, request.confidence, False, policy.promotion_alias)

    if policy.audit_tags and request.execution_id is not None:
        # Written before the transition, so that a retry of this execution can tell a promotion it
        # started (whose answer was lost) from one made by someone else, and finish it.
        registry.set_version_tags(
            name,
            candidate.version,
            _within_limits({EXECUTION_ID_TAG: request.execution_id, PREVIOUS_VERSION_TAG: archived_version or "none"}),
        )
    registry.transition_to_production(name, candidate.version)
    return _complete(request, candidate.version, archived_version, registry, publisher, policy, now)


def _complete(
    request: PromotionRequest,
    version: str,
    archived_version: str | None,
    registry: Registry,
    publisher: AlertPublisher | None,
    policy: PromotionPolicy,
    now: Callable[[], datetime],
) -> Promoted | NotPromoted:
    """After the transition: verify one champion, then announce it (or step aside for the winner)."""
    name = request.model_name
    champion = _settle_champion(registry, name)
    if champion is not None and champion != version:
        return NotPromoted(
            ReasonCode.SUPERSEDED,
            f"Version {version} of model '{name}' was promoted, then superseded by a concurrent "
            f"promotion of version {champion}, which is the champion now",
            model_name=name,
            new_version=version,
        )
    return _announce(
        request, version, archived_version, registry=registry, publisher=publisher, policy=policy, at=now()
    )


def _announce(
    request: PromotionRequest,
    version: str,
    archived_version: str | None,
    *,
    registry: Registry,
    publisher: AlertPublisher | None,
    policy: PromotionPolicy,
    at: datetime,
) -> Promoted:
    """What follows a transition, best effort: the alias, the audit tags, the notification; then
    ``promoted_at``, the mark of a finished promotion."""
    name = request.model_name
    alias = _point_alias(registry, name, version, policy.promotion_alias)
    audited = policy.audit_tags and _write_audit_tags(registry, request, version, archived_version, policy, at)
    notification_sent = publisher is not None and publisher.publish(
        PromotionNotice(
            model_name=name,
            new_version=version,
            previous_version=archived_version,
            confidence=request.confidence,
            environment=policy.environment,
            registry_name=policy.registry_name,
            alias=alias,
        )
    )
    if audited:
        audited = _write_tags(registry, name, version, {PROMOTED_AT_TAG: _timestamp(at)})
    return Promoted(
        model_name=name,
        new_version=version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=notification_sent,
        alias=alias,
        audit_tags_written=audited,
    )


def _started_by_this_execution(version: ModelVersion, request: PromotionRequest, policy: PromotionPolicy) -> bool:
    return (
        policy.audit_tags
        and request.execution_id is not None
        and version.tag(EXECUTION_ID_TAG) == request.execution_id[:MAX_TAG_VALUE_LENGTH]
    )


def _finished(version: ModelVersion) -> bool:
    return version.tag(PROMOTED_AT_TAG) is not None


def _resolve_candidate(
    request: PromotionRequest, registry: Registry, policy: PromotionPolicy
) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    """The version to promote and its model (``None`` when the version is already the champion,
    which needs no more reads), or the answer that ends the request."""
    name = request.model_name
    if request.new_version is None:
        if policy.challenger_alias is not None:
            challenger = registry.get_version_by_alias(name, policy.challenger_alias)
            if challenger is not None:
                return _with_model(challenger, registry)
        model = registry.get_registered_model(name)
        if model is None:
            return _model_not_found(name)
        champion = _own_champion(model, request, registry, policy)
        if champion is not None:
            return champion, None  # this execution promoted it already: a retry (see promote())
        candidate = model.latest_in(ModelStage.STAGING)
        if candidate is None:
            return NotPromoted(ReasonCode.NO_STAGING_VERSION, NO_STAGING_VERSION_REASON, model_name=name)
        return candidate, model

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
    return _with_model(version, registry)


def _own_champion(
    model: RegisteredModel, request: PromotionRequest, registry: Registry, policy: PromotionPolicy
) -> ModelVersion | None:
    """The champion, if this execution promoted it: the request is a retry, finished or not.

    Without this check, a retry of the fallback path would promote the *next* Staging version, or
    answer ``NO_STAGING_VERSION`` for a promotion that succeeded. ``latest_versions`` carries no
    tags, so the champion is read when the request could be a retry (it names an execution).
    """
    champion = model.latest_in(ModelStage.PRODUCTION)
    if champion is None or request.execution_id is None or not policy.audit_tags:
        return None
    if not champion.tags:
        champion = registry.get_model_version(model.name, champion.version)
    if champion is not None and _started_by_this_execution(champion, request, policy):
        return champion
    return None


def _with_model(version: ModelVersion, registry: Registry) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    if version.in_production:
        return version, None
    model = registry.get_registered_model(version.name)
    if model is None:  # deleted between the two reads
        return _model_not_found(version.name)
    return version, model


def _already_champion(
    request: PromotionRequest, champion: ModelVersion, registry: Registry, policy: PromotionPolicy
) -> Promoted | DryRun:
    """Idempotent: nothing is transitioned, tagged or sent; only a stray champion alias is repaired."""
    alias = policy.promotion_alias
    if request.dry_run:
        return DryRun(request.model_name, champion.version, None, request.confidence, True, alias)
    if alias is not None and alias not in champion.aliases:
        alias = _point_alias(registry, champion.name, champion.version, alias)
    return Promoted(
        model_name=request.model_name,
        new_version=champion.version,
        archived_version=None,
        confidence=request.confidence,
        already_promoted=True,
        alias=alias,
    )


def _settle_champion(registry: Registry, name: str) -> str | None:
    """Verify that exactly one version is in Production, and repair it if not.

    MLflow's archive step does not lock, so concurrent promotions can leave several champions.
    Every invocation applies the same rule, so they converge instead of fighting: the version
    transitioned last (then the highest number) stays, the others are archived. Returns the champion,
    or ``None`` when it cannot be verified (the transition itself has succeeded either way).
    """
    try:
        champions = [v for v in registry.list_versions(name) if v.in_production]
        if not champions:
            return None
        winner = max(champions, key=lambda v: (v.last_updated_timestamp, int(v.version)))
        for other in champions:
            if other.version != winner.version:
                registry.archive(name, other.version)
    except PromotionError:
        return None
    return winner.version


def _point_alias(registry: Registry, name: str, version: str, alias: str | None) -> str | None:
    if alias is None:
        return None
    try:
        registry.set_alias(name, alias, version)
    except PromotionError:
        return None  # the promotion stands; an idempotent re-run repairs the alias
    return alias


def _write_audit_tags(
    registry: Registry,
    request: PromotionRequest,
    version: str,
    archived_version: str | None,
    policy: PromotionPolicy,
    at: datetime,
) -> bool:
    timestamp = _timestamp(at)
    promoted_tags = {
        "promoted_by": policy.actor,
        PREVIOUS_VERSION_TAG: archived_version or "none",
        "confidence": repr(request.confidence),
        "environment": policy.environment,
    }
    if request.execution_id is not None:
        promoted_tags[EXECUTION_ID_TAG] = request.execution_id
    written = _write_tags(registry, request.model_name, version, promoted_tags)
    if archived_version is not None:
        archived_tags = {"archived_at": timestamp, "superseded_by": version}
        written = _write_tags(registry, request.model_name, archived_version, archived_tags) and written
    return written


def _write_tags(registry: Registry, name: str, version: str, tags: dict[str, str]) -> bool:
    try:
        registry.set_version_tags(name, version, _within_limits(tags))
    except PromotionError:
        return False
    return True


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _within_limits(tags: dict[str, str]) -> dict[str, str]:
    return {key: value[:MAX_TAG_VALUE_LENGTH] for key, value in tags.items()}


def _model_not_found(name: str) -> NotPromoted:
    return NotPromoted(ReasonCode.MODEL_NOT_FOUND, f"No registered model named '{name}'", model_name=name)
