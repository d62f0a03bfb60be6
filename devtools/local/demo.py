"""`make demo`: the project's main job, end to end, on local servers.

Synthesizes the dev stack with the CDK CLI (with the approval gate on, as prod has it), starts MLflow
and moto, registers a champion and a challenger, and runs the synthesized state machine (from cdk.out)
in a real ASL interpreter whose PromoteModel task is the bundled handler (from cdk.out). The approval
request is printed as a subscriber receives it, and approved with `promote-model approve TOKEN`
(`--reject` rejects it instead). The function runs with a promotion gate on the runs' `accuracy`
metric: the challenger beats the champion and passes it; then a worse challenger is refused by it,
before anything is written or anyone is asked. With `--webhook` (`make demo DEMO_ARGS=--webhook`),
the first workflow is started the event-driven way (docs/webhooks.md): the demo sets the `challenger`
alias, MLflow delivers its signed webhook to the receiver behind a loopback Function URL, and the
execution the receiver starts (recorded by moto's Step Functions) is the one run. Everything it
starts is stopped on exit, on failure and on Ctrl-C.
"""

from __future__ import annotations

import argparse
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

from devtools.local.approver import Approver
from devtools.local.demo_webhook import start_by_webhook
from devtools.local.servers import mlflow_server, moto_server, webhook_server_env
from devtools.local.task_tokens import task_token_server
from devtools.local.workflow import SynthesizedStack, run_execution
from devtools.paths import ROOT

MODEL = "PascalStrategy"
STACK = "PromoteModel-dev"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:PromoteModel-dev-PromoteModelFunction"
WORKFLOW_INPUT = {"model_name": MODEL, "challenger_version": "2", "comparison": {"confidence": 0.85}}
WORSE_INPUT = {"model_name": MODEL, "challenger_version": "3", "comparison": {"confidence": 0.9}}
# The promotion gate the demo's function runs with: what PromotionGates(metric="accuracy") on the
# construct, or "gates": {"metric": "accuracy"} in cdk.json, sets (docs/promotion-policies.md).
GATE_SETTINGS = {"GATE_METRIC": "accuracy"}
ACCURACY = {"1": 0.81, "2": 0.84, "3": 0.79}  # champion, a better challenger, a worse one
STEPS = 6
APPROVAL_TIMEOUT_SECONDS = 600
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--reject", action="store_true", help="reject the approval request instead of approving it")
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="start the workflow from MLflow's webhook on setting the challenger alias",
    )
    args = parser.parse_args(argv)
    reject = args.reject
    try:
        with ExitStack() as cleanup:
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="promote-model-demo-")))
            stack = _synthesize()
            _step(2, "Starting local servers")
            moto = cleanup.enter_context(moto_server(workdir / "moto"))
            mlflow = cleanup.enter_context(
                mlflow_server(workdir / "mlflow", extra_env=webhook_server_env() if args.webhook else None)
            )
            tokens = cleanup.enter_context(task_token_server())
            print(f"      MLflow tracking server  {mlflow.url}  (SQLite)\n      moto (SNS, SQS, Secrets) {moto.url}")
            print(f"      Step Functions task tokens {tokens.url}")
            approver = Approver("reject", ["--reason", "rejected in the demo"]) if reject else Approver("approve")
            approver.on_request = _print_request
            _demo(stack, mlflow.url, moto.url, workdir, approver, tokens, cleanup if args.webhook else None)
    except KeyboardInterrupt:
        print("\nInterrupted: local servers stopped.", file=sys.stderr)
        return 130
    return 0


def _synthesize() -> SynthesizedStack:
    gate = f"approval_timeout_seconds={APPROVAL_TIMEOUT_SECONDS}"
    _step(1, f"Synthesizing the dev stack with the CDK CLI (cdk synth -c environment=dev -c {gate})")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "-c", "environment=dev", "-c", gate, "--quiet", STACK],
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


def _demo(
    stack: SynthesizedStack,
    mlflow_url: str,
    moto_url: str,
    workdir: Path,
    approver: Approver,
    tokens: Any,
    webhook_cleanup: ExitStack | None,
) -> None:
    os.environ.update(LOCAL_AWS, AWS_ENDPOINT_URL=moto_url, MLFLOW_DISABLE_TELEMETRY="true")
    # The demo arranges its champion with MLflow's stage API, deprecated but what the spec uses.
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    # "Waiting up to 300 seconds for model version to finish creation": a version with a run is READY at once.
    logging.getLogger("mlflow.store.model_registry.abstract_store").setLevel(logging.WARNING)
    # The dev environment has the sagemaker-mlflow plugin (for the SigV4 tests); its header provider
    # complains about every non-ARN tracking URI. It changes nothing here.
    logging.getLogger("mlflow.tracking.request_header.registry").setLevel(logging.ERROR)
    import boto3
    from mlflow.tracking import MlflowClient

    _step(3, f"Registering {MODEL} (champion v1 in Production, challenger v2 in Staging) and the AWS side")
    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    client.create_registered_model(MODEL)
    for stage in ("Production", "Staging"):
        _register(client, stage)
    print(f"      accuracy logged on their runs: v1 {ACCURACY['1']}, v2 {ACCURACY['2']}")
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

    workflow_input: dict[str, Any] = WORKFLOW_INPUT
    if webhook_cleanup is not None:
        workflow_input = start_by_webhook(client, MODEL, "2", workdir, webhook_cleanup)
    _step(4, "Running the synthesized state machine in aws-local-stepfunctions")
    print(f"      input {json.dumps(workflow_input)}")
    print(f"      the function's promotion gate: {' '.join(f'{k}={v}' for k, v in GATE_SETTINGS.items())}")
    references = stack.local_references(function_arn=FUNCTION_ARN, topic_arn=topic_arn, secret_arn=secret_arn)
    handler_log = workdir / "handler.log"
    approver.start(sqs, queue_url, tokens)
    with handler_log.open("w") as log:
        execution = run_execution(
            stack,
            workflow_input,
            references=references,
            environment=_function_settings(mlflow_url, tokens.url),
            on_event=_print_event,
            handler_output=log,
        )
    approver.join()
    if approver.decision is not None:
        print(f"      decision: {approver.decision.stdout.strip() or approver.decision.stderr.strip()}")
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
    promoted = (execution.output or {}).get("promotion", {}).get("promoted")
    print(
        "\n      A new champion took over." if promoted else "\n      The promotion was rejected: the champion stays."
    )

    _refuse_a_worse_challenger(stack, client, references, mlflow_url, tokens.url, workdir)
    print("\nDone. Everything started here has been stopped.")


def _refuse_a_worse_challenger(
    stack: SynthesizedStack, client: Any, references: Any, mlflow_url: str, tokens_url: str, workdir: Path
) -> None:
    """The gate at work: a challenger whose accuracy is below the champion's is not promoted, and
    nobody is asked to approve it (the preview already says it would not be)."""
    _step(6, "A worse challenger meets the promotion gate")
    version = _register(client, "Staging")
    champion = next(
        v.version for v in client.search_model_versions(f"name='{MODEL}'") if v.current_stage == "Production"
    )
    print(
        f"      v{version} in Staging with accuracy {ACCURACY[version]}; the champion v{champion} has {ACCURACY[champion]}"
    )
    print(f"      input {json.dumps(WORSE_INPUT)}")
    before = _stages(client)
    with (workdir / "handler-gate.log").open("w") as log:
        execution = run_execution(
            stack,
            WORSE_INPUT,
            references=references,
            environment=_function_settings(mlflow_url, tokens_url),
            on_event=_print_event,
            handler_output=log,
        )
    result = (execution.output or {}).get("promotion") or {}
    print(f"      execution {execution.status}")
    print("      handler result " + json.dumps(result, indent=2).replace("\n", "\n      "))
    _print_registry(before, _stages(client))
    if execution.status != "SUCCEEDED" or result.get("reason_code") != "METRIC_NOT_IMPROVED":
        raise SystemExit(f"the gate did not refuse the worse challenger: {execution.status} {result}")
    print(f"\n      Refused by the gate ({result['reason_code']}): nothing changed, no approval was asked.")


def _register(client: Any, stage: str) -> str:
    """A version of the model from a run that logged its accuracy, in ``stage``."""
    experiment_id = client.get_experiment_by_name("Default").experiment_id
    run_id = client.create_run(experiment_id).info.run_id
    version = client.create_model_version(MODEL, "s3://demo-models/pascal-strategy", run_id=run_id).version
    client.log_metric(run_id, "accuracy", ACCURACY[version])
    client.transition_model_version_stage(MODEL, version, stage)
    return str(version)


def _function_settings(mlflow_url: str, tokens_url: str) -> dict[str, str]:
    """What the demo's function sees beyond the synthesized stack's settings: the local servers and
    the promotion gate."""
    return {
        "MLFLOW_TRACKING_URI": mlflow_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "LOCAL_TASK_TOKENS_URL": tokens_url,
        **GATE_SETTINGS,
    }


def _print_request(request: dict[str, Any]) -> None:
    print("\n      Approval request, as the topic's subscriber receives it:", flush=True)
    shown = {key: value for key, value in request.items() if key not in ("task_token", "approve", "reject")}
    print("      " + json.dumps(shown, indent=2).replace("\n", "\n      "))
    print("      to approve: promote-model approve <token>   to reject: promote-model reject <token> --reason ...")
    print("      (the demo answers it now with the command itself)\n", flush=True)


def _step(number: int, title: str) -> None:
    print(f"\n[{number}/{STEPS}] {title}", flush=True)


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
