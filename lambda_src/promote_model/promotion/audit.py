"""The audit trail: the tags a promotion leaves on the versions it touches, and what they tell a
retry (did this execution start the promotion, and did it finish it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from promote_model.promotion.policy import Context
from promote_model.registry import ModelVersion

MAX_TAG_VALUE_LENGTH = 5000  # MLflow's limit for a model version tag value
EXECUTION_ID_TAG = "execution_id"
PREVIOUS_VERSION_TAG = "previous_version"
PROMOTED_AT_TAG = "promoted_at"  # its presence marks a finished promotion: every side effect done
# The execution whose notification / promoted event was delivered: a retry of it does not send again
# (the value is the execution id, so a marker left by an earlier promotion of the version never counts).
NOTIFIED_FOR_TAG = "notification_sent_for"
EVENT_SENT_FOR_TAG = "event_sent_for"
ROLLED_BACK_FROM_TAG = "rolled_back_from"  # on a version a rollback restored: the champion it replaced
ROLLED_BACK_TO_TAG = "rolled_back_to"  # on a champion a rollback abandoned: never a rollback target again
ARCHIVED_AT_TAG = "archived_at"
SUPERSEDED_BY_TAG = "superseded_by"


def started_by_this_execution(version: ModelVersion, context: Context) -> bool:
    execution_id = context.request.execution_id
    return (
        context.policy.audit_tags
        and execution_id is not None
        and version.tag(EXECUTION_ID_TAG) == execution_id[:MAX_TAG_VALUE_LENGTH]
    )


def delivered_for(version: ModelVersion | None, marker: str, context: Context) -> bool:
    """Whether ``marker`` on the version says this execution already delivered that side effect."""
    execution_id = context.request.execution_id
    return (
        version is not None and execution_id is not None and version.tag(marker) == execution_id[:MAX_TAG_VALUE_LENGTH]
    )


def finished(version: ModelVersion) -> bool:
    return version.tag(PROMOTED_AT_TAG) is not None


def version_or_none(tag_value: str) -> str | None:
    return None if tag_value == "none" else tag_value


def audit_tag_writes(context: Context, version: str, archived_version: str | None) -> list[Callable[[], None]]:
    """The audit tags but the finishing marker (``promoted_at``), which is written only after them
    and after every promised side effect (``marker_writes``)."""
    request, policy = context.request, context.policy
    timestamp = timestamp_now(context)
    promoted_tags = {
        "promoted_by": policy.actor,
        PREVIOUS_VERSION_TAG: archived_version or "none",
        "confidence": repr(request.confidence),
        "environment": policy.environment,
    }
    if request.execution_id is not None:
        promoted_tags[EXECUTION_ID_TAG] = request.execution_id
    if request.approved_by is not None:
        promoted_tags["approved_by"] = request.approved_by
    writes = tag_writes(context, version, promoted_tags)
    if archived_version is not None:
        writes += tag_writes(context, archived_version, {ARCHIVED_AT_TAG: timestamp, SUPERSEDED_BY_TAG: version})
    return writes


def tag_writes(context: Context, version: str, tags: dict[str, str]) -> list[Callable[[], None]]:
    """One write per tag: MLflow has no batch tag call for model versions."""
    return [
        partial(context.registry.set_version_tag, context.name, version, key, value[:MAX_TAG_VALUE_LENGTH])
        for key, value in tags.items()
    ]


def timestamp_now(context: Context) -> str:
    return _timestamp(context.now())


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
