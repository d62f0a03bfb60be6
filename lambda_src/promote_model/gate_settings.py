"""The promotion gates' settings (``MIN_CONFIDENCE``, ``REQUIRED_VERSION_TAGS``, ``GATE_METRIC``,
``GATE_METRIC_GOAL``, ``GATE_MIN_IMPROVEMENT``), read from the environment and validated once.

A bad value raises ``ConfigurationError`` naming the variable: a gate that cannot be read must
never silently let every promotion through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from promote_model.errors import ConfigurationError

MAXIMIZE, MINIMIZE = "maximize", "minimize"
# MLflow's rule for metric keys: letters, digits, '_', '-', '.', ' ' and '/', at most 250 characters.
_METRIC_KEY = re.compile(r"[\w\-./ ]{1,250}")
MAX_REQUIRED_TAGS = 50
# A reason quotes at most this much of a rejected value.
_QUOTE_LIMIT = 40


@dataclass(frozen=True)
class GateSettings:
    min_confidence: float = 0.0  # 0: every confidence passes
    required_tags: tuple[tuple[str, str], ...] = ()  # (key, value) the candidate must carry
    metric: str | None = None  # None: no metric gate
    metric_goal: str = MAXIMIZE
    min_improvement: float = 0.0

    @property
    def configured(self) -> bool:
        return self.min_confidence > 0 or bool(self.required_tags) or self.metric is not None


def gates_from_environ(environ: Mapping[str, str]) -> GateSettings:
    def optional(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    metric = optional("GATE_METRIC")
    goal, min_improvement = optional("GATE_METRIC_GOAL"), optional("GATE_MIN_IMPROVEMENT")
    if metric is None and (goal is not None or min_improvement is not None):
        unused = "GATE_METRIC_GOAL" if goal is not None else "GATE_MIN_IMPROVEMENT"
        raise ConfigurationError(f"{unused} is set but GATE_METRIC is not: name the metric the gate compares")
    if metric is not None and not _METRIC_KEY.fullmatch(metric):
        raise ConfigurationError(
            "GATE_METRIC must be an MLflow metric key (letters, digits, '_', '-', '.', ' ' or '/', "
            f"at most 250 characters), got {metric[:_QUOTE_LIMIT]!r}"
        )
    return GateSettings(
        min_confidence=_number(optional("MIN_CONFIDENCE"), "MIN_CONFIDENCE", maximum=1.0),
        required_tags=_required_tags(optional("REQUIRED_VERSION_TAGS")),
        metric=metric,
        metric_goal=_goal(goal),
        min_improvement=_number(min_improvement, "GATE_MIN_IMPROVEMENT", maximum=None),
    )


def _number(raw: str | None, name: str, *, maximum: float | None) -> float:
    if raw is None:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    upper = f" and at most {maximum:g}" if maximum is not None else ""
    if not math.isfinite(value) or value < 0 or (maximum is not None and value > maximum):
        raise ConfigurationError(f"{name} must be a number of at least 0{upper}, got {raw[:_QUOTE_LIMIT]!r}")
    return value


def _goal(raw: str | None) -> str:
    value = (raw or MAXIMIZE).lower()
    if value not in (MAXIMIZE, MINIMIZE):
        raise ConfigurationError(f"GATE_METRIC_GOAL must be 'maximize' or 'minimize', got {value[:_QUOTE_LIMIT]!r}")
    return value


def _required_tags(raw: str | None) -> tuple[tuple[str, str], ...]:
    """``key=value[,key=value...]``: each key once, around each part spaces are ignored."""
    if raw is None:
        return ()
    tags: dict[str, str] = {}
    for part in raw.split(","):
        key, equals, value = (piece.strip() for piece in part.partition("="))
        if not equals or not key:
            raise ConfigurationError(
                f"REQUIRED_VERSION_TAGS must be key=value[,key=value...], got the part {part.strip()[:_QUOTE_LIMIT]!r}"
            )
        if key in tags and tags[key] != value:
            raise ConfigurationError(f"REQUIRED_VERSION_TAGS asks for two values of the tag {key[:_QUOTE_LIMIT]!r}")
        tags[key] = value
    if len(tags) > MAX_REQUIRED_TAGS:
        raise ConfigurationError(f"REQUIRED_VERSION_TAGS names more than {MAX_REQUIRED_TAGS} tags")
    return tuple(tags.items())
