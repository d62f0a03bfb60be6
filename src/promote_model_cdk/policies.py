"""The promotion policies as construct options: the mode (``stage``, ``alias``, ``copy`` with its
target model) and the promotion gates, checked at synthesis and turned into the function's settings
(docs/promotion-policies.md). Tokens pass through unchecked."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from aws_cdk import Token

PromotionMode = Literal["stage", "alias", "copy"]
MetricGoal = Literal["maximize", "minimize"]
PROMOTION_MODES = ("stage", "alias", "copy")
MODEL_NAME_PLACEHOLDER = "{model_name}"
# MLflow's rule for metric keys, as the function enforces it.
_METRIC_KEY = re.compile(r"[\w\-./ ]{1,250}")
# The extra MLflow routes (SageMaker IAM actions) each policy calls beyond a stage or alias promotion.
COPY_MODE_ACTIONS = ["sagemaker-mlflow:CreateModelVersion", "sagemaker-mlflow:CreateRegisteredModel"]
METRIC_GATE_ACTIONS = ["sagemaker-mlflow:GetRun"]


@dataclass(frozen=True)
class PromotionGates:
    """Checks on a candidate before anything is written; a failed one answers ``promoted: false``
    with its reason code. Every gate is off by default.

    - ``min_confidence``: the event's confidence must be at least this (0 to 1).
    - ``required_version_tags``: tags (key to value) the candidate version must carry.
    - ``metric``: a metric logged on the candidate's run, which must beat the champion's run's value
      by at least ``min_improvement`` (``metric_goal`` ``maximize``, or ``minimize`` for a loss).
    """

    min_confidence: float = 0.0
    """The lowest confidence an event may carry (``MIN_CONFIDENCE``); 0: no gate."""
    required_version_tags: Mapping[str, str] = field(default_factory=dict)
    """Tags the candidate must carry with these values (``REQUIRED_VERSION_TAGS``), e.g. ``{"validation_status": "approved"}``."""
    metric: str | None = None
    """A metric of the candidate's run compared with the champion's (``GATE_METRIC``); ``None``: no gate."""
    metric_goal: MetricGoal = "maximize"
    """``maximize`` (higher is better) or ``minimize`` (a loss), ``GATE_METRIC_GOAL``."""
    min_improvement: float = 0.0
    """How much better than the champion the candidate must be (``GATE_MIN_IMPROVEMENT``, at least 0)."""

    def __post_init__(self) -> None:
        if not _number_in(self.min_confidence, 0.0, 1.0):
            raise ValueError(f"gates.min_confidence must be a number from 0 to 1, got {self.min_confidence!r}")
        for key, value in self.required_version_tags.items():
            if not isinstance(key, str) or not key.strip() or "," in key or "=" in key:
                raise ValueError(f"gates.required_version_tags: {key!r} is not a tag key (no ',' or '=')")
            if not isinstance(value, str) or "," in value:
                raise ValueError(f"gates.required_version_tags: the value of {key!r} must be text without ','")
        if self.metric is not None and not Token.is_unresolved(self.metric) and not _METRIC_KEY.fullmatch(self.metric):
            raise ValueError(f"gates.metric must be an MLflow metric key, got {self.metric[:40]!r}")
        if self.metric_goal not in ("maximize", "minimize"):
            raise ValueError(f"gates.metric_goal must be 'maximize' or 'minimize', got {self.metric_goal!r}")
        if not _number_in(self.min_improvement, 0.0, math.inf):
            raise ValueError(
                f"gates.min_improvement must be a finite number of at least 0, got {self.min_improvement!r}"
            )
        if self.metric is None and (self.metric_goal != "maximize" or self.min_improvement != 0):
            raise ValueError("gates.metric_goal and gates.min_improvement need gates.metric: the metric compared")

    def _settings(self) -> dict[str, str]:
        settings: dict[str, str] = {}
        if self.min_confidence:
            settings["MIN_CONFIDENCE"] = repr(float(self.min_confidence))
        if self.required_version_tags:
            settings["REQUIRED_VERSION_TAGS"] = ",".join(f"{k}={v}" for k, v in self.required_version_tags.items())
        if self.metric is not None:
            settings["GATE_METRIC"] = self.metric
            settings["GATE_METRIC_GOAL"] = self.metric_goal
            settings["GATE_MIN_IMPROVEMENT"] = repr(float(self.min_improvement))
        return settings


def policy_settings(
    *, mode: str, target_model_name: str | None, promotion_alias: str | None, gates: PromotionGates | None
) -> dict[str, str]:
    """The function's settings for the mode and the gates; none for the defaults (stage mode, no gate)."""
    if mode not in PROMOTION_MODES:
        raise ValueError(f"promotion_mode must be one of {', '.join(PROMOTION_MODES)}, got {mode!r}")
    if mode in ("alias", "copy") and not promotion_alias:
        raise ValueError(f"promotion_mode={mode!r} needs promotion_alias: the alias is what a promotion moves")
    if (mode == "copy") != (target_model_name is not None):
        raise ValueError("target_model_name is required with promotion_mode='copy', and only then")
    if target_model_name is not None and not Token.is_unresolved(target_model_name):
        _check_target(target_model_name)
    settings = {} if mode == "stage" else {"PROMOTION_MODE": mode}
    if target_model_name is not None:
        settings["TARGET_MODEL_NAME"] = target_model_name
    return {**settings, **(gates._settings() if gates is not None else {})}


def extra_registry_actions(*, mode: str, gates: PromotionGates | None) -> list[str]:
    """The SageMaker MLflow IAM actions the policies add to those of every promotion."""
    return [*(COPY_MODE_ACTIONS if mode == "copy" else []), *(METRIC_GATE_ACTIONS if gates and gates.metric else [])]


def _check_target(value: str) -> None:
    fixed = value.replace(MODEL_NAME_PLACEHOLDER, "")
    if "{" in fixed or "}" in fixed or value == MODEL_NAME_PLACEHOLDER:
        raise ValueError(
            f"target_model_name must be a model name or a template with {MODEL_NAME_PLACEHOLDER} "
            f"(e.g. prod-{MODEL_NAME_PLACEHOLDER}), got {value[:60]!r}"
        )
    if not fixed.isprintable() or any(c in fixed for c in "/:") or value != value.strip() or len(fixed) > 256:
        raise ValueError(f"target_model_name must be printable, without '/' or ':', got {value[:60]!r}")


def _number_in(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and low <= value <= high
    )
