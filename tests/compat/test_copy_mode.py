"""Copy mode (PROMOTION_MODE=copy) against every tested MLflow server: creating a version from a
``models:/`` source over REST, finding a copy by its tags, and a creation whose answer was lost."""

from __future__ import annotations

import pytest

from devtools.local.fault_proxy import DROP_AFTER_FORWARD
from tests.support import full_state, invoke, register_model

CREATE_VERSION = "/model-versions/create"


@pytest.fixture
def copy_mode(compat_env, lambda_env):
    lambda_env.setenv("PROMOTION_MODE", "copy")
    lambda_env.setenv("TARGET_MODEL_NAME", "prod-{model_name}")
    return compat_env


def _copies(client, target: str) -> list[str]:
    return sorted(v.version for v in client.search_model_versions(f"name = '{target}'"))


def test_copy_mode_copies_into_a_new_target_model_and_moves_the_alias(copy_mode):
    client = copy_mode.client
    name = register_model(client, ["Staging", "Staging"])
    client.set_model_version_tag(name, "2", "validation_status", "approved")
    source_before = full_state(client, name)
    target = f"prod-{name}"

    first = invoke({"model_name": name, "new_version": "1"})
    second = invoke({"model_name": name})  # the latest Staging version

    assert (first["model_name"], first["new_version"], first["source_version"]) == (target, "1", "1")
    assert (second["new_version"], second["archived_version"], second["source_version"]) == ("2", "1", "2")
    copy = client.get_model_version(target, "2")
    assert (copy.source, copy.tags["source_model_name"]) == (f"models:/{name}/2", name)
    assert copy.tags["validation_status"] == "approved"  # copied like copy_model_version does
    assert client.get_model_version_by_alias(target, "champion").version == "2"
    assert full_state(client, name) == source_before


def test_a_rerun_finds_the_copy_and_copies_nothing(copy_mode):
    client = copy_mode.client
    name = register_model(client, ["Staging"])
    invoke({"model_name": name})
    copy_mode.proxy.clear()

    again = invoke({"model_name": name})

    assert (again["promoted"], again["already_promoted"], again["new_version"]) == (True, True, "1")
    assert copy_mode.proxy.writes() == []
    assert _copies(client, f"prod-{name}") == ["1"]


def test_a_copy_whose_answer_was_lost_is_found_not_made_twice(copy_mode):
    client = copy_mode.client
    name = register_model(client, ["Staging"])
    target = f"prod-{name}"
    client.create_registered_model(target)
    copy_mode.proxy.inject(CREATE_VERSION, DROP_AFTER_FORWARD, times=1)

    result = invoke({"model_name": name, "execution_id": "run-1"})
    retry = invoke({"model_name": name, "execution_id": "run-1"})

    assert (result["promoted"], result["new_version"], result["source_version"]) == (True, "1", "1")
    assert (retry["promoted"], retry["already_promoted"]) == (True, True)
    assert _copies(client, target) == ["1"]
    assert client.get_model_version_by_alias(target, "champion").version == "1"
