"""The deployed state machine, run on this machine: moto cannot run a Python Lambda without Docker, and
its Step Functions never runs a task of a machine CloudFormation created.

So the definition is read back through Step Functions (``DescribeStateMachine``) and run in the local
ASL interpreter (devtools/local/workflow.py), whose ``PromoteModel`` task runs the deployed function's
code: its zip and its layer's, read back from the bootstrap bucket and checked against the SHA-256 Lambda
recorded for them, with the environment Lambda holds for the function, in a clean interpreter that has
only the standard library and boto3 (as the Lambda runtime provides it).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from devtools.deploy.aws import Aws, layer_version
from devtools.local.workflow import Execution, TaskRuntime, resolve, run_definition
from devtools.paths import ROOT

# What the Lambda runtime provides besides the bundle: boto3 (pinned like ours, constraints.txt).
RUNTIME_PACKAGES = ["boto3"]


def lambda_runtime_packages(directory: Path) -> Path:
    """``directory`` holding boto3 and its dependencies only, installed once per constraints.txt."""
    constraints = ROOT / "constraints.txt"
    stamp = hashlib.sha256(constraints.read_bytes()).hexdigest()
    stamp_file = directory / ".installed-from"
    if not stamp_file.is_file() or stamp_file.read_text() != stamp:
        install = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
             "--upgrade", "--target", str(directory), "-c", str(constraints), *RUNTIME_PACKAGES],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if install.returncode != 0:
            raise RuntimeError(
                f"pip could not install {' '.join(RUNTIME_PACKAGES)} into {directory}:\n{install.stderr}"
            )
        stamp_file.write_text(stamp)
    return directory


def deployed_function_code(
    aws: Aws, template: dict[str, Any], function_name: str, workdir: Path
) -> tuple[Path, Path, dict[str, str]]:
    """The deployed function's code and layer directories and its environment, read back.

    The zips come from where the template put them (the bootstrap bucket); each must hash to what Lambda
    recorded for the function and its layer, or this fails.
    """
    lambda_ = aws.client("lambda")
    configuration = lambda_.get_function_configuration(FunctionName=function_name)
    [layer_arn] = [layer["Arn"] for layer in configuration["Layers"]]
    layer = lambda_.get_layer_version(**layer_version(layer_arn))
    pseudo = {"AWS::AccountId": aws.account, "AWS::Region": aws.region, "AWS::Partition": "aws"}
    resources = template["Resources"].values()
    [code_location] = [
        resolve(r["Properties"]["Code"], pseudo)
        for r in resources
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == configuration["Handler"]
    ]
    [layer_location] = [
        resolve(r["Properties"]["Content"], pseudo) for r in resources if r["Type"] == "AWS::Lambda::LayerVersion"
    ]
    code_dir = _unzip(aws, code_location, configuration["CodeSha256"], workdir / "code")
    layer_dir = _unzip(aws, layer_location, layer["Content"]["CodeSha256"], workdir / "layer") / "python"
    return code_dir, layer_dir, configuration.get("Environment", {}).get("Variables", {})


def _unzip(aws: Aws, location: dict[str, str], code_sha256: str, target: Path) -> Path:
    body = aws.client("s3").get_object(Bucket=location["S3Bucket"], Key=location["S3Key"])["Body"].read()
    actual = base64.b64encode(hashlib.sha256(body).digest()).decode()
    if actual != code_sha256:
        raise RuntimeError(f"s3://{location['S3Bucket']}/{location['S3Key']} is not what Lambda deployed: SHA-256 {actual}, Lambda says {code_sha256}")  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(target)  # our own asset, just built and hashed
    return target


def run_deployed_state_machine(
    aws: Aws,
    state_machine_arn: str,
    workflow_input: Any,
    *,
    runtime: TaskRuntime,
    function_environment: dict[str, str],
    **options: Any,
) -> Execution:
    """One execution of the deployed definition; the task sees the function's deployed environment and
    what Lambda adds to it (region, credentials; here, the local AWS endpoint)."""
    described = aws.client("stepfunctions").describe_state_machine(stateMachineArn=state_machine_arn)
    lambda_environment = {
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return run_definition(
        json.loads(described["definition"]),
        workflow_input,
        runtime=runtime,
        environment={**lambda_environment, **function_environment},
        state_machine_arn=state_machine_arn,
        **options,
    )
