"""The promotion gates against the real MLflow server: runs and metrics logged through MLflow's own
client, the function reading them back over REST. A gated-out promotion changes nothing."""

from __future__ import annotations

import math

import pytest

from promote_model.errors import ConfigurationError
from tests.support import S3_SOURCE, full_state, invoke, received_notifications, unique_model_name


def _run(mlflow_client, **metrics: float) -> str:
    """A finished run with the given metrics, logged through MLflow's client."""
    experiment = mlflow_client.get_experiment_by_name("gates") or None
    experiment_id = experiment.experiment_id if experiment else mlflow_client.create_experiment("gates")
    run_id = mlflow_client.create_run(experiment_id).info.run_id
    for key, value in metrics.items():
        mlflow_client.log_metric(run_id, key, value)
    mlflow_client.set_terminated(run_id)
    return run_id


def _model(mlflow_client, *versions: tuple[str, str | None]) -> str:
    """Versions 1..n, each (stage, run_id or None)."""
    name = unique_model_name("Gated")
    mlflow_client.create_registered_model(name)
    for stage, run_id in versions:
        version = mlflow_client.create_model_version(name, S3_SOURCE, run_id=run_id)
        if stage != "None":
            mlflow_client.transition_model_version_stage(name, version.version, stage)
    return name


def _champion_and_challenger(mlflow_client, champion_auc: float | None, challenger_auc: float | None) -> str:
    champion = _run(mlflow_client, **({"auc": champion_auc} if champion_auc is not None else {}))
    challenger = _run(mlflow_client, **({"auc": challenger_auc} if challenger_auc is not None else {}))
    return _model(mlflow_client, ("Production", champion), ("Staging", challenger))


@pytest.fixture
def metric_gate(lambda_env):
    lambda_env.setenv("GATE_METRIC", "auc")
    return lambda_env


def test_a_worse_challenger_is_refused_and_nothing_changes(metric_gate, mlflow_client, alert_topic, sqs):
    name = _champion_and_challenger(mlflow_client, 0.82, 0.79)
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "confidence": 0.9, "execution_id": "run-1"})

    assert (result["promoted"], result["reason_code"], result["new_version"]) == (False, "METRIC_NOT_IMPROVED", "2")
    assert "0.79" in result["reason"]
    assert "0.82" in result["reason"]
    assert full_state(mlflow_client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_a_better_challenger_is_promoted(metric_gate, mlflow_client):
    name = _champion_and_challenger(mlflow_client, 0.82, 0.85)

    result = invoke({"model_name": name, "confidence": 0.9})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "2", "1")
    assert mlflow_client.get_model_version(name, "2").current_stage == "Production"


def test_an_explicit_version_is_compared_with_the_champion_too(metric_gate, mlflow_client):
    name = _champion_and_challenger(mlflow_client, 0.82, 0.79)

    result = invoke({"model_name": name, "new_version": "2"})

    assert result["reason_code"] == "METRIC_NOT_IMPROVED"
    assert mlflow_client.get_model_version(name, "1").current_stage == "Production"


def test_the_minimum_improvement_and_the_minimize_goal(metric_gate, mlflow_client):
    metric_gate.setenv("GATE_METRIC", "loss")
    metric_gate.setenv("GATE_METRIC_GOAL", "minimize")
    metric_gate.setenv("GATE_MIN_IMPROVEMENT", "0.05")
    champion, slightly, clearly = (
        _run(mlflow_client, loss=0.30),
        _run(mlflow_client, loss=0.28),
        _run(mlflow_client, loss=0.25),
    )
    name = _model(mlflow_client, ("Production", champion), ("Staging", slightly), ("Staging", clearly))

    not_enough = invoke({"model_name": name, "new_version": "2"})
    enough = invoke({"model_name": name, "new_version": "3"})

    assert not_enough["reason_code"] == "METRIC_NOT_IMPROVED"
    assert (enough["promoted"], enough["new_version"], enough["archived_version"]) == (True, "3", "1")


@pytest.mark.parametrize(
    ("challenger_auc", "run", "why"),
    [(None, True, "was not logged"), (math.nan, True, "is NaN"), (None, False, "has no run")],
    ids=["metric-not-logged", "metric-nan", "no-run"],
)
def test_a_candidate_without_a_value_is_metric_missing(metric_gate, mlflow_client, challenger_auc, run, why):
    champion = _run(mlflow_client, auc=0.8)
    challenger = (
        (_run(mlflow_client, **({"auc": challenger_auc} if challenger_auc is not None else {}))) if run else None
    )
    name = _model(mlflow_client, ("Production", champion), ("Staging", challenger))
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name})

    assert (result["promoted"], result["reason_code"]) == (False, "METRIC_MISSING")
    assert why in result["reason"]
    assert full_state(mlflow_client, name) == before


@pytest.mark.parametrize(
    ("champion_stage", "champion_auc", "why"),
    [("Archived", 0.9, "no champion"), ("Production", None, "has no value"), ("Production", math.nan, "has no value")],
    ids=["no-champion", "champion-without-metric", "champion-nan"],
)
def test_without_a_champion_value_the_gate_passes_and_says_why(
    metric_gate, mlflow_client, champion_stage, champion_auc, why
):
    champion = _run(mlflow_client, **({"auc": champion_auc} if champion_auc is not None else {}))
    name = _model(mlflow_client, (champion_stage, champion), ("Staging", _run(mlflow_client, auc=0.5)))

    dry = invoke({"model_name": name, "dry_run": True})
    result = invoke({"model_name": name})

    [check] = dry["gates"]
    assert (check["gate"], check["passed"]) == ("GATE_METRIC", True)
    assert why in check["detail"]
    assert (result["promoted"], result["new_version"]) == (True, "2")


def test_confidence_below_the_minimum_is_refused(lambda_env, mlflow_client):
    lambda_env.setenv("MIN_CONFIDENCE", "0.8")
    name = _model(mlflow_client, ("Production", None), ("Staging", None))
    before = full_state(mlflow_client, name)

    low = invoke({"model_name": name, "confidence": 0.79})
    assert full_state(mlflow_client, name) == before
    enough = invoke({"model_name": name, "confidence": 0.8})

    assert (low["promoted"], low["reason_code"]) == (False, "CONFIDENCE_BELOW_MINIMUM")
    assert (enough["promoted"], enough["new_version"]) == (True, "2")


def test_a_candidate_without_a_required_tag_is_refused_naming_it(lambda_env, mlflow_client):
    lambda_env.setenv("REQUIRED_VERSION_TAGS", "validation_status=approved,team=quant")
    name = _model(mlflow_client, ("Production", None), ("Staging", None))
    mlflow_client.set_model_version_tag(name, "2", "team", "quant")
    mlflow_client.set_model_version_tag(name, "2", "validation_status", "pending")
    before = full_state(mlflow_client, name)

    refused = invoke({"model_name": name})
    assert full_state(mlflow_client, name) == before
    mlflow_client.set_model_version_tag(name, "2", "validation_status", "approved")
    promoted = invoke({"model_name": name})

    assert (refused["promoted"], refused["reason_code"]) == (False, "REQUIRED_TAG_MISSING")
    assert "validation_status=approved" in refused["reason"]
    assert "team=quant" not in refused["reason"]
    assert (promoted["promoted"], promoted["new_version"]) == (True, "2")


def test_a_dry_run_reports_every_gate(lambda_env, mlflow_client):
    lambda_env.setenv("MIN_CONFIDENCE", "0.5")
    lambda_env.setenv("REQUIRED_VERSION_TAGS", "validation_status=approved")
    lambda_env.setenv("GATE_METRIC", "auc")
    name = _champion_and_challenger(mlflow_client, 0.8, 0.7)
    mlflow_client.set_model_version_tag(name, "2", "validation_status", "approved")
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "confidence": 0.9, "dry_run": True})

    assert (result["promoted"], result["dry_run"], result["reason_code"]) == (False, True, "METRIC_NOT_IMPROVED")
    assert [(g["gate"], g["passed"]) for g in result["gates"]] == [
        ("MIN_CONFIDENCE", True),
        ("REQUIRED_VERSION_TAGS", True),
        ("GATE_METRIC", False),
    ]
    assert result["gates"][2]["reason_code"] == "METRIC_NOT_IMPROVED"
    assert full_state(mlflow_client, name) == before


def test_a_dry_run_without_gates_reports_an_empty_list(lambda_env, mlflow_client):
    name = _model(mlflow_client, ("Production", None), ("Staging", None))

    assert invoke({"model_name": name, "dry_run": True})["gates"] == []


def test_alias_mode_compares_with_the_alias_holder(metric_gate, mlflow_client):
    metric_gate.setenv("PROMOTION_MODE", "alias")
    metric_gate.setenv("CHALLENGER_ALIAS", "challenger")
    name = _model(mlflow_client, ("None", _run(mlflow_client, auc=0.8)), ("None", _run(mlflow_client, auc=0.7)))
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    mlflow_client.set_registered_model_alias(name, "challenger", "2")

    refused = invoke({"model_name": name})
    mlflow_client.log_metric(mlflow_client.get_model_version(name, "2").run_id, "auc", 0.9)
    promoted = invoke({"model_name": name})

    assert refused["reason_code"] == "METRIC_NOT_IMPROVED"
    assert (promoted["promoted"], promoted["new_version"], promoted["archived_version"]) == (True, "2", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "2"


def test_a_rollback_passes_no_gate(metric_gate, mlflow_client):
    metric_gate.setenv("MIN_CONFIDENCE", "0.9")
    name = _champion_and_challenger(mlflow_client, 0.7, 0.9)
    assert invoke({"model_name": name, "confidence": 0.95})["promoted"] is True

    result = invoke({"model_name": name, "rollback": True})

    assert (result["promoted"], result["new_version"], result["rolled_back_from"]) == (True, "1", "2")


def test_invalid_gate_settings_are_a_configuration_error(lambda_env):
    lambda_env.setenv("GATE_METRIC", "auc")
    lambda_env.setenv("GATE_METRIC_GOAL", "best")

    with pytest.raises(ConfigurationError, match="GATE_METRIC_GOAL"):
        invoke({"model_name": "PascalStrategy"})
