"""The champion history, read back from the audit tags a promotion leaves (``promote-model history``).

Each version a promotion made champion carries ``promoted_at`` and the rest of the trail; the
history lists them newest first. The tags belong to a version, so a version made champion twice
(promoted, replaced, restored by a rollback) shows its latest promotion. In copy mode the champions
live in the environment's model, so that is the model read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cmp_to_key
from itertools import groupby
from typing import Any, Protocol

from promote_model.promotion.audit import (
    EXECUTION_ID_TAG,
    PREVIOUS_VERSION_TAG,
    PROMOTED_AT_TAG,
    ROLLED_BACK_FROM_TAG,
    ROLLED_BACK_TO_TAG,
    version_or_none,
)
from promote_model.promotion.copy_mode import SOURCE_MODEL_TAG, SOURCE_VERSION_TAG
from promote_model.registry import ModelVersion, RegisteredModel

DEFAULT_LIMIT = 20
_COLUMNS = ("version", "promoted_at", "promoted_by", "previous_version", "execution_id", "note")


class HistoryRegistry(Protocol):
    def get_registered_model(self, name: str) -> RegisteredModel | None: ...

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion | None: ...

    def versions_updated_since(self, name: str, since_ms: int) -> list[ModelVersion]: ...


@dataclass(frozen=True)
class ChampionRecord:
    version: str
    promoted_at: str
    promoted_by: str | None
    previous_version: str | None
    execution_id: str | None
    approved_by: str | None
    rollback: bool  # restored by a rollback
    rolled_back_from: str | None  # the champion the rollback replaced
    rolled_back_to: str | None  # a champion a later rollback abandoned: the version it restored
    current: bool  # the champion now
    source_model_name: str | None = None  # copy mode: where the version was copied from
    source_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_history(
    registry: HistoryRegistry, name: str, *, alias: str | None, stage_mode: bool, limit: int
) -> list[ChampionRecord] | None:
    """The model's champions, newest first, at most ``limit``; ``None`` when there is no such model."""
    if registry.get_registered_model(name) is None:
        return None
    versions = registry.versions_updated_since(name, 0)
    holder = None if stage_mode or alias is None else registry.get_version_by_alias(name, alias)

    def is_current(version: ModelVersion) -> bool:
        return version.in_production if stage_mode else holder is not None and holder.version == version.version

    records = [_record(v, is_current(v)) for v in versions if v.tag(PROMOTED_AT_TAG) is not None]
    return _newest_first(records)[:limit]


def _newest_first(records: list[ChampionRecord]) -> list[ChampionRecord]:
    """By ``promoted_at`` (whole seconds); promotions within the same second by succession."""
    ordered = sorted(records, key=lambda r: (r.promoted_at, int(r.version)), reverse=True)
    result: list[ChampionRecord] = []
    for _, same_second in groupby(ordered, key=lambda r: r.promoted_at):
        result += sorted(same_second, key=cmp_to_key(_succession))
    return result


def _succession(a: ChampionRecord, b: ChampionRecord) -> int:
    """Negative when ``a`` came after ``b``: the current champion is the newest, a rollback comes
    after the champion it replaced, a promotion after its previous champion."""

    def later(x: ChampionRecord, y: ChampionRecord) -> bool:
        if x.current or y.current:
            return x.current
        # A rollback from y restored x (whose previous_version is y as well); otherwise x replaced y.
        return x.rolled_back_from == y.version or (x.previous_version == y.version and y.rolled_back_from != x.version)

    if later(a, b):
        return -1
    if later(b, a):
        return 1
    return int(b.version) - int(a.version)


def _record(version: ModelVersion, current: bool) -> ChampionRecord:
    previous = version.tag(PREVIOUS_VERSION_TAG)
    rolled_back_from = version.tag(ROLLED_BACK_FROM_TAG)
    return ChampionRecord(
        version=version.version,
        promoted_at=version.tag(PROMOTED_AT_TAG) or "",
        promoted_by=version.tag("promoted_by"),
        previous_version=version_or_none(previous) if previous is not None else None,
        execution_id=version.tag(EXECUTION_ID_TAG),
        approved_by=version.tag("approved_by"),
        rollback=rolled_back_from is not None,
        rolled_back_from=rolled_back_from,
        rolled_back_to=version.tag(ROLLED_BACK_TO_TAG),
        current=current,
        source_model_name=version.tag(SOURCE_MODEL_TAG),
        source_version=version.tag(SOURCE_VERSION_TAG),
    )


def format_table(name: str, records: list[ChampionRecord]) -> str:
    """A table for people: one champion a line, newest first, the current one and rollbacks marked."""
    if not records:
        return f"{name}: no promotion recorded (audit tags are written by promotions with AUDIT_TAGS_ENABLED)."
    rows = [_COLUMNS, *(_row(record) for record in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([f"Champions of {name}, newest first:", *lines])


def _row(record: ChampionRecord) -> tuple[str, ...]:
    notes = []
    if record.current:
        notes.append("current champion")
    if record.rollback:
        notes.append(f"rollback from version {record.rolled_back_from}")
    if record.rolled_back_to is not None:
        notes.append(f"rolled back to version {record.rolled_back_to}")
    if record.source_model_name is not None:
        notes.append(f"copy of {record.source_model_name} version {record.source_version}")
    if record.approved_by is not None:
        notes.append(f"approved by {record.approved_by}")
    return (
        record.version,
        record.promoted_at,
        record.promoted_by or "-",
        record.previous_version or "-",
        record.execution_id or "-",
        "; ".join(notes),
    )
