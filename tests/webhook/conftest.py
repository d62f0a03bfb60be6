"""An MLflow 3 server that delivers webhooks, the receiver behind a loopback Function URL, and the
state machine and secret it uses in moto."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from mlflow.tracking import MlflowClient

from devtools.local.function_url import FunctionUrl, function_url
from devtools.local.servers import RunningServer, mlflow_server, webhook_server_env
from promote_model import webhook

TRIGGER_EVENTS = ["model_version_alias.created", "model_version_tag.set", "model_version.created"]
TRIGGER_TAG = "promote=yes"
# A state machine is all the receiver needs to exist; what it runs is the e2e tests' business.
PASS_DEFINITION = json.dumps({"StartAt": "Promote", "States": {"Promote": {"Type": "Pass", "End": True}}})
ROLE_ARN = "arn:aws:iam::123456789012:role/promote-model-workflow"


@pytest.fixture(scope="session")
def webhook_mlflow_url(servers_dir: Path) -> Iterator[str]:
    """Its own server: webhooks registered here must not receive the other tests' registry events."""
    with mlflow_server(servers_dir / "mlflow-webhooks", extra_env=webhook_server_env()) as server:
        yield server.url


@pytest.fixture(scope="session")
def webhook_client(webhook_mlflow_url: str) -> MlflowClient:
    return MlflowClient(tracking_uri=webhook_mlflow_url, registry_uri=webhook_mlflow_url)


@dataclass
class Receiver:
    """The deployed pieces: the Function URL, its state machine and signing secret, MLflow's webhook."""

    function_url: FunctionUrl
    state_machine_arn: str
    secret: str
    secret_arn: str
    webhook_id: str

    @property
    def url(self) -> str:
        return self.function_url.url

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions")
        listed = sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


@pytest.fixture
def receiver(moto: RunningServer, webhook_client: MlflowClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    suffix = os.urandom(4).hex()
    secret = f"whsec-{os.urandom(16).hex()}"
    state_machine_arn = boto3.client("stepfunctions").create_state_machine(
        name=f"promotion-{suffix}", definition=PASS_DEFINITION, roleArn=ROLE_ARN
    )["stateMachineArn"]
    secret_arn = boto3.client("secretsmanager").create_secret(Name=f"mlflow-webhook-{suffix}", SecretString=secret)[
        "ARN"
    ]
    monkeypatch.setenv("STATE_MACHINE_ARN", state_machine_arn)
    monkeypatch.setenv("WEBHOOK_SECRET_ARN", secret_arn)
    monkeypatch.setenv("TRIGGER_TAG", TRIGGER_TAG)
    monkeypatch.delenv("TRIGGER_ALIAS", raising=False)
    webhook.reset()
    with function_url(webhook.lambda_handler) as url:
        registered = webhook_client.create_webhook(
            name=f"promote-model-{suffix}", url=url.url, events=TRIGGER_EVENTS, secret=secret
        )
        receiver = Receiver(url, state_machine_arn, secret, secret_arn, registered.webhook_id)
        try:
            yield receiver
        finally:
            webhook_client.delete_webhook(receiver.webhook_id)  # a test may have replaced it
            webhook.reset()
