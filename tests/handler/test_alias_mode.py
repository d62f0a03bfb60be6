"""Alias mode (PROMOTION_MODE=alias), for registries without stages: every scenario of the stage
mode, against the real MLflow server, with the champion alias as the only fact and no stage touched."""

from __future__ import annotations

import pytest

from tests.reliability.race_worker import race
from tests.support import full_state, invoke, received_notifications, register_model

CONTENDERS = 4
TRIALS = 8


@pytest.fixture
def alias_env(lambda_env):
    lambda_env.setenv("PROMOTION_MODE", "alias")
    lambda_env.setenv("CHALLENGER_ALIAS", "challenger")
    return lambda_env


def _model(mlflow_client, versions: int, *, champion: str | None = "1", challenger: str | None = None) -> str:
    """A model with versions 1..n in no stage, the champion and challenger aliases where given."""
    name = register_model(mlflow_client, ["None"] * versions)
    if champion:
        mlflow_client.set_registered_model_alias(name, "champion", champion)
    if challenger:
        mlflow_client.set_registered_model_alias(name, "challenger", challenger)
    return name


def _holder(mlflow_client, name: str, alias: str = "champion") -> str:
    return mlflow_client.get_model_version_by_alias(name, alias).version


def _stages(mlflow_client, name: str) -> set[str]:
    return {stage for stage, *_ in full_state(mlflow_client, name).values()}


def test_promoting_moves_the_alias_and_records_the_previous_holder(alias_env, mlflow_client, alert_topic, sqs):
    name = _model(mlflow_client, 2)

    result = invoke({"model_name": name, "new_version": "2", "confidence": 0.9})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "2", "1")
    assert (result["new_stage"], result["alias"], result["audit_tags_written"]) == ("alias:champion", "champion", True)
    assert _holder(mlflow_client, name) == "2"
    assert _stages(mlflow_client, name) == {"None"}  # no stage changed
    archived = mlflow_client.get_model_version(name, "1").tags
    assert (archived["superseded_by"], "archived_at" in archived) == ("2", True)
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1


def test_without_a_version_the_challenger_is_promoted(alias_env, mlflow_client):
    name = _model(mlflow_client, 3, challenger="3")

    result = invoke({"model_name": name})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "3", "1")
    assert _holder(mlflow_client, name) == "3"


def test_a_version_already_holding_the_alias_is_idempotent(alias_env, mlflow_client):
    name = _model(mlflow_client, 2, champion="2")
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["promoted"], result["already_promoted"], result["new_stage"]) == (True, True, "alias:champion")
    assert full_state(mlflow_client, name) == before


@pytest.mark.parametrize(
    ("event", "reason_code"),
    [
        ({"new_version": "9"}, "VERSION_NOT_FOUND"),
        ({}, "NO_CHALLENGER_VERSION"),
    ],
)
def test_not_promoted_answers_change_nothing(alias_env, mlflow_client, event, reason_code):
    name = _model(mlflow_client, 2)
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, **event})

    assert (result["promoted"], result["reason_code"]) == (False, reason_code)
    assert full_state(mlflow_client, name) == before


def test_an_unknown_model_is_not_found(alias_env):
    result = invoke({"model_name": "NoSuchModel-alias-mode", "new_version": "1"})

    assert (result["promoted"], result["reason_code"]) == (False, "MODEL_NOT_FOUND")


def test_a_dry_run_changes_nothing(alias_env, mlflow_client):
    name = _model(mlflow_client, 2)
    before = full_state(mlflow_client, name)

    result = invoke({"model_name": name, "new_version": "2", "dry_run": True})

    assert (result["would_promote"], result["archived_version"], result["new_stage"]) == (True, "1", "alias:champion")
    assert full_state(mlflow_client, name) == before


def test_a_rollback_moves_the_alias_back(alias_env, mlflow_client):
    name = _model(mlflow_client, 2)
    invoke({"model_name": name, "new_version": "2"})

    result = invoke({"model_name": name, "rollback": True})
    again = invoke({"model_name": name, "rollback": True})

    assert (result["new_version"], result["rolled_back_from"]) == ("1", "2")
    assert _holder(mlflow_client, name) == "1"
    assert (again["promoted"], again["reason_code"]) == (False, "NO_ROLLBACK_TARGET")
    assert _stages(mlflow_client, name) == {"None"}


def test_concurrent_promotions_converge_on_one_holder(alias_env, mlflow_url, mlflow_client, moto):
    races = race(
        {"MLFLOW_TRACKING_URI": mlflow_url, "ALERTS_ENABLED": "false", "PROMOTION_MODE": "alias"},
        lambda: _model(mlflow_client, CONTENDERS + 1),
        trials=TRIALS,
        contenders=CONTENDERS,
    )
    outcomes = [(r.name, r.answers, _holder(mlflow_client, r.name)) for r in races]

    for name, answers, holder in outcomes:
        assert all("error" not in answer for answer in answers.values()), answers
        assert answers[holder]["promoted"] is True, (name, answers)  # the holder's invocation says so
        for version, answer in answers.items():
            if answer["promoted"] is False:
                assert (answer["reason_code"], version != holder) == ("SUPERSEDED", True)
        assert _stages(mlflow_client, name) == {"None"}
