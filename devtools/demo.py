"""`make demo`: the project's main job, end to end, on local servers.

Synthesizes the dev stack with the CDK CLI, starts MLflow and moto, registers a champion and a
challenger, and runs the synthesized state machine (from cdk.out) in a real ASL interpreter whose
PromoteModel task is the bundled handler (from cdk.out). Everything it starts is stopped on exit,
on failure and on Ctrl-C.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devtools.local_workflow import ROOT, SynthesizedStack, run_execution
from devtools.servers import mlflow_server, moto_server

MODEL = "PascalStrategy"
STACK = "PromoteModel-dev"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:PromoteModel-dev-PromoteModelFunction"
WORKFLOW_INPUT = {"model_name": MODEL, "challenger_version": "2", "comparison": {"confidence": 0.85}}
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def main() -> int:
    try:
        with ExitStack() as cleanup:
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="promote-model-demo-")))
            stack = _synthesize()
            _step(2, "Starting local servers")
            moto = cleanup.enter_context(moto_server(workdir / "moto"))
            mlflow = cleanup.enter_context(mlflow_server(workdir / "mlflow"))
            print(f"      MLflow tracking server  {mlflow.url}  (SQLite)\n      moto (SNS, SQS, Secrets) {moto.url}")
            _demo(stack, mlflow.url, moto.url, workdir)
    except KeyboardInterrupt:
        print("\nInterrupted: local servers stopped.", file=sys.stderr)
        return 130
    return 0


def _synthesize() -> SynthesizedStack:
    _step(1, "Synthesizing the dev stack with the CDK CLI (cdk synth -c environment=dev)")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "-c", "environment=dev", "--quiet", STACK],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack = SynthesizedStack.load(ROOT / "cdk.out", STACK)
    print(f"      template   cdk.out/{STACK}.template.json")
    print(f"      handler    {stack.code_dir.relative_to(ROOT)}\n      layer      {stack.layer_dir.relative_to(ROOT)}")
    return stack


def _demo(stack: SynthesizedStack, mlflow_url: str, moto_url: str, workdir: Path) -> None:
    os.environ.update(LOCAL_AWS, AWS_ENDPOINT_URL=moto_url, MLFLOW_DISABLE_TELEMETRY="true")
    # The demo arranges its champion with MLflow's stage API, deprecated but what the spec uses.
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    import boto3
    from mlflow.tracking import MlflowClient

    _step(3, f"Registering {MODEL} (champion v1 in Production, challenger v2 in Staging) and the AWS side")
    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    client.create_registered_model(MODEL)
    for stage in ("Production", "Staging"):
        version = client.create_model_version(MODEL, "s3://demo-models/pascal-strategy")
        client.transition_model_version_stage(MODEL, version.version, stage)
    sns, sqs, secrets = boto3.client("sns"), boto3.client("sqs"), boto3.client("secretsmanager")
    topic_arn = sns.create_topic(Name="promote-model-alerts-dev")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    secret_arn = secrets.create_secret(
        Name="promote-model/mlflow-dev",
        SecretString=json.dumps({"username": "promote-model", "password": "demo-password-123"}),
    )["ARN"]
    print(f"      topic {topic_arn}\n      secret {secret_arn}")
    before = _stages(client)

    _step(4, "Running the synthesized state machine in aws-local-stepfunctions")
    print(f"      input {json.dumps(WORKFLOW_INPUT)}")
    references = stack.local_references(function_arn=FUNCTION_ARN, topic_arn=topic_arn, secret_arn=secret_arn)
    handler_log = workdir / "handler.log"
    with handler_log.open("w") as log:
        execution = run_execution(
            stack,
            WORKFLOW_INPUT,
            references=references,
            environment={"MLFLOW_TRACKING_URI": mlflow_url, "POWERTOOLS_TRACE_DISABLED": "true"},
            on_event=_print_event,
            handler_output=log,
        )
    print(f"      execution {execution.status}")
    print(
        "      handler result "
        + json.dumps((execution.output or {}).get("promotion"), indent=2).replace("\n", "\n      ")
    )

    _step(5, "Registry before and after")
    _print_registry(before, _stages(client))
    print("\n      Notifications received by the topic's subscriber:")
    for message in _drain(sqs, queue_url):
        event = message["MessageAttributes"]["event"]["Value"]
        print(f"\n      [{event}] Subject: {message.get('Subject', '(none)')}")
        print("      " + message["Message"].replace("\n", "\n      "))
    if execution.status != "SUCCEEDED":
        raise SystemExit(f"the workflow did not succeed: {execution.error}: {execution.cause}")
    print("\nDone: a new champion took over. Everything started here has been stopped.")


def _step(number: int, title: str) -> None:
    print(f"\n[{number}/5] {title}", flush=True)


def _print_event(event: dict[str, Any]) -> None:
    if event["type"] == "StateEntered":
        print(f"      -> {event['state']['name']} ({event['state']['type']})", flush=True)
    elif event["type"] in ("StateRetried", "StateCaught"):
        print(f"         {event['type']}", flush=True)


def _stages(client: Any) -> dict[str, str]:
    return {v.version: v.current_stage for v in client.search_model_versions(f"name='{MODEL}'")}


def _print_registry(before: dict[str, str], after: dict[str, str]) -> None:
    print(f"      {'version':<9}{'before':<13}after")
    for version in sorted(after, key=int):
        print(f"      {version:<9}{before.get(version, '-'):<13}{after[version]}")


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


if __name__ == "__main__":
    sys.exit(main())
