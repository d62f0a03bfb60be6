"""The synthesized state machine, run in a real ASL interpreter with the bundled handler as its task."""

from __future__ import annotations

import json

from devtools.local.servers import free_port
from tests.support import received_notifications, register_model, stages


def _workflow_input(name, version, confidence=0.85):
    return {"model_name": name, "challenger_version": version, "comparison": {"confidence": confidence}}


def test_promotes_through_the_state_machine_and_notifies(run_workflow, mlflow_client, alert_topic, sqs):
    name = register_model(mlflow_client, ["Production", "Staging"])

    execution = run_workflow(_workflow_input(name, "2"))

    assert execution.status == "SUCCEEDED"
    assert execution.states_entered() == [
        "IsNewVersionGiven",
        "PromoteModel",
        "WasModelPromoted",
        "ModelPromoted",
        "NotifySuccess",
    ]
    assert execution.output["promotion"]["archived_version"] == "1"
    assert execution.output["comparison"] == {"confidence": 0.85}  # the workflow's state is kept
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    notifications = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    by_event = {n["MessageAttributes"]["event"]["Value"]: n for n in notifications}
    assert set(by_event) == {"model_promoted", "workflow_succeeded"}
    assert by_event["model_promoted"]["Subject"] == f"[TradAI] Model Promoted: {name}"
    assert "Environment: dev" in by_event["model_promoted"]["Message"]
    assert json.loads(by_event["workflow_succeeded"]["Message"])["new_version"] == "2"


def test_no_staging_version_takes_the_not_promoted_path_without_notification(
    run_workflow, mlflow_client, alert_topic, sqs
):
    name = register_model(mlflow_client, ["Production"])

    execution = run_workflow(_workflow_input(name, None))

    assert execution.status == "SUCCEEDED"
    assert execution.states_entered() == ["IsNewVersionGiven", "PromoteModel", "WasModelPromoted", "NothingToPromote"]
    assert execution.output["promotion"]["reason_code"] == "NO_STAGING_VERSION"
    assert stages(mlflow_client, name) == {"1": "Production"}
    assert received_notifications(sqs, alert_topic.queue_url) == []


def test_an_absent_challenger_version_promotes_the_latest_staging_version(run_workflow, mlflow_client):
    # Given a workflow state without the challenger_version field at all (not even null)
    name = register_model(mlflow_client, ["Production", "Staging"])
    workflow_input = {"model_name": name, "comparison": {"confidence": 0.85}}

    execution = run_workflow(workflow_input)

    # Then it reads as "no version given", not States.Runtime: the latest Staging one is promoted
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.states_entered()[:4] == [
        "IsNewVersionGiven",
        "NoNewVersionGiven",
        "NewVersionIsNull",
        "PromoteModel",
    ]
    assert execution.output["challenger_version"] is None
    assert execution.output["promotion"]["new_version"] == "2"
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}


def test_registry_down_is_retried_then_takes_the_failure_path(run_workflow, alert_topic, sqs):
    execution = run_workflow(
        _workflow_input("PascalStrategy", "2"), tracking_uri=f"http://127.0.0.1:{free_port()}", retry_interval_ms=10
    )

    assert execution.status == "FAILED"
    assert execution.error == "PromotionFailed"
    assert execution.retries("PromoteModel") == 3
    assert execution.states_entered()[-2:] == ["NotifyFailure", "PromotionFailed"]
    [failure] = received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)
    assert failure["Subject"] == "[TradAI] Model promotion failed"
    assert json.loads(failure["Message"])["error"]["Error"] == "RegistryUnavailableError"


def test_challenger_already_champion_is_idempotent_without_promotion_notice(
    run_workflow, mlflow_client, alert_topic, sqs
):
    name = register_model(mlflow_client, ["Archived", "Production"])

    execution = run_workflow(_workflow_input(name, "2"))

    assert execution.status == "SUCCEEDED"
    assert execution.output["promotion"]["already_promoted"] is True
    events = {n["MessageAttributes"]["event"]["Value"] for n in received_notifications(sqs, alert_topic.queue_url)}
    assert "model_promoted" not in events


def test_rolls_back_to_an_archived_version(run_workflow, mlflow_client):
    name = register_model(mlflow_client, ["Archived", "Production"])

    execution = run_workflow(_workflow_input(name, "1", confidence=1.0))

    assert execution.status == "SUCCEEDED"
    assert (execution.output["promotion"]["new_version"], execution.output["promotion"]["archived_version"]) == (
        "1",
        "2",
    )
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Archived"}
