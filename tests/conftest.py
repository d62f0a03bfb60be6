"""Session-wide real servers (MLflow, moto) and per-test AWS resources and handler settings."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from mlflow.tracking import MlflowClient

from devtools.local.servers import RunningServer, mlflow_server, moto_server
from promote_model import handler, observability

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


@pytest.fixture(scope="session")
def servers_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def moto(servers_dir: Path) -> Iterator[RunningServer]:
    """A moto server; boto3 everywhere in this process reaches it through AWS_ENDPOINT_URL."""
    saved = {key: os.environ.get(key) for key in [*AWS_TEST_ENV, "AWS_ENDPOINT_URL"]}
    with moto_server(servers_dir / "moto") as server:
        os.environ.update(AWS_TEST_ENV)
        os.environ["AWS_ENDPOINT_URL"] = server.url
        try:
            yield server
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="session")
def mlflow_url(servers_dir: Path) -> Iterator[str]:
    with mlflow_server(servers_dir / "mlflow") as server:
        yield server.url


@pytest.fixture(scope="session")
def mlflow_client(mlflow_url: str) -> MlflowClient:
    return MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)


@dataclass(frozen=True)
class AlertTopic:
    topic_arn: str
    queue_url: str


@pytest.fixture
def alert_topic(moto: RunningServer) -> AlertTopic:
    """A fresh SNS topic with an SQS queue subscribed, so each test sees only its own notifications."""
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    suffix = os.urandom(4).hex()
    topic_arn = sns.create_topic(Name=f"promote-model-alerts-{suffix}")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"promote-model-subscriber-{suffix}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return AlertTopic(topic_arn=topic_arn, queue_url=queue_url)


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the function's Powertools logger writes, one JSON object per line."""
    stream = io.StringIO()
    log_handler = observability.logger.registered_handler
    previous = log_handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        log_handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture
def sqs(moto: RunningServer) -> Any:
    return boto3.client("sqs")


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, mlflow_url: str, alert_topic: AlertTopic
) -> Iterator[pytest.MonkeyPatch]:
    """The function's settings as the stack sets them; each test starts as a fresh cold start."""
    for key in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_CREDENTIALS_SECRET_ARN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_url)
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_topic.topic_arn)
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("ALERTS_ENABLED", "true")
    handler.reset_runtime()
    yield monkeypatch
    handler.reset_runtime()
