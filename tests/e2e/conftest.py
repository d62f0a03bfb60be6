"""The dev stack synthesized once, and a runner for its state machine on the local servers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from devtools.local.workflow import Execution, SynthesizedStack, run_execution
from infra.app_factory import build_app
from tests.infra.conftest import cdk_context

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:PromoteModel-dev-PromoteModelFunction"


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedStack:
    outdir = tmp_path_factory.mktemp("cdk-out-dev")
    app, stack = build_app(cdk_context("dev"), outdir=str(outdir))
    app.synth()
    return SynthesizedStack.load(outdir, stack.stack_name)


@pytest.fixture
def run_workflow(dev_stack, mlflow_url, alert_topic, moto) -> Callable[..., Execution]:
    """Run the dev state machine against the local MLflow, with the topic and a secret in moto."""
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=f"promote-model/e2e-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"username": "promote-model", "password": "not-checked-by-this-server"}),
    )["ARN"]
    references = dev_stack.local_references(
        function_arn=FUNCTION_ARN, topic_arn=alert_topic.topic_arn, secret_arn=secret_arn
    )

    def run(workflow_input: dict[str, Any], *, tracking_uri: str | None = None, **options: Any) -> Execution:
        environment = {"MLFLOW_TRACKING_URI": tracking_uri or mlflow_url, "POWERTOOLS_TRACE_DISABLED": "true"}
        return run_execution(dev_stack, workflow_input, references=references, environment=environment, **options)

    return run
