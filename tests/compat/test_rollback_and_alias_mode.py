"""Rollback and alias mode (PROMOTION_MODE=alias) against every tested MLflow server.

Both lean on routes the stage-mode promotion uses less (the version search that finds the
previous champion, the alias read-back that settles an alias-mode promotion), so they run on each
version too.
"""

from __future__ import annotations

import pytest

from tests.support import full_state, invoke, register_model, stages


def test_a_rollback_restores_the_version_the_champion_replaced(compat_env):
    client = compat_env.client
    name = register_model(client, ["Staging", "Staging"])
    for version in ("1", "2"):
        assert invoke({"model_name": name, "new_version": version})["promoted"] is True

    result = invoke({"model_name": name, "rollback": True})
    again = invoke({"model_name": name, "rollback": True})

    assert (result["new_version"], result["archived_version"], result["rolled_back_from"]) == ("1", "2", "2")
    assert stages(client, name) == {"1": "Production", "2": "Archived"}
    assert client.get_model_version(name, "2").tags["rolled_back_to"] == "1"
    assert (again["promoted"], again["reason_code"]) == (False, "NO_ROLLBACK_TARGET")


@pytest.fixture
def alias_mode(compat_env, lambda_env):
    lambda_env.setenv("PROMOTION_MODE", "alias")
    lambda_env.setenv("CHALLENGER_ALIAS", "challenger")
    return compat_env


def _model_with_aliases(client, versions: int, **aliases: str) -> str:
    """Versions 1..n in no stage, each alias pointed at its version."""
    name = register_model(client, ["None"] * versions)
    for alias, version in aliases.items():
        client.set_registered_model_alias(name, alias, version)
    return name


def test_alias_mode_promotes_the_challenger_by_moving_the_alias_only(alias_mode):
    client = alias_mode.client
    name = _model_with_aliases(client, 3, champion="1", challenger="3")

    result = invoke({"model_name": name})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "3", "1")
    assert result["new_stage"] == "alias:champion"
    assert client.get_model_version_by_alias(name, "champion").version == "3"
    assert {stage for stage, *_ in full_state(client, name).values()} == {"None"}
    assert client.get_model_version(name, "1").tags["superseded_by"] == "3"


def test_alias_mode_rerun_is_idempotent_and_writes_nothing(alias_mode):
    client = alias_mode.client
    name = _model_with_aliases(client, 2, champion="2")
    before = full_state(client, name)

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["promoted"], result["already_promoted"]) == (True, True)
    assert alias_mode.proxy.writes() == []
    assert full_state(client, name) == before


def test_alias_mode_without_a_challenger_is_not_promoted(alias_mode):
    client = alias_mode.client
    name = _model_with_aliases(client, 2, champion="1")

    result = invoke({"model_name": name})

    assert (result["promoted"], result["reason_code"]) == (False, "NO_CHALLENGER_VERSION")
    assert alias_mode.proxy.writes() == []
