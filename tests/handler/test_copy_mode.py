"""Copy mode (PROMOTION_MODE=copy) against the real MLflow server: the candidate is resolved on the
source model, copied into the environment's model as ``copy_model_version`` does, and promoted there
by the champion alias. A retry or re-run never copies twice."""

from __future__ import annotations

import pytest

from promote_model.errors import ConfigurationError
from tests.support import S3_SOURCE, full_state, invoke, received_notifications, unique_model_name


@pytest.fixture
def copy_env(lambda_env):
    lambda_env.setenv("PROMOTION_MODE", "copy")
    lambda_env.setenv("TARGET_MODEL_NAME", "prod-{model_name}")
    return lambda_env


def _source(mlflow_client, *stages: str, auc: list[float] | None = None) -> str:
    """A source model whose versions 1..n are in the given stages, each with its own run."""
    name = unique_model_name("Dev")
    mlflow_client.create_registered_model(name)
    experiment = mlflow_client.get_experiment_by_name("copy-mode")
    experiment_id = experiment.experiment_id if experiment else mlflow_client.create_experiment("copy-mode")
    for index, stage in enumerate(stages):
        run_id = mlflow_client.create_run(experiment_id).info.run_id
        if auc is not None:
            mlflow_client.log_metric(run_id, "auc", auc[index])
        version = mlflow_client.create_model_version(name, S3_SOURCE, run_id=run_id)
        if stage != "None":
            mlflow_client.transition_model_version_stage(name, version.version, stage)
    return name


def _target_versions(mlflow_client, target: str) -> list:
    return sorted(mlflow_client.search_model_versions(f"name = '{target}'"), key=lambda v: int(v.version))


def test_the_candidate_is_copied_into_the_target_model_and_made_its_champion(copy_env, mlflow_client, alert_topic, sqs):
    name = _source(mlflow_client, "Staging")
    mlflow_client.set_model_version_tag(name, "1", "validation_status", "approved")
    source_before = full_state(mlflow_client, name)
    target = f"prod-{name}"

    result = invoke({"model_name": name, "confidence": 0.9, "execution_id": "run-1"})

    assert result["promoted"] is True
    assert (result["model_name"], result["new_version"], result["archived_version"]) == (target, "1", None)
    assert (result["new_stage"], result["alias"]) == ("alias:champion", "champion")
    assert (result["source_model_name"], result["source_version"]) == (name, "1")
    [copy] = _target_versions(mlflow_client, target)
    assert copy.source == f"models:/{name}/1"
    assert copy.run_id == mlflow_client.get_model_version(name, "1").run_id
    assert (copy.tags["source_model_name"], copy.tags["source_version"]) == (name, "1")
    assert copy.tags["validation_status"] == "approved"  # the source's own tags come along
    assert (copy.tags["execution_id"], "promoted_at" in copy.tags) == ("run-1", True)
    assert mlflow_client.get_model_version_by_alias(target, "champion").version == "1"
    assert full_state(mlflow_client, name) == source_before  # the source model is only read
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert target in notification["Message"]


def test_the_next_source_version_replaces_the_champion_in_the_target(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging", "Staging")
    target = f"prod-{name}"
    invoke({"model_name": name, "new_version": "1"})

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["new_version"], result["archived_version"], result["source_version"]) == ("2", "1", "2")
    assert mlflow_client.get_model_version_by_alias(target, "champion").version == "2"
    assert mlflow_client.get_model_version(target, "1").tags["superseded_by"] == "2"
    assert {v.current_stage for v in _target_versions(mlflow_client, target)} == {"None"}


def test_the_audit_trail_of_the_source_is_not_copied(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging")
    for key, value in {"promoted_at": "2026-01-01T00:00:00Z", "execution_id": "elsewhere", "team": "quant"}.items():
        mlflow_client.set_model_version_tag(name, "1", key, value)

    invoke({"model_name": name})

    tags = mlflow_client.get_model_version(f"prod-{name}", "1").tags
    assert tags["team"] == "quant"
    assert tags["promoted_at"] != "2026-01-01T00:00:00Z"
    assert "execution_id" not in tags


def test_a_rerun_of_the_same_source_version_answers_already_promoted_without_a_second_copy(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging")
    target = f"prod-{name}"
    first = invoke({"model_name": name, "execution_id": "run-1"})
    before = full_state(mlflow_client, target)

    retry = invoke({"model_name": name, "execution_id": "run-1"})
    rerun = invoke({"model_name": name, "execution_id": "run-2"})

    assert (first["promoted"], first["already_promoted"]) == (True, False)
    for again in (retry, rerun):
        assert (again["promoted"], again["already_promoted"], again["new_version"]) == (True, True, "1")
        assert (again["model_name"], again["source_version"]) == (target, "1")
    assert full_state(mlflow_client, target) == before


def test_a_copy_whose_answer_was_lost_is_found_by_its_tags_not_copied_again(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging")
    target = f"prod-{name}"
    # What a creation whose answer never came back leaves: the tagged copy, no alias.
    mlflow_client.create_registered_model(target)
    mlflow_client.create_model_version(
        target, f"models:/{name}/1", tags={"source_model_name": name, "source_version": "1"}
    )

    result = invoke({"model_name": name})

    assert (result["promoted"], result["already_promoted"], result["new_version"]) == (True, False, "1")
    assert len(_target_versions(mlflow_client, target)) == 1
    assert mlflow_client.get_model_version_by_alias(target, "champion").version == "1"


def test_a_copy_of_another_source_model_is_not_taken_for_ours(copy_env, mlflow_client):
    copy_env.setenv("TARGET_MODEL_NAME", "shared-prod")
    first, second = _source(mlflow_client, "Staging"), _source(mlflow_client, "Staging")
    target = "shared-prod"
    if not mlflow_client.search_registered_models(f"name = '{target}'"):
        mlflow_client.create_registered_model(target)
    count = len(_target_versions(mlflow_client, target))

    one = invoke({"model_name": first})
    other = invoke({"model_name": second})

    assert one["new_version"] != other["new_version"]
    assert (other["source_model_name"], other["archived_version"]) == (second, one["new_version"])
    assert len(_target_versions(mlflow_client, target)) == count + 2


def test_a_dry_run_copies_nothing_and_names_the_source(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging")

    result = invoke({"model_name": name, "dry_run": True})

    assert (result["dry_run"], result["would_promote"], result["new_version"]) == (True, True, None)
    assert (result["model_name"], result["source_model_name"], result["source_version"]) == (f"prod-{name}", name, "1")
    assert mlflow_client.search_registered_models(f"name = 'prod-{name}'") == []


def test_a_gate_compares_with_the_target_champion_and_refuses_before_copying(copy_env, mlflow_client):
    copy_env.setenv("GATE_METRIC", "auc")
    name = _source(mlflow_client, "Staging", "Staging", auc=[0.8, 0.7])
    target = f"prod-{name}"
    assert invoke({"model_name": name, "new_version": "1"})["promoted"] is True
    before = full_state(mlflow_client, target)

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["promoted"], result["reason_code"]) == (False, "METRIC_NOT_IMPROVED")
    assert full_state(mlflow_client, target) == before  # no copy, no alias moved


def test_a_rollback_restores_the_previous_copy_in_the_target(copy_env, mlflow_client):
    name = _source(mlflow_client, "Staging", "Staging")
    target = f"prod-{name}"
    for version in ("1", "2"):
        invoke({"model_name": name, "new_version": version})

    result = invoke({"model_name": name, "rollback": True})

    assert (result["promoted"], result["model_name"], result["new_version"]) == (True, target, "1")
    assert (result["rolled_back_from"], result["source_version"]) == ("2", "1")
    assert mlflow_client.get_model_version_by_alias(target, "champion").version == "1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TARGET_MODEL_NAME": ""}, "TARGET_MODEL_NAME"),
        ({"TARGET_MODEL_NAME": "prod-{name}"}, "placeholder"),
        ({"TARGET_MODEL_NAME": "{model_name}"}, "another model"),
        ({"TARGET_MODEL_NAME": "prod/{model_name}"}, "TARGET_MODEL_NAME"),
        ({"PROMOTION_ALIAS": ""}, "PROMOTION_ALIAS"),
    ],
)
def test_copy_mode_settings_are_checked(copy_env, environ, message):
    for key, value in environ.items():
        copy_env.setenv(key, value)

    with pytest.raises(ConfigurationError, match=message):
        invoke({"model_name": "PascalStrategy"})
