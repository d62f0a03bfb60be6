"""The promotion rules: the spec's flowchart, docs/design.md §2, the champion alias, the audit trail and the
convergence rule for concurrent promotions. No network call of their own: the registry and the
alert publisher are passed in, and so is ``together``, which runs independent calls at once;
everything here is decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from promote_model.alerts import DEFAULT_SUBJECT_PREFIX, PromotionNotice
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
from promote_model.together import Together, one_after_another, raise_first_error

READY = "READY"
MAX_TAG_VALUE_LENGTH = 5000  # MLflow's limit for a model version tag value
EXECUTION_ID_TAG = "execution_id"
PREVIOUS_VERSION_TAG = "previous_version"
PROMOTED_AT_TAG = "promoted_at"  # its presence marks a finished promotion
# A concurrent promotion that could leave a second champion transitions within moments of ours; the
# verification reads the versions updated since our transition minus this much (server clock).
CONCURRENCY_WINDOW_MS = 60_000


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


@dataclass(frozen=True)
class _Context:
    request: PromotionRequest
    registry: Registry
    publisher: AlertPublisher | None
    policy: PromotionPolicy
    together: Together
    now: Callable[[], datetime]

    @property
    def name(self) -> str:
        return self.request.model_name


def promote(
    request: PromotionRequest,
    *,
    registry: Registry,
    publisher: AlertPublisher | None,
    policy: PromotionPolicy,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    together: Together = one_after_another,
) -> PromotionResult:
    context = _Context(request, registry, publisher, policy, together, now)
    resolved = _resolve_candidate(context)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, model = resolved

    if candidate.in_production or model is None:
        if _started_by_this_execution(candidate, context) and not _finished(candidate) and not request.dry_run:
            # This execution transitioned the version, but its answer was lost before the alias,
            # tags and notification: finish them, once (promoted_at marks a finished promotion).
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            archived = None if recorded in (None, "none") else recorded
            return _complete(context, candidate, archived)
        return _already_champion(context, candidate)
    if candidate.status != READY:
        return NotPromoted(
            ReasonCode.VERSION_NOT_READY,
            f"Version {candidate.version} of model '{context.name}' is not ready: its status is {candidate.status}",
            model_name=context.name,
            new_version=candidate.version,
            dry_run=request.dry_run,
        )
    previous = model.latest_in(ModelStage.PRODUCTION)
    archived_version = previous.version if previous is not None else None
    if request.dry_run:
        return DryRun(
            context.name, candidate.version, archived_version, request.confidence, False, policy.promotion_alias
        )

    transitioned = _transition(context, candidate.version, archived_version)
    return _complete(context, transitioned, archived_version)


def _transition(context: _Context, version: str, archived_version: str | None) -> ModelVersion:
    """The one atomic MLflow call. With audit tags and an execution id, the version is tagged with
    them at the same moment, so that a retry of this execution can tell a promotion it started (whose
    answer was lost) from one made by someone else, and finish it. Those two tags are best effort."""
    name, request = context.name, context.request
    transition = partial(context.registry.transition_to_production, name, version)
    if not (context.policy.audit_tags and request.execution_id is not None):
        return transition()
    intent = {EXECUTION_ID_TAG: request.execution_id, PREVIOUS_VERSION_TAG: archived_version or "none"}
    results = context.together(transition, *_tag_writes(context, version, intent))
    return raise_first_error(results[:1])[0]


def _complete(context: _Context, version: ModelVersion, archived_version: str | None) -> Promoted | NotPromoted:
    """After the transition: verify one champion, then announce it (or step aside for the winner)."""
    champion = _settle_champion(context, version)
    if champion is not None and champion != version.version:
        return NotPromoted(
            ReasonCode.SUPERSEDED,
            f"Version {version.version} of model '{context.name}' was promoted, then superseded by a concurrent "
            f"promotion of version {champion}, which is the champion now",
            model_name=context.name,
            new_version=version.version,
        )
    return _announce(context, version.version, archived_version)


def _announce(context: _Context, version: str, archived_version: str | None) -> Promoted:
    """What follows a verified transition, all at once and each best effort: the alias, the audit tags
    (``promoted_at`` among them) and the notification. A failure is reported per field."""
    request, policy = context.request, context.policy
    alias = policy.promotion_alias
    notice = PromotionNotice(
        model_name=context.name,
        new_version=version,
        previous_version=archived_version,
        confidence=request.confidence,
        environment=policy.environment,
        registry_name=policy.registry_name,
        alias=alias,
        subject_prefix=policy.subject_prefix,
    )
    alias_write = [partial(context.registry.set_alias, context.name, alias, version)] if alias else []
    tag_writes = _audit_tag_writes(context, version, archived_version) if policy.audit_tags else []
    publish = [partial(context.publisher.publish, notice)] if context.publisher is not None else []
    results = context.together(*alias_write, *tag_writes, *publish)

    alias_result, results = results[: len(alias_write)], results[len(alias_write) :]
    tag_results, publish_result = results[: len(tag_writes)], results[len(tag_writes) :]
    alias_pointed = alias if alias and not isinstance(alias_result[0], PromotionError) else None
    return Promoted(
        model_name=context.name,
        new_version=version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=bool(publish_result) and publish_result[0] is True,
        alias=alias_pointed,  # the promotion stands without it; an idempotent re-run repairs it
        audit_tags_written=bool(tag_writes) and not any(isinstance(r, PromotionError) for r in tag_results),
    )


def _started_by_this_execution(version: ModelVersion, context: _Context) -> bool:
    execution_id = context.request.execution_id
    return (
        context.policy.audit_tags
        and execution_id is not None
        and version.tag(EXECUTION_ID_TAG) == execution_id[:MAX_TAG_VALUE_LENGTH]
    )


def _finished(version: ModelVersion) -> bool:
    return version.tag(PROMOTED_AT_TAG) is not None


def _resolve_candidate(context: _Context) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    """The version to promote and its model (``None`` when the version is already the champion),
    or the answer that ends the request. Reads that do not depend on each other go out together."""
    name, registry, request = context.name, context.registry, context.request
    if request.new_version is None:
        challenger_alias = context.policy.challenger_alias
        if challenger_alias is not None:
            challenger, model = raise_first_error(
                context.together(
                    partial(registry.get_version_by_alias, name, challenger_alias),
                    partial(registry.get_registered_model, name),
                )
            )
            if model is None:
                return _model_not_found(name)
            if challenger is not None:
                return challenger, None if challenger.in_production else model
        else:
            model = registry.get_registered_model(name)
            if model is None:
                return _model_not_found(name)
        champion = _own_champion(context, model)
        if champion is not None:
            return champion, None  # this execution promoted it already: a retry (see promote())
        candidate = model.latest_in(ModelStage.STAGING)
        if candidate is None:
            return NotPromoted(ReasonCode.NO_STAGING_VERSION, NO_STAGING_VERSION_REASON, model_name=name)
        return candidate, model

    version, model = raise_first_error(
        context.together(
            partial(registry.get_model_version, name, request.new_version),
            partial(registry.get_registered_model, name),
        )
    )
    if model is None:
        return _model_not_found(name)
    if version is None:
        return NotPromoted(
            ReasonCode.VERSION_NOT_FOUND,
            f"Model '{name}' has no version {request.new_version}",
            model_name=name,
            new_version=request.new_version,
        )
    return version, None if version.in_production else model


def _own_champion(context: _Context, model: RegisteredModel) -> ModelVersion | None:
    """The champion, if this execution promoted it: the request is a retry, finished or not.

    Without this check, a retry of the fallback path would promote the *next* Staging version, or
    answer ``NO_STAGING_VERSION`` for a promotion that succeeded. ``latest_versions`` carries no
    tags, so the champion is read when the request could be a retry (it names an execution).
    """
    champion = model.latest_in(ModelStage.PRODUCTION)
    if champion is None or context.request.execution_id is None or not context.policy.audit_tags:
        return None
    if not champion.tags:
        champion = context.registry.get_model_version(model.name, champion.version)
    if champion is not None and _started_by_this_execution(champion, context):
        return champion
    return None


def _already_champion(context: _Context, champion: ModelVersion) -> Promoted | DryRun:
    """Idempotent: nothing is transitioned, tagged or sent; only a stray champion alias is repaired."""
    request, alias = context.request, context.policy.promotion_alias
    if request.dry_run:
        return DryRun(request.model_name, champion.version, None, request.confidence, True, alias)
    if alias is not None and alias not in champion.aliases:
        [outcome] = context.together(partial(context.registry.set_alias, champion.name, alias, champion.version))
        alias = None if isinstance(outcome, PromotionError) else alias
    return Promoted(
        model_name=request.model_name,
        new_version=champion.version,
        archived_version=None,
        confidence=request.confidence,
        already_promoted=True,
        alias=alias,
    )


def _settle_champion(context: _Context, promoted: ModelVersion) -> str | None:
    """Verify that exactly one version is in Production, and repair it if not.

    MLflow's archive step does not lock, so concurrent promotions can leave several champions. Our
    transition archived every version in Production when it ran, so any other champion now was
    transitioned at about the same moment: the versions updated since then (newest first, one page
    whatever the model's history) are the ones to check. Every invocation applies the same rule, so
    they converge instead of fighting: the version transitioned last (then the highest number) stays,
    the others are archived. Returns the champion, or ``None`` when it cannot be verified (the
    transition itself has succeeded either way).
    """
    since = promoted.last_updated_timestamp - CONCURRENCY_WINDOW_MS
    try:
        recent = context.registry.versions_updated_since(context.name, since)
    except PromotionError:
        return None
    champions = [v for v in recent if v.in_production]
    if not champions:
        return None
    winner = max(champions, key=lambda v: (v.last_updated_timestamp, int(v.version)))
    losers = [partial(context.registry.archive, context.name, v.version) for v in champions if v != winner]
    if any(isinstance(result, PromotionError) for result in context.together(*losers)):
        return None
    return winner.version


def _audit_tag_writes(context: _Context, version: str, archived_version: str | None) -> list[Callable[[], None]]:
    request, policy = context.request, context.policy
    timestamp = _timestamp(context.now())
    promoted_tags = {
        "promoted_by": policy.actor,
        PREVIOUS_VERSION_TAG: archived_version or "none",
        "confidence": repr(request.confidence),
        "environment": policy.environment,
        PROMOTED_AT_TAG: timestamp,
    }
    if request.execution_id is not None:
        promoted_tags[EXECUTION_ID_TAG] = request.execution_id
    writes = _tag_writes(context, version, promoted_tags)
    if archived_version is not None:
        writes += _tag_writes(context, archived_version, {"archived_at": timestamp, "superseded_by": version})
    return writes


def _tag_writes(context: _Context, version: str, tags: dict[str, str]) -> list[Callable[[], None]]:
    """One write per tag: MLflow has no batch tag call for model versions."""
    return [
        partial(context.registry.set_version_tag, context.name, version, key, value[:MAX_TAG_VALUE_LENGTH])
        for key, value in tags.items()
    ]


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _model_not_found(name: str) -> NotPromoted:
    return NotPromoted(ReasonCode.MODEL_NOT_FOUND, f"No registered model named '{name}'", model_name=name)
