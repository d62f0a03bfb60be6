"""The gate arithmetic and the gate settings: pure functions, no server."""

from __future__ import annotations

import math

import pytest

from promote_model.errors import ConfigurationError
from promote_model.gate_settings import MAXIMIZE, MINIMIZE, GateSettings, gates_from_environ
from promote_model.promotion.gates import improvement, meets


@pytest.mark.parametrize(
    ("candidate", "champion", "goal", "gained"),
    [
        (0.9, 0.8, MAXIMIZE, 0.1),
        (0.8, 0.9, MAXIMIZE, -0.1),
        (0.2, 0.3, MINIMIZE, 0.1),
        (0.3, 0.2, MINIMIZE, -0.1),
        (-1.0, -3.0, MAXIMIZE, 2.0),  # negative metrics (a log-likelihood)
        (-3.0, -1.0, MINIMIZE, 2.0),
    ],
)
def test_improvement_is_signed_by_the_goal(candidate, champion, goal, gained):
    assert improvement(candidate, champion, goal) == pytest.approx(gained)


@pytest.mark.parametrize("goal", [MAXIMIZE, MINIMIZE])
def test_equal_values_meet_a_zero_minimum_and_no_positive_one(goal):
    gained = improvement(0.75, 0.75, goal)

    assert gained == 0
    assert meets(gained, 0.0) is True
    assert meets(gained, 0.001) is False


def test_a_negative_improvement_never_meets_a_minimum():
    assert meets(improvement(0.7, 0.8, MAXIMIZE), 0.0) is False
    assert meets(-1e-9, 0.0) is False


def test_float_rounding_does_not_decide_an_exact_minimum():
    gained = improvement(0.9, 0.8, MAXIMIZE)

    assert gained < 0.1  # 0.09999999999999998 in binary floating point
    assert meets(gained, 0.1) is True
    assert meets(improvement(0.9, 0.8, MAXIMIZE), 0.1000001) is False


@pytest.mark.parametrize(("candidate", "champion"), [(math.nan, 0.5), (0.5, math.nan), (math.nan, math.nan)])
def test_nan_never_meets_a_minimum(candidate, champion):
    gained = improvement(candidate, champion, MAXIMIZE)

    assert math.isnan(gained)
    assert meets(gained, 0.0) is False


def test_no_gate_settings_configure_no_gate():
    gates = gates_from_environ({})

    assert gates == GateSettings()
    assert gates.configured is False


def test_every_gate_setting_is_read():
    gates = gates_from_environ(
        {
            "MIN_CONFIDENCE": "0.8",
            "REQUIRED_VERSION_TAGS": " validation_status=approved , team = quant ",
            "GATE_METRIC": "val/auc",
            "GATE_METRIC_GOAL": "Minimize",
            "GATE_MIN_IMPROVEMENT": "0.01",
        }
    )

    assert gates == GateSettings(
        min_confidence=0.8,
        required_tags=(("validation_status", "approved"), ("team", "quant")),
        metric="val/auc",
        metric_goal=MINIMIZE,
        min_improvement=0.01,
    )
    assert gates.configured is True


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"MIN_CONFIDENCE": "1.5"}, "MIN_CONFIDENCE"),
        ({"MIN_CONFIDENCE": "-0.1"}, "MIN_CONFIDENCE"),
        ({"MIN_CONFIDENCE": "nan"}, "MIN_CONFIDENCE"),
        ({"MIN_CONFIDENCE": "high"}, "MIN_CONFIDENCE"),
        ({"REQUIRED_VERSION_TAGS": "validation_status"}, "REQUIRED_VERSION_TAGS"),
        ({"REQUIRED_VERSION_TAGS": "=approved"}, "REQUIRED_VERSION_TAGS"),
        ({"REQUIRED_VERSION_TAGS": "a=1,,b=2"}, "REQUIRED_VERSION_TAGS"),
        ({"REQUIRED_VERSION_TAGS": "a=1,a=2"}, "REQUIRED_VERSION_TAGS"),
        ({"GATE_METRIC": "auc;drop"}, "GATE_METRIC"),
        ({"GATE_METRIC": "auc", "GATE_METRIC_GOAL": "highest"}, "GATE_METRIC_GOAL"),
        ({"GATE_METRIC": "auc", "GATE_MIN_IMPROVEMENT": "-0.01"}, "GATE_MIN_IMPROVEMENT"),
        ({"GATE_METRIC": "auc", "GATE_MIN_IMPROVEMENT": "inf"}, "GATE_MIN_IMPROVEMENT"),
        ({"GATE_METRIC_GOAL": "minimize"}, "GATE_METRIC_GOAL"),
        ({"GATE_MIN_IMPROVEMENT": "0.1"}, "GATE_MIN_IMPROVEMENT"),
    ],
)
def test_invalid_gate_settings_are_a_configuration_error_naming_the_setting(environ, named):
    with pytest.raises(ConfigurationError, match=named):
        gates_from_environ(environ)
