"""`make deploy-local`: `cdk bootstrap`, `cdk deploy`, verify, run and `cdk destroy` the ``local``
environment's stack on a local AWS (a moto server, with what its CloudFormation lacks filled in by
devtools/deploy/moto_gaps.py) and a local MLflow server.

Real: the CDK CLI from node_modules, the bootstrap stack, asset publishing to the bootstrap bucket, the
change set, and the deployed code and definition. Emulated: the AWS services (moto; IAM and KMS policies
are stored, not enforced), and the Lambda runtime (the deployed code runs on this machine's Python 3.11
in a clean interpreter with boto3, not in the Lambda image). Everything started here is stopped by its
own process id when this ends, also on failure.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.deploy.aws import Aws, Check
from devtools.deploy.checks import still_exists, table, verify_stack
from devtools.deploy.moto_gaps import moto_server_with_gaps_filled
from devtools.deploy.workflow import deployed_function_code, lambda_runtime_packages, run_deployed_state_machine
from devtools.local.servers import mlflow_server, stop
from devtools.local.workflow import Execution, TaskRuntime
from devtools.paths import ROOT

ENVIRONMENT = "local"
STACK = f"PromoteModel-{ENVIRONMENT}"
MODEL = "PascalStrategy"
WORKFLOW_INPUT = {"model_name": MODEL, "challenger_version": "2", "comparison": {"confidence": 0.85}}
CDK_TIMEOUT_SECONDS = 300
RUNTIME_PACKAGES_DIR = ROOT / ".deploy-local" / "lambda-runtime"
# Left after `cdk destroy` on purpose: the template retains the alert topic's key (RemovalPolicy.RETAIN).
RETAINED_TYPES = {"AWS::KMS::Key"}


class DeployLocalError(RuntimeError):
    """A step of the local deploy failed; the message says which and why."""


@dataclass
class LocalDeployment:
    """What one `make deploy-local` found."""

    template: dict[str, Any] = field(default_factory=dict)  # what cdk deploy deployed
    checks: list[Check] = field(default_factory=list)
    execution: Execution | None = None
    stages_before: dict[str, str] = field(default_factory=dict)
    stages_after: dict[str, str] = field(default_factory=dict)
    promoted_version_tags: dict[str, str] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    left_after_destroy: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def deploy_local(
    workdir: Path,
    *,
    say: Callable[[str], None] = print,
    while_deployed: Callable[[dict[str, Any], Aws], None] | None = None,
) -> LocalDeployment:
    """One bootstrap, deploy, verification, promotion and destroy; ``while_deployed(template, aws)`` is
    called after the promotion, before the destroy (the tests probe the deployed stack with it)."""
    result = LocalDeployment()
    with ExitStack() as cleanup:
        moto = cleanup.enter_context(moto_server_with_gaps_filled(workdir / "moto"))
        # localhost, not 127.0.0.1: moto would read the bucket's name from the host of an IP endpoint.
        aws = Aws(moto.url.replace("127.0.0.1", "localhost"))
        cdk = CdkCli(aws, workdir)
        with _timed(result, "bootstrap"), cdk.started("bootstrap", f"aws://{aws.account}/{aws.region}") as bootstrap:
            say(
                f"[1/6] cdk bootstrap aws://{aws.account}/{aws.region} against moto at {aws.endpoint_url}; starting MLflow"
            )
            mlflow = cleanup.enter_context(mlflow_server(workdir / "mlflow"))
            cdk.wait(bootstrap, "bootstrap")
        say(f"[2/6] cdk deploy {STACK} -c mlflow_tracking_uri={mlflow.url}")
        with _timed(result, "deploy"):
            cdk.run("deploy", STACK, "-c", f"mlflow_tracking_uri={mlflow.url}", "--require-approval", "never")
            _require_stack_status(aws, "CREATE_COMPLETE")
        template = result.template = json.loads((cdk.outdir / f"{STACK}.template.json").read_text())

        say("[3/6] Verifying every resource through its own service's API")
        with _timed(result, "verify"):
            result.checks = verify_stack(template, STACK, aws)
        say(table(result.checks))
        failed = [c for c in result.checks if not c.passed]
        if failed:
            raise DeployLocalError(f"{len(failed)} of {len(result.checks)} checks failed:\n{table(failed)}")

        say("[4/6] Running the deployed state machine: its task runs the deployed code (read back from S3)")
        with _timed(result, "run"):
            _promote_through_the_deployed_stack(aws, template, mlflow.url, workdir, result, say)

        if while_deployed is not None:
            while_deployed(template, aws)
        say(f"[5/6] cdk destroy {STACK}")
        with _timed(result, "destroy"):
            cdk.run("destroy", STACK, "--force")
            result.left_after_destroy = _left_after_destroy(template, aws)
        if result.left_after_destroy:
            raise DeployLocalError(f"cdk destroy left {', '.join(result.left_after_destroy)}")
    say("[6/6] Stopped moto and MLflow")
    return result


def _promote_through_the_deployed_stack(
    aws: Aws,
    template: dict[str, Any],
    mlflow_url: str,
    workdir: Path,
    result: LocalDeployment,
    say: Callable[[str], None],
) -> None:
    outputs = _stack_outputs(aws)
    code_dir, layer_dir, environment = deployed_function_code(
        aws, template, outputs["FunctionArn"], workdir / "deployed"
    )
    runtime = TaskRuntime(code_dir, layer_dir, lambda_runtime_packages(RUNTIME_PACKAGES_DIR), outputs["FunctionArn"])
    queue_url = _subscribe_queue(aws, outputs["AlertTopicArn"])
    client = _mlflow_client(mlflow_url)
    _register_champion_and_challenger(client)
    result.stages_before = _stages(client)
    with (workdir / "handler.log").open("w") as handler_log:
        result.execution = run_deployed_state_machine(
            aws,
            outputs["StateMachineArn"],
            WORKFLOW_INPUT,
            runtime=runtime,
            function_environment=environment,
            handler_output=handler_log,
        )
    result.stages_after = _stages(client)
    result.promoted_version_tags = dict(client.get_model_version(MODEL, WORKFLOW_INPUT["challenger_version"]).tags)
    result.notifications = _received(aws, queue_url)
    execution = result.execution
    say(f"      states {' -> '.join(execution.states_entered())}: {execution.status}")
    say(f"      registry {result.stages_before} -> {result.stages_after}")
    say(f"      notifications {[n['MessageAttributes']['event']['Value'] for n in result.notifications]}")
    if execution.status != "SUCCEEDED":
        raise DeployLocalError(f"the deployed state machine failed: {execution.error}: {execution.cause}")


class CdkCli:
    """The CDK CLI from node_modules, pointed at the local AWS only, writing to its own cdk.out."""

    def __init__(self, aws: Aws, workdir: Path) -> None:
        self.outdir = workdir / "cdk.out"
        self.log_path = workdir / "cdk.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
        self.env = inherited | {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "AWS_ENDPOINT_URL": aws.endpoint_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": aws.region,
            "AWS_DEFAULT_REGION": aws.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def _command(self, *arguments: str) -> list[str]:
        return ["npx", "--no-install", "cdk", *arguments, "-c", f"environment={ENVIRONMENT}",
                "--output", str(self.outdir), "--no-color", "--progress", "events"]  # fmt: skip

    @contextmanager
    def started(self, *arguments: str) -> Iterator[subprocess.Popen[bytes]]:
        """The command running in the background; stopped (its process group) if still running on exit."""
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                self._command(*arguments), cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            yield process
        finally:
            stop(process)

    def wait(self, process: subprocess.Popen[bytes], name: str) -> None:
        try:
            returncode = process.wait(timeout=CDK_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise DeployLocalError(f"cdk {name} took more than {CDK_TIMEOUT_SECONDS} s; see {self.log_path}") from None
        if returncode != 0:
            raise DeployLocalError(f"cdk {name} failed (exit code {returncode}):\n{self._tail()}")

    def run(self, *arguments: str) -> None:
        with self.started(*arguments) as process:
            self.wait(process, arguments[0])

    def _tail(self, lines: int = 25) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _require_stack_status(aws: Aws, expected: str) -> None:
    """`cdk deploy`'s exit code alone is not trusted (docs: devtools/deploy/moto_gaps.py, gap failed_resource)."""
    [stack] = aws.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    if stack["StackStatus"] != expected:
        raise DeployLocalError(f"{STACK} is {stack['StackStatus']}, not {expected}: {stack.get('StackStatusReason')}")


def _stack_outputs(aws: Aws) -> dict[str, str]:
    [stack] = aws.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def _left_after_destroy(template: dict[str, Any], aws: Aws) -> list[str]:
    """The stack's resources still found in their services, but those the template retains."""
    return [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] not in RETAINED_TYPES and still_exists(STACK, logical_id, resource, aws)
    ]


def _subscribe_queue(aws: Aws, topic_arn: str) -> str:
    """A queue subscribed to the alert topic, so the run can read what was published."""
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="deploy-local-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return str(queue_url)


def _received(aws: Aws, queue_url: str) -> list[dict[str, Any]]:
    answer = aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"]) for message in answer.get("Messages", [])]


def _mlflow_client(url: str) -> Any:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    warnings.filterwarnings("ignore", category=FutureWarning)  # the stage API: deprecated, what the spec uses
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # after the import: mlflow sets its own level

    return MlflowClient(tracking_uri=url, registry_uri=url)


def _register_champion_and_challenger(client: Any) -> None:
    client.create_registered_model(MODEL)
    for stage in ("Production", "Staging"):
        version = client.create_model_version(MODEL, "s3://deploy-local-models/pascal-strategy")
        client.transition_model_version_stage(MODEL, version.version, stage)


def _stages(client: Any) -> dict[str, str]:
    return {v.version: v.current_stage for v in client.search_model_versions(f"name='{MODEL}'")}


@contextmanager
def _timed(result: LocalDeployment, step: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    result.seconds[step] = round(time.monotonic() - started, 1)
    print(f"      ({step}: {result.seconds[step]} s)", flush=True)


def main() -> int:
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="promote-model-deploy-local-") as workdir:
            result = deploy_local(Path(workdir))
    except DeployLocalError as error:
        print(f"\nmake deploy-local failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted: moto and MLflow stopped.", file=sys.stderr)
        return 130
    passed = sum(c.passed for c in result.checks)
    print(f"\nDone in {time.monotonic() - started:.0f} s ({', '.join(f'{k} {v} s' for k, v in result.seconds.items())}): "
          f"{passed} checks passed, a promotion ran through the deployed stack, and the stack was destroyed.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
