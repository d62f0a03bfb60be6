"""The webhook receiver's cold start, for `make bench`: a fresh interpreter imports
``promote_model.webhook`` from the shipped bundle and answers one signed delivery of the trigger
alias, which reads the signing secret and starts an execution (Secrets Manager and Step Functions
played by a moto server on loopback)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from devtools.bench.children import WORK, Children, Variant
from devtools.local.function_url import function_url_event
from devtools.local.servers import moto_server

MODULE = "promote_model.webhook"
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench"}
_DEFINITION = json.dumps({"StartAt": "Promote", "States": {"Promote": {"Type": "Pass", "End": True}}})


@contextmanager
def receiver_variant(paths: tuple[Path, ...], env: Mapping[str, str | None]) -> Iterator[tuple[Variant, str]]:
    """The receiver as a bench variant, with its state machine and secret in a fresh moto server."""
    import boto3

    with moto_server(WORK / "moto") as moto:
        session = boto3.Session(region_name="us-east-1", **{k.lower(): v for k, v in _CREDENTIALS.items()})
        secret = os.urandom(24).hex()
        machine = session.client("stepfunctions", endpoint_url=moto.url).create_state_machine(
            name="bench", definition=_DEFINITION, roleArn="arn:aws:iam::123456789012:role/bench"
        )["stateMachineArn"]
        secret_arn = session.client("secretsmanager", endpoint_url=moto.url).create_secret(
            Name="bench-webhook", SecretString=secret
        )["ARN"]
        settings = {
            **env,
            **_CREDENTIALS,
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_LAMBDA_FUNCTION_NAME": "promote-model-webhook",
            "STATE_MACHINE_ARN": machine,
            "WEBHOOK_SECRET_ARN": secret_arn,
        }
        yield Variant("receiver", MODULE, paths, settings), secret


def signed_delivery(secret: str, model: str, version: str) -> dict[str, Any]:
    """A Function URL event of MLflow's delivery of the challenger alias, signed now."""
    from promote_model.webhook_signature import sign

    body = json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-01-01T00:00:00+00:00",
            "data": {"name": model, "alias": "challenger", "version": version},
        }
    ).encode()
    delivery_id, timestamp = str(uuid.uuid4()), str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "x-mlflow-delivery-id": delivery_id,
        "x-mlflow-timestamp": timestamp,
        "x-mlflow-signature": sign(secret, delivery_id, timestamp, body),
    }
    return function_url_event("POST", "/", headers, body)


def receiver_cold_starts(
    children: Children, paths: tuple[Path, ...], env: Mapping[str, str | None], runs: int
) -> list[dict[str, Any]]:
    """``runs`` cold invocations (after one discarded), each starting one execution."""
    answers = []
    with receiver_variant(paths, env) as (variant, secret):
        for index in range(runs + 1):
            answer = children.cold(
                variant, signed_delivery(secret, "BenchModel", str(index + 1)), "", check=_check_started
            )
            if index:
                answers.append(answer)
    return answers


def _check_started(variant: Variant, result: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    if result.get("statusCode") != 202:
        raise SystemExit(f"{variant.name} did not start an execution: {result}")
