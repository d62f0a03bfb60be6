"""Test helpers: a Lambda-like context, model registration, registry snapshots, notifications."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from mlflow.tracking import MlflowClient

from promote_model import handler

S3_SOURCE = "s3://promote-model-tests/artifacts"


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context``: the attributes Powertools reads."""

    timeout_seconds: float = 60.0
    function_name: str = "promote-model"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:promote-model"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(max(self.timeout_seconds - (time.monotonic() - self._started), 0) * 1000)


def unique_model_name(prefix: str = "PascalStrategy") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register_model(client: MlflowClient, stages: list[str], name: str | None = None) -> str:
    """Register a model whose versions 1..n are in the given stages (without archiving others)."""
    name = name or unique_model_name()
    client.create_registered_model(name)
    for stage in stages:
        version = client.create_model_version(name, S3_SOURCE)
        if stage != "None":
            client.transition_model_version_stage(name, version.version, stage)
    return name


def _versions(client: MlflowClient, name: str) -> list[Any]:
    """Every version of the model, read one by one (MLflow's search filter cannot quote every name)."""
    from mlflow.exceptions import MlflowException

    versions = []
    while True:
        try:
            versions.append(client.get_model_version(name, str(len(versions) + 1)))
        except MlflowException:
            return versions


def registry_state(client: MlflowClient, name: str) -> dict[str, tuple[str, int]]:
    """Each version's stage and last-updated timestamp: what a write would change."""
    return {v.version: (v.current_stage, v.last_updated_timestamp) for v in _versions(client, name)}


def full_state(client: MlflowClient, name: str) -> dict[str, Any]:
    """Stages, timestamps, tags and aliases of every version: everything a promotion may write."""
    return {
        v.version: (v.current_stage, v.last_updated_timestamp, dict(v.tags), sorted(v.aliases))
        for v in _versions(client, name)
    }


def stages(client: MlflowClient, name: str) -> dict[str, str]:
    return {version: stage for version, (stage, _) in registry_state(client, name).items()}


def received_notifications(sqs: Any, queue_url: str, *, wait_seconds: int = 0) -> list[dict[str, Any]]:
    """The SNS notifications the subscribed queue holds, as ``{"Subject", "Message", ...}`` dicts."""
    notifications = []
    while True:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
        messages = answer.get("Messages", [])
        if not messages:
            return notifications
        for message in messages:
            notifications.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        wait_seconds = 0


def invoke(event: Any, *, timeout_seconds: float = 60.0) -> dict[str, Any]:
    """Invoke the handler as Lambda would, with the event round-tripped through JSON."""
    wire_event = json.loads(json.dumps(event))
    result = handler.lambda_handler(wire_event, LambdaContext(timeout_seconds=timeout_seconds))
    json.dumps(result)  # the answer must itself be JSON
    return result


def log_records(stream: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
