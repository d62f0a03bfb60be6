"""The approval gate end to end: the synthesized state machine (approval on) in the ASL interpreter,
the bundled handler as its task, the request published on the topic, and the decision sent by the
`promote-model approve/reject` command (boto3's Step Functions client, unchanged) to the local
task-token endpoint."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.local.approver import Approver
from devtools.local.task_tokens import TaskTokens, task_token_server
from devtools.local.workflow import SynthesizedStack, run_definition
from infra.app_factory import build_app
from tests.e2e.conftest import FUNCTION_ARN
from tests.infra.conftest import cdk_context
from tests.support import register_model, stages

CLI = str(Path(sys.executable).parent / "promote-model")
APPROVAL_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="session")
def approval_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    outdir = tmp_path_factory.mktemp("cdk-out-approval")
    context = cdk_context("dev")
    context["approval_timeout_seconds"] = APPROVAL_TIMEOUT_SECONDS
    app, stack = build_app(context, outdir=str(outdir))
    app.synth()
    return SynthesizedStack.load(outdir, stack.stack_name)


@pytest.fixture
def tokens() -> Iterator[TaskTokens]:
    with task_token_server() as server:
        yield server


def _run(stack, definition, workflow_input, *, mlflow_url, alert_topic, tokens):
    references = stack.local_references(function_arn=FUNCTION_ARN, topic_arn=alert_topic.topic_arn, secret_arn="")
    environment = {
        **stack.function_environment(references),
        "MLFLOW_TRACKING_URI": mlflow_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "MLFLOW_CREDENTIALS_SECRET_ARN": "",
        "LOCAL_TASK_TOKENS_URL": tokens.url,
    }
    return run_definition(
        definition or stack.state_machine_definition(references),
        workflow_input,
        runtime=stack.task_runtime(),
        environment=environment,
    )


def _input(name: str) -> dict[str, Any]:
    return {"model_name": name, "challenger_version": "2", "comparison": {"confidence": 0.9}}


def test_an_approved_promotion_goes_on_and_records_the_approver(
    approval_stack, tokens, mlflow_url, mlflow_client, alert_topic, sqs
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    approver = Approver("approve")
    approver.start(sqs, alert_topic.queue_url, tokens)

    execution = _run(approval_stack, None, _input(name), mlflow_url=mlflow_url, alert_topic=alert_topic, tokens=tokens)
    approver.join()

    assert execution.status == "SUCCEEDED", execution
    assert execution.states_entered()[:5] == [
        "IsNewVersionGiven",
        "PreviewPromotion",
        "WouldPromote",
        "RequestApproval",
        "PromoteModel",
    ]
    assert (approver.request["model_name"], approver.request["current_champion"]) == (name, "1")
    assert approver.request["dry_run"]["would_promote"] is True
    assert approver.request["approve"].startswith("promote-model approve ")
    assert approver.decision is not None
    assert approver.decision.returncode == 0, approver.decision.stderr
    assert execution.output["promotion"]["promoted"] is True
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    assert mlflow_client.get_model_version(name, "2").tags["approved_by"].endswith("(promote-model CLI)")


def test_a_rejected_promotion_is_not_promoted_and_the_champion_stays(
    approval_stack, tokens, mlflow_url, mlflow_client, alert_topic, sqs
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    approver = Approver("reject", ["--reason", "offline metrics regressed"])
    approver.start(sqs, alert_topic.queue_url, tokens)

    execution = _run(approval_stack, None, _input(name), mlflow_url=mlflow_url, alert_topic=alert_topic, tokens=tokens)
    approver.join()

    assert execution.status == "SUCCEEDED", execution
    assert "ApprovalRejected" in execution.states_entered()
    assert "PromoteModel" not in execution.states_entered()
    assert execution.output["promotion"]["reason_code"] == "APPROVAL_REJECTED"
    assert "offline metrics regressed" in json.loads(execution.output["promotion_rejection"]["Cause"])["reason"]
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_an_unanswered_request_times_out_into_not_promoted(
    approval_stack, tokens, mlflow_url, mlflow_client, alert_topic
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    references = approval_stack.local_references(
        function_arn=FUNCTION_ARN, topic_arn=alert_topic.topic_arn, secret_arn="unused"
    )
    definition = approval_stack.state_machine_definition(references)
    # the synthesized definition, with only the wait shortened so the test does not sit out two minutes
    assert definition["States"]["RequestApproval"]["TimeoutSeconds"] == APPROVAL_TIMEOUT_SECONDS
    definition["States"]["RequestApproval"]["TimeoutSeconds"] = 2

    execution = _run(
        approval_stack, definition, _input(name), mlflow_url=mlflow_url, alert_topic=alert_topic, tokens=tokens
    )

    assert execution.status == "SUCCEEDED", execution
    assert execution.output["promotion"]["reason_code"] == "APPROVAL_TIMED_OUT"
    assert stages(mlflow_client, name) == {"1": "Production", "2": "Staging"}


def test_nothing_to_promote_skips_the_wait(approval_stack, tokens, mlflow_url, mlflow_client, alert_topic):
    name = register_model(mlflow_client, ["Production"])

    execution = _run(
        approval_stack,
        None,
        {"model_name": name, "challenger_version": None, "comparison": {"confidence": 0.9}},
        mlflow_url=mlflow_url,
        alert_topic=alert_topic,
        tokens=tokens,
    )

    assert execution.status == "SUCCEEDED", execution
    assert "RequestApproval" not in execution.states_entered()
    assert "PromoteModel" not in execution.states_entered()  # the preview was the answer
    assert execution.output["promotion"]["reason_code"] == "NO_STAGING_VERSION"
