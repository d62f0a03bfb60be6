"""Copy mode, one registered model per environment (MLflow's recommendation since stages were
deprecated): the candidate is resolved on the source model as in stage mode, copied into the
environment's model the way ``MlflowClient.copy_model_version`` does (a new version whose source
is ``models:/<source>/<version>``, with its run), and promoted there by moving the champion alias,
as in alias mode.

The copy carries the tags ``source_model_name`` and ``source_version``, written in the same call
that creates it, so the same source version again (a retry, a re-run, a lost answer) finds its
copy instead of making a second one.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from promote_model.errors import RegistryResponseError
from promote_model.gate_settings import GateSettings
from promote_model.promotion.alias_mode import promote_by_alias
from promote_model.promotion.audit import AUDIT_TAG_KEYS
from promote_model.promotion.candidates import READY, not_ready, resolve_candidate
from promote_model.promotion.gates import check_gates
from promote_model.promotion.policy import Context, Registry
from promote_model.promotion.rollback import is_champion
from promote_model.registry import ModelVersion, VersionDraft
from promote_model.request import MAX_MODEL_NAME_LENGTH
from promote_model.results import (
    DryRun,
    GateCheck,
    NotPromoted,
    Promoted,
    PromotionResult,
    ReasonCode,
    SourceVersion,
)
from promote_model.together import raise_first_error

SOURCE_MODEL_TAG = "source_model_name"
SOURCE_VERSION_TAG = "source_version"


def promote_by_copy(context: Context) -> PromotionResult:
    request, policy, registry = context.request, context.policy, context.registry
    target = policy.target_name(context.name)
    if len(target) > MAX_MODEL_NAME_LENGTH:
        return NotPromoted(
            ReasonCode.INVALID_REQUEST,
            f"The target model's name would be {len(target)} characters long, more than {MAX_MODEL_NAME_LENGTH}",
            model_name=context.name,
            dry_run=request.dry_run,
        )
    if request.rollback:  # within the target model, exactly as in alias mode
        return _with_source(registry, promote_by_alias(_in_target(context, target, None)), None)

    resolved = resolve_candidate(context)
    if isinstance(resolved, NotPromoted):
        return replace(resolved, dry_run=request.dry_run)
    candidate, _ = resolved
    source = SourceVersion(context.name, candidate.version)
    if candidate.status != READY:
        return not_ready(context, candidate)
    alias = policy.promotion_alias
    assert alias is not None  # the settings refuse copy mode without a promotion alias
    copies, holder = raise_first_error(
        context.together(
            partial(registry.versions_tagged, target, SOURCE_VERSION_TAG, candidate.version),
            partial(registry.get_version_by_alias, target, alias),
        )
    )
    copy = next((v for v in copies if v.tag(SOURCE_MODEL_TAG) == context.name), None)
    checks: tuple[GateCheck, ...] = ()
    if copy is None or not is_champion(copy, policy):
        checks, refused = check_gates(context, candidate, holder)
        if refused is not None:
            return refused
    if copy is None and request.dry_run:
        archived = holder.version if holder is not None else None
        return DryRun(
            target,
            None,
            archived,
            request.confidence,
            False,
            alias,
            new_stage=policy.champion_label,
            gates=checks,
            source=source,
        )
    if copy is None:
        copy = _copy(context, candidate, target)
    result = promote_by_alias(_in_target(context, target, copy.version))
    return _with_source(registry, replace(result, gates=checks) if isinstance(result, DryRun) else result, source)


def _copy(context: Context, candidate: ModelVersion, target: str) -> ModelVersion:
    """``copy_model_version`` over REST: the source's own tags (never its audit trail, which is the
    source model's record) and the two that name it; the target model is created when missing."""
    if not candidate.tags:  # a version from latest_versions may come without its tags (MLflow 2)
        candidate = context.registry.get_model_version(context.name, candidate.version) or candidate
    tags = {key: value for key, value in candidate.tags if key not in AUDIT_TAG_KEYS}
    tags.update({SOURCE_MODEL_TAG: context.name, SOURCE_VERSION_TAG: candidate.version})
    draft = VersionDraft(
        name=target,
        source=f"models:/{context.name}/{candidate.version}",
        run_id=candidate.run_id,
        tags=tuple(tags.items()),
        find_by=(SOURCE_VERSION_TAG, candidate.version),
    )
    copy = context.registry.create_model_version(draft)
    if copy is None:  # no target model yet
        context.registry.create_registered_model(target)
        copy = context.registry.create_model_version(draft)
    if copy is None:
        raise RegistryResponseError(f"MLflow has no model {target[:60]!r} right after creating it")
    return copy


def _in_target(context: Context, target: str, version: str | None) -> Context:
    """The promotion of ``version`` in the target model, as alias mode runs it (the gates were
    checked on the source's candidate already)."""
    request = replace(context.request, model_name=target, new_version=version)
    return replace(context, request=request, policy=replace(context.policy, gates=GateSettings()))


def _with_source(registry: Registry, result: PromotionResult, source: SourceVersion | None) -> PromotionResult:
    """The result with the source version it was copied from (for a rollback: read from its tags)."""
    if not isinstance(result, Promoted | DryRun) or result.new_version is None:
        return result
    if source is None:
        restored = registry.get_model_version(result.model_name, result.new_version)
        name = restored.tag(SOURCE_MODEL_TAG) if restored is not None else None
        version = restored.tag(SOURCE_VERSION_TAG) if restored is not None else None
        source = SourceVersion(name, version) if name is not None and version is not None else None
    return replace(result, source=source)
