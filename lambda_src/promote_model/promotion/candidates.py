"""Candidate resolution: which version a request promotes (an explicit ``new_version``, the
challenger alias, the latest Staging version), or the answer that ends the request."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from promote_model.promotion.audit import started_by_this_execution
from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion, RegisteredModel
from promote_model.results import NO_STAGING_VERSION_REASON, NotPromoted, ReasonCode
from promote_model.stages import ModelStage
from promote_model.together import raise_first_error

READY = "READY"


def resolve_candidate(context: Context) -> tuple[ModelVersion, RegisteredModel | None] | NotPromoted:
    """Stage and copy mode: the version to promote and its model (``None`` when the version is already the
    champion), or the answer that ends the request. Reads that do not depend on each other go out together."""
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
                return model_not_found(name)
            if challenger is not None:
                return challenger, model
        else:
            model = registry.get_registered_model(name)
            if model is None:
                return model_not_found(name)
        # In copy mode the source's champion is no record of this execution: its copy is (copy_mode).
        champion = None if context.policy.copy_mode else _own_champion(context, model)
        if champion is not None:
            return champion, None  # this execution promoted it already: a retry (see stage_mode)
        candidate = model.latest_in(ModelStage.STAGING)
        if candidate is None:
            return NotPromoted(ReasonCode.NO_STAGING_VERSION, NO_STAGING_VERSION_REASON, model_name=name)
        return candidate, model

    # An explicit version needs only its own read: when it is the champion, that read is the whole
    # (idempotent) request; otherwise the previous champion is learned after the transition.
    version = registry.get_model_version(name, request.new_version)
    if version is None:
        if registry.get_registered_model(name) is None:
            return model_not_found(name)
        return _version_not_found(name, request.new_version)
    return version, None


def resolve_by_alias(context: Context, alias: str) -> tuple[ModelVersion, ModelVersion | None] | NotPromoted:
    """Alias mode: the version to promote and the current champion (the alias holder), or the answer
    that ends the request."""
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
            return model_not_found(name)
        if request.new_version is not None:
            return _version_not_found(name, request.new_version)
        challenger = context.policy.challenger_alias
        why = f"no version holds the challenger alias '{challenger}'" if challenger else "CHALLENGER_ALIAS is not set"
        return NotPromoted(
            ReasonCode.NO_CHALLENGER_VERSION, f"No challenger version of model '{name}': {why}", model_name=name
        )
    return candidate, holder


def not_ready(context: Context, candidate: ModelVersion) -> NotPromoted:
    return NotPromoted(
        ReasonCode.VERSION_NOT_READY,
        f"Version {candidate.version} of model '{context.name}' is not ready: its status is {candidate.status}",
        model_name=context.name,
        new_version=candidate.version,
        dry_run=context.request.dry_run,
    )


def model_not_found(name: str) -> NotPromoted:
    return NotPromoted(ReasonCode.MODEL_NOT_FOUND, f"No registered model named '{name}'", model_name=name)


def _version_not_found(name: str, version: str) -> NotPromoted:
    return NotPromoted(
        ReasonCode.VERSION_NOT_FOUND, f"Model '{name}' has no version {version}", model_name=name, new_version=version
    )


def _own_champion(context: Context, model: RegisteredModel) -> ModelVersion | None:
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
    if champion is not None and started_by_this_execution(champion, context):
        return champion
    return None
