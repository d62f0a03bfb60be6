"""`make demo DEMO_ARGS=--webhook`: the workflow's input comes from MLflow's own webhook.

The receiver (``promote_model.webhook``) runs behind a loopback Function URL; its state machine and
signing secret live in moto. The demo registers the webhook, sets the challenger alias, and returns
the input of the one execution the receiver started (moto records it; the demo then runs it).
"""

from __future__ import annotations

import json
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devtools.local.function_url import function_url

# moto only records the execution: the demo runs the synthesized definition itself afterwards.
_RECORDING_DEFINITION = json.dumps({"StartAt": "Run", "States": {"Run": {"Type": "Pass", "End": True}}})
_ROLE_ARN = "arn:aws:iam::123456789012:role/promote-model-workflow-dev"
DELIVERY_TIMEOUT_SECONDS = 30.0


def start_by_webhook(client: Any, model: str, version: str, workdir: Path, cleanup: ExitStack) -> dict[str, Any]:
    import boto3

    from promote_model import observability, webhook

    signing_secret = os.urandom(24).hex()
    state_machine_arn = boto3.client("stepfunctions").create_state_machine(
        name="PromoteModel-dev-Workflow", definition=_RECORDING_DEFINITION, roleArn=_ROLE_ARN
    )["stateMachineArn"]
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name="promote-model/webhook-dev", SecretString=signing_secret
    )["ARN"]
    os.environ.update(STATE_MACHINE_ARN=state_machine_arn, WEBHOOK_SECRET_ARN=secret_arn, TRIGGER_ALIAS="challenger")
    # the receiver's JSON log lines go to a file, and its metric lines nowhere, not between the demo's lines
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    log = cleanup.enter_context((workdir / "webhook.log").open("w"))
    observability.logger.registered_handler.setStream(log)  # type: ignore[attr-defined]
    webhook.reset()
    url = cleanup.enter_context(function_url(webhook.lambda_handler))
    registered = client.create_webhook(
        name="promote-model", url=url.url, events=["model_version_alias.created"], secret=signing_secret
    )
    print(f"      webhook {registered.webhook_id} -> {url.url} (a local Function URL)")
    print(f"      client.set_registered_model_alias({model!r}, 'challenger', {version!r})")
    client.set_registered_model_alias(model, "challenger", version)
    [delivery] = url.wait_for_deliveries(1, timeout=DELIVERY_TIMEOUT_SECONDS)
    print(f"      MLflow delivered {delivery.headers['x-mlflow-delivery-id']}: the receiver answered {delivery.status}")
    sfn = boto3.client("stepfunctions")
    [started] = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
    print(f"      execution started: {started['name']}")
    return json.loads(sfn.describe_execution(executionArn=started["executionArn"])["input"])
