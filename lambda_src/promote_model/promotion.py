"""The promotion rules: the spec's flowchart, docs/design.md §2, the champion alias, the audit trail and the
convergence rule for concurrent promotions. No network call of their own: the registry and the
alert publisher are passed in, and so is ``together``, which runs independent calls at once;
everything here is decisions.
"""

from __future__ import annotations

import random
import time
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
ROLLED_BACK_FROM_TAG = "rolled_back_from"  # on a version a rollback restored: the champion it replaced
ROLLED_BACK_TO_TAG = "rolled_back_to"  # on a champion a rollback abandoned: never a rollback target again
# A concurrent promotion that could leave a second champion transitions within moments of ours; the
# verification reads the versions updated since our transition minus this much (server clock).
CONCURRENCY_WINDOW_MS = 60_000
STAGE_MODE, ALIAS_MODE = "stage", "alias"
# The verification reads, repairs and reads again until exactly one champion is left, at most this
# many rounds; when concurrent transitions left none, it pauses up to 0.2 s, 0.4 s, 0.8 s, ... first.
MAX_SETTLE_ROUNDS = 6
EMPTY_REPAIR_JITTER_SECONDS = 0.2


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
class _Context:
    request: PromotionRequest
    registry: Registry
    publisher: AlertPublisher | None
    policy: PromotionPolicy
    together: Together
    now: Callable[[], datetime]
    pause: Callable[[float], None]

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
    pause: Callable[[float], None] = time.sleep,
) -> PromotionResult:
    context = _Context(request, registry, publisher, policy, together, now, pause)
    if policy.alias_mode:
        return _promote_by_alias(context)
    resolved = _resolve_candidate(context)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, model = resolved

    if candidate.in_production:
        if _started_by_this_execution(candidate, context) and not _finished(candidate) and not request.dry_run:
            # This execution transitioned the version, but its answer was lost before the alias,
            # tags and notification: finish them, once (promoted_at marks a finished promotion).
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            return _complete(context, candidate, UNKNOWN if recorded is None else _version_or_none(recorded))
        return _already_champion(context, candidate)
    if candidate.status != READY:
        return NotPromoted(
            ReasonCode.VERSION_NOT_READY,
            f"Version {candidate.version} of model '{context.name}' is not ready: its status is {candidate.status}",
            model_name=context.name,
            new_version=candidate.version,
            dry_run=request.dry_run,
        )
    if model is None and request.dry_run:  # a dry run must name the champion it would archive
        model = context.registry.get_registered_model(context.name)
        if model is None:
            return replace(_model_not_found(context.name), dry_run=True)
    archived_version: Archived = UNKNOWN
    if model is not None:
        previous = model.latest_in(ModelStage.PRODUCTION)
        archived_version = previous.version if previous is not None else None
    if request.dry_run:
        assert not isinstance(archived_version, _Unknown)
        return DryRun(
            context.name, candidate.version, archived_version, request.confidence, False, policy.promotion_alias
        )

    transitioned = _transition(context, candidate.version, archived_version)
    return _complete(context, transitioned, archived_version)


class _Unknown:
    """The previous champion, before the verification read names it (see ``_complete``)."""


UNKNOWN = _Unknown()
Archived = str | None | _Unknown


def _version_or_none(tag_value: str) -> str | None:
    return None if tag_value == "none" else tag_value


def _transition(context: _Context, version: str, archived_version: Archived) -> ModelVersion:
    """The one atomic MLflow call. With audit tags and an execution id, the version is tagged with
    them at the same moment, so that a retry of this execution can tell a promotion it started (whose
    answer was lost) from one made by someone else, and finish it. Those tags are best effort."""
    name, request = context.name, context.request
    transition = partial(context.registry.transition_to_production, name, version)
    if not (context.policy.audit_tags and request.execution_id is not None):
        return transition()
    intent = {EXECUTION_ID_TAG: request.execution_id}
    if not isinstance(archived_version, _Unknown):
        intent[PREVIOUS_VERSION_TAG] = archived_version or "none"
    results = context.together(transition, *_tag_writes(context, version, intent))
    return raise_first_error(results[:1])[0]


def _complete(context: _Context, version: ModelVersion, archived: Archived) -> Promoted | NotPromoted:
    """After the transition: verify one champion, then announce it (or step aside for the winner).

    When the previous champion was not read before the transition (an explicit version needs only its
    own read), the verification read names it: MLflow archives it in the transition's own write, with
    the transition's timestamp — a flat cost, where reading the model grows with its history."""
    champion, recent = _settle_champion(context, version)
    archived_version = _archived_by(version, recent) if isinstance(archived, _Unknown) else archived
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
    (``promoted_at`` among them) and the notification. A failure is reported per field. (In alias
    mode the alias was the promotion itself, so it is not written again.)"""
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
        rollback=request.rollback and archived_version is not None,
    )
    alias_write = [partial(context.registry.set_alias, context.name, alias, version)] if alias else []
    if policy.alias_mode:
        alias_write = []
    tag_writes = _audit_tag_writes(context, version, archived_version) if policy.audit_tags else []
    if request.rollback and archived_version is not None:
        # Written even without audit tags: a rollback never returns to a champion it abandoned.
        tag_writes += _tag_writes(context, version, {ROLLED_BACK_FROM_TAG: archived_version})
        tag_writes += _tag_writes(context, archived_version, {ROLLED_BACK_TO_TAG: version})
    publish = [partial(context.publisher.publish, notice)] if context.publisher is not None else []
    results = context.together(*alias_write, *tag_writes, *publish)

    alias_result, results = results[: len(alias_write)], results[len(alias_write) :]
    tag_results, publish_result = results[: len(tag_writes)], results[len(tag_writes) :]
    alias_pointed = alias if alias and (policy.alias_mode or not isinstance(alias_result[0], PromotionError)) else None
    return Promoted(
        model_name=context.name,
        new_version=version,
        archived_version=archived_version,
        confidence=request.confidence,
        already_promoted=False,
        notification_sent=bool(publish_result) and publish_result[0] is True,
        alias=alias_pointed,  # the promotion stands without it; an idempotent re-run repairs it
        audit_tags_written=policy.audit_tags and not any(isinstance(r, PromotionError) for r in tag_results),
        rolled_back_from=archived_version if request.rollback else None,
        new_stage=policy.champion_label,
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
    if request.rollback:
        return _resolve_rollback(context)
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
                return challenger, model
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

    # An explicit version needs only its own read: when it is the champion, that read is the whole
    # (idempotent) request; otherwise the previous champion is learned after the transition.
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
    return version, None


def _resolve_rollback(context: _Context) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    """The version the current champion replaced (its ``previous_version`` tag), else the most
    recently archived version — never one a rollback abandoned (``rolled_back_to``), so rolling back
    twice steps further back in history (A→B, back to A, back to A's predecessor) instead of
    swinging between two versions. A retry of this execution's own rollback is answered as such."""
    name, registry, policy = context.name, context.registry, context.policy
    model = registry.get_registered_model(name)
    if model is None:
        return _model_not_found(name)
    if policy.alias_mode:
        assert policy.promotion_alias is not None
        champion = registry.get_version_by_alias(name, policy.promotion_alias)
    else:
        latest = model.latest_in(ModelStage.PRODUCTION)
        champion = registry.get_model_version(name, latest.version) if latest is not None else None
    if champion is None:
        return _no_rollback_target(name, f"it has no champion ({policy.champion_label}) to roll back from")
    if _started_by_this_execution(champion, context):
        return champion, None  # a retry of this rollback (see promote())

    def eligible(version: ModelVersion | None) -> bool:
        return (
            version is not None
            and version.version != champion.version
            and not _is_champion(version, policy)
            and version.status == READY
            and version.tag(ROLLED_BACK_TO_TAG) is None
        )

    recorded = champion.tag(PREVIOUS_VERSION_TAG)
    if recorded not in (None, "none"):
        previous = registry.get_model_version(name, recorded)
        if eligible(previous):
            assert previous is not None
            return previous, model
    for version in _archived_newest_first(registry.versions_updated_since(name, 0), policy):
        if eligible(version):
            return version, model
    return _no_rollback_target(name, f"no earlier champion of version {champion.version} can be restored")


def _archived_newest_first(versions: list[ModelVersion], policy: PromotionPolicy) -> list[ModelVersion]:
    """Former champions, most recently archived first: in stage mode the ``Archived`` stage (the
    search answers newest first); in alias mode the versions tagged ``archived_at``."""
    if not policy.alias_mode:
        return [v for v in versions if v.current_stage == ModelStage.ARCHIVED.value]
    tagged = [v for v in versions if v.tag("archived_at") is not None]
    return sorted(tagged, key=lambda v: v.tag("archived_at") or "", reverse=True)


def _is_champion(version: ModelVersion, policy: PromotionPolicy) -> bool:
    if policy.alias_mode:
        return policy.promotion_alias in version.aliases
    return version.in_production


def _no_rollback_target(name: str, why: str) -> NotPromoted:
    return NotPromoted(ReasonCode.NO_ROLLBACK_TARGET, f"Model '{name}' cannot be rolled back: {why}", model_name=name)


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
        return DryRun(
            request.model_name,
            champion.version,
            None,
            request.confidence,
            True,
            alias,
            new_stage=context.policy.champion_label,
        )
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
        new_stage=context.policy.champion_label,
    )


def _archived_by(promoted: ModelVersion, recent: list[ModelVersion]) -> str | None:
    archived = [
        v
        for v in recent
        if v.current_stage == ModelStage.ARCHIVED.value
        and v.last_updated_timestamp == promoted.last_updated_timestamp
        and v.version != promoted.version
    ]
    return max(archived, key=lambda v: int(v.version)).version if archived else None


def _settle_champion(context: _Context, promoted: ModelVersion) -> tuple[str | None, list[ModelVersion]]:
    """Verify that exactly one version is in Production, and repair it if not.

    MLflow's archive step does not lock, so concurrent promotions can leave several champions, or
    none (two transitions each archiving the other). Our transition archived every version in
    Production when it ran, so any other champion now was transitioned at about the same moment: the
    versions updated since then (newest first, one page whatever the model's history) are the ones
    to check. Every invocation applies the same rule, so they converge instead of fighting: the
    version transitioned last (then the highest number) stays, the others are archived; when none is
    left, each waits a random moment and, if there is still none, transitions its own version again
    (whoever goes first wins; the others then see it). Returns the champion, or ``None`` when it
    cannot be verified (the transition itself has succeeded either way), and the versions the first
    verification read found.
    """
    since = promoted.last_updated_timestamp - CONCURRENCY_WINDOW_MS
    registry, name = context.registry, context.name
    try:
        recent = registry.versions_updated_since(name, since)
        champions = _champions(recent)
        for attempt in range(MAX_SETTLE_ROUNDS):
            if len(champions) == 1:
                return champions[0].version, recent
            if champions:
                # Archive the losers, then look again: a version archived on a stale view may have been
                # transitioned again meanwhile, and only a fresh read can say one champion is left.
                winner = max(champions, key=lambda v: (v.last_updated_timestamp, int(v.version)))
                losers = [partial(registry.archive, name, v.version) for v in champions if v != winner]
                if any(isinstance(result, PromotionError) for result in context.together(*losers)):
                    return None, recent
            else:
                # None left: wait a random moment (longer each round, so that contenders spread out),
                # and if there is still none, restore our own; whoever goes first wins.
                context.pause(random.uniform(0.0, EMPTY_REPAIR_JITTER_SECONDS * 2**attempt))
                if not _champions(registry.versions_updated_since(name, since)):
                    registry.transition_to_production(name, promoted.version)
            champions = _champions(registry.versions_updated_since(name, since))
    except PromotionError:
        return None, []
    return None, recent


def _champions(versions: list[ModelVersion]) -> list[ModelVersion]:
    return [v for v in versions if v.in_production]


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
    if request.approved_by is not None:
        promoted_tags["approved_by"] = request.approved_by
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


def _promote_by_alias(context: _Context) -> PromotionResult:
    """Alias mode, for registries without stages: the champion is the version holding the promotion
    alias, and promoting moves the alias (one atomic MLflow call). The previous holder is the
    ``archived_version`` and is recorded as archived in its tags; no stage changes. Concurrent
    promotions converge by construction (the alias points at one version); each reads it back, and
    one whose version no longer holds it answers ``SUPERSEDED``."""
    request, policy, registry, name = context.request, context.policy, context.registry, context.name
    alias = policy.promotion_alias
    assert alias is not None  # the settings refuse alias mode without a promotion alias
    resolved = _resolve_rollback(context) if request.rollback else _resolve_by_alias(context, alias)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, holder = resolved if not request.rollback else (resolved[0], None)
    if request.rollback and not _is_champion(candidate, policy):
        holder = registry.get_version_by_alias(name, alias)

    if _is_champion(candidate, policy):
        if _started_by_this_execution(candidate, context) and not _finished(candidate) and not request.dry_run:
            recorded = candidate.tag(PREVIOUS_VERSION_TAG)
            return _complete_by_alias(context, candidate.version, None if recorded in (None, "none") else recorded)
        return _already_champion(context, candidate)
    if candidate.status != READY:
        return NotPromoted(
            ReasonCode.VERSION_NOT_READY,
            f"Version {candidate.version} of model '{name}' is not ready: its status is {candidate.status}",
            model_name=name,
            new_version=candidate.version,
            dry_run=request.dry_run,
        )
    archived_version = holder.version if isinstance(holder, ModelVersion) else None
    if request.dry_run:
        return DryRun(
            name, candidate.version, archived_version, request.confidence, False, alias, new_stage=policy.champion_label
        )
    move = partial(registry.set_alias, name, alias, candidate.version)
    intent: dict[str, str] = {}
    if policy.audit_tags and request.execution_id is not None:
        intent = {EXECUTION_ID_TAG: request.execution_id, PREVIOUS_VERSION_TAG: archived_version or "none"}
    raise_first_error(context.together(move, *_tag_writes(context, candidate.version, intent))[:1])
    return _complete_by_alias(context, candidate.version, archived_version)


def _complete_by_alias(context: _Context, version: str, archived_version: str | None) -> Promoted | NotPromoted:
    alias = context.policy.promotion_alias
    assert alias is not None
    try:
        holder = context.registry.get_version_by_alias(context.name, alias)
    except PromotionError:
        holder = None  # cannot verify; the move itself succeeded
    if holder is not None and holder.version != version:
        return NotPromoted(
            ReasonCode.SUPERSEDED,
            f"Version {version} of model '{context.name}' was promoted, then superseded by a concurrent "
            f"promotion of version {holder.version}, which holds the alias '{alias}' now",
            model_name=context.name,
            new_version=version,
        )
    return _announce(context, version, archived_version)


def _resolve_by_alias(context: _Context, alias: str) -> tuple[ModelVersion, ModelVersion | None] | NotPromoted:
    """The version to promote and the current champion (the alias holder), or the answer that ends the request."""
    request, registry, name = context.request, context.registry, context.name
    if request.new_version is not None:
        wanted: Callable[[], ModelVersion | None] = partial(registry.get_model_version, name, request.new_version)
    elif context.policy.challenger_alias is not None:
        wanted = partial(registry.get_version_by_alias, name, context.policy.challenger_alias)
    else:
        wanted = lambda: None  # noqa: E731 - nothing to read: the answer below names the setting
    candidate, holder = raise_first_error(context.together(wanted, partial(registry.get_version_by_alias, name, alias)))
    if candidate is None:
        if registry.get_registered_model(name) is None:
            return _model_not_found(name)
        if request.new_version is not None:
            return NotPromoted(
                ReasonCode.VERSION_NOT_FOUND,
                f"Model '{name}' has no version {request.new_version}",
                model_name=name,
                new_version=request.new_version,
            )
        challenger = context.policy.challenger_alias
        why = f"no version holds the challenger alias '{challenger}'" if challenger else "CHALLENGER_ALIAS is not set"
        return NotPromoted(
            ReasonCode.NO_CHALLENGER_VERSION, f"No challenger version of model '{name}': {why}", model_name=name
        )
    return candidate, holder
