"""The handler contract against every tested MLflow server: 2.9.x, 2.22.x and the pinned 3.x.

Each test runs once per version (the session's ``server`` fixture); the handler is invoked in
process, reaching the server through a counting proxy, and the registry is set up and read back
directly with the dev venv's ``MlflowClient``. What differs between the versions is asserted
where it shows, in ``test_server_differences.py``.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.support import LambdaContext, full_state, invoke, received_notifications, register_model, stages

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def test_promotes_the_given_version_and_archives_the_champion(compat_env, alert_topic, sqs):
    client = compat_env.client
    name = register_model(client, ["Archived", "Production", "Staging"])

    result = invoke({"model_name": name, "new_version": "3", "confidence": 0.85})

    assert result == {
        "promoted": True,
        "new_version": "3",
        "new_stage": "Production",
        "archived_version": "2",
        "already_promoted": False,
        "model_name": name,
        "confidence": 0.85,
        "notification_sent": True,
        "alias": "champion",
        "audit_tags_written": True,
        "event_sent": True,
    }
    assert stages(client, name) == {"1": "Archived", "2": "Archived", "3": "Production"}
    [notification] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert "New Production Version: 3\nPrevious Version: 2\n" in notification["Message"]


def test_promotes_the_latest_staging_version_when_none_is_given(compat_env):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging", "Staging"])

    result = invoke({"model_name": name, "confidence": 0.5})

    assert (result["promoted"], result["new_version"], result["archived_version"]) == (True, "3", "1")
    assert stages(client, name) == {"1": "Archived", "2": "Staging", "3": "Production"}


def test_a_rerun_answers_already_promoted_and_writes_nothing(compat_env, alert_topic, sqs):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging"])
    invoke({"model_name": name, "new_version": "2"})
    after_first = full_state(client, name)
    compat_env.proxy.clear()

    second = invoke({"model_name": name, "new_version": "2", "execution_id": "another-run"})

    assert (second["already_promoted"], second["archived_version"], second["alias"]) == (True, None, "champion")
    assert compat_env.proxy.writes() == []
    assert full_state(client, name) == after_first
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1


def test_unknown_model_is_not_promoted(compat_env):
    for event_version in (None, "1"):
        result = invoke({"model_name": "NoSuchModel-7f3a", "new_version": event_version})

        assert (result["promoted"], result["reason_code"]) == (False, "MODEL_NOT_FOUND")
    assert compat_env.proxy.writes() == []


def test_unknown_version_is_not_promoted(compat_env):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging"])
    before = full_state(client, name)

    result = invoke({"model_name": name, "new_version": "9"})

    assert (result["reason_code"], result["reason"]) == ("VERSION_NOT_FOUND", f"Model '{name}' has no version 9")
    assert compat_env.proxy.writes() == []
    assert full_state(client, name) == before


def test_no_staging_version_is_not_promoted(compat_env):
    client = compat_env.client
    name = register_model(client, ["Production", "Archived"])
    before = full_state(client, name)

    result = invoke({"model_name": name})

    assert (result["reason_code"], result["reason"]) == ("NO_STAGING_VERSION", "No Staging version found")
    assert compat_env.proxy.writes() == []
    assert full_state(client, name) == before


@pytest.mark.parametrize("name", ["team/PascalStrategy", "PascalStrategy:v2"], ids=["slash", "colon"])
def test_a_name_with_a_slash_or_colon_is_refused_without_asking_the_server(compat_env, name):
    # The servers disagree on such names (test_server_differences.py); the function answers the same
    # on all of them, before any request.
    result = invoke({"model_name": name, "new_version": "1"})

    assert (result["promoted"], result["reason_code"]) == (False, "INVALID_REQUEST")
    assert "model_name must not contain" in result["reason"]
    assert compat_env.proxy.take() == []


def test_the_champion_alias_follows_the_promotion(compat_env):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging"])
    client.set_registered_model_alias(name, "champion", "1")

    result = invoke({"model_name": name})

    assert result["alias"] == "champion"
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert {v: aliases for v, (*_, aliases) in full_state(client, name).items()} == {"1": [], "2": ["champion"]}


def test_an_idempotent_call_repairs_a_stray_champion_alias(compat_env):
    client = compat_env.client
    name = register_model(client, ["Staging", "Production"])
    client.set_registered_model_alias(name, "champion", "1")

    result = invoke({"model_name": name, "new_version": "2"})

    assert (result["already_promoted"], result["alias"]) == (True, "champion")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert [path for _, path in compat_env.proxy.writes()] == ["/api/2.0/mlflow/registered-models/alias"]


def test_audit_tags_record_who_promoted_what_and_when(compat_env):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging"])
    execution = "arn:aws:states:us-east-1:123456789012:execution:Retraining:run-42"

    result = invoke({"model_name": name, "confidence": 0.85, "execution_id": execution})

    assert result["audit_tags_written"] is True
    state = full_state(client, name)
    promoted_tags, archived_tags = state["2"][2], state["1"][2]
    assert ISO_UTC.fullmatch(promoted_tags.pop("promoted_at"))
    # what this execution delivered, so that a retry of it does not send it again
    assert (promoted_tags.pop("notification_sent_for"), promoted_tags.pop("event_sent_for")) == (execution, execution)
    assert promoted_tags == {
        "promoted_by": LambdaContext().invoked_function_arn,
        "previous_version": "1",
        "confidence": "0.85",
        "environment": "prod",
        "execution_id": execution,
    }
    assert ISO_UTC.fullmatch(archived_tags.pop("archived_at"))
    assert archived_tags == {"superseded_by": "2"}


@pytest.mark.parametrize(
    ("event_extra", "expected"),
    [({"new_version": "3"}, ("3", "1", True)), ({}, ("3", "1", True)), ({"new_version": "1"}, ("1", None, False))],
    ids=["explicit", "latest-staging", "already-champion"],
)
def test_a_dry_run_says_what_would_happen_and_writes_nothing(compat_env, alert_topic, sqs, event_extra, expected):
    client = compat_env.client
    name = register_model(client, ["Production", "Staging", "Staging"])
    client.set_registered_model_alias(name, "champion", "1")
    before = full_state(client, name)

    result = invoke({"model_name": name, "dry_run": True, **event_extra})

    assert (result["dry_run"], result["promoted"]) == (True, False)
    assert (result["new_version"], result["archived_version"], result["would_promote"]) == expected
    assert compat_env.proxy.writes() == []
    assert full_state(client, name) == before
    assert received_notifications(sqs, alert_topic.queue_url) == []


# What MLflow receives for a promotion of an explicit version with an execution_id, route by route:
# the same on every version, so no version needs a fallback path. (Independent requests go out
# together, so their order is not part of the contract; tests/bench pins the round trips.)
EXPECTED_PROMOTION_REQUESTS = Counter(
    {
        ("GET", "model-versions/get"): 1,  # the only read before the transition
        ("POST", "model-versions/transition-stage"): 1,
        ("GET", "model-versions/search"): 1,  # the one-champion check, which also names the archived champion
        ("POST", "registered-models/alias"): 1,
        # the execution's tag with the transition, the audit trail on both versions, the delivery markers
        # (notification_sent_for, event_sent_for) and promoted_at last: one request a tag
        ("POST", "model-versions/set-tag"): 11,
    }
)


def test_a_promotion_sends_the_same_requests_to_every_version(compat_env):
    name = register_model(compat_env.client, ["Production", "Staging"])
    compat_env.proxy.clear()

    invoke({"model_name": name, "new_version": "2", "execution_id": "run-42"})

    sent = Counter((method, path.removeprefix("/api/2.0/mlflow/")) for method, path in compat_env.proxy.take())
    assert sent == EXPECTED_PROMOTION_REQUESTS
