"""Run the synthesized state machine locally: the definition and the assets from cdk.out, in a real
Amazon States Language interpreter (aws-local-stepfunctions), with the bundled handler as the task.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.paths import ROOT

_ASL_DIR = Path(__file__).resolve().parent / "asl"
HANDLER = "promote_model.handler.lambda_handler"
LOCAL_STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:PromoteModel-local"


@dataclass(frozen=True)
class SynthesizedStack:
    """What `cdk synth` wrote for one stack: its template and where its assets are."""

    template: dict[str, Any]
    outdir: Path

    @classmethod
    def load(cls, outdir: Path, stack_name: str) -> SynthesizedStack:
        return cls(json.loads((outdir / f"{stack_name}.template.json").read_text()), outdir)

    def _resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == type_name}

    @property
    def function_id(self) -> str:
        [logical_id] = [
            k for k, v in self._resources("AWS::Lambda::Function").items() if v["Properties"]["Handler"] == HANDLER
        ]
        return logical_id

    def logical_id(self, type_name: str) -> str:
        [logical_id] = self._resources(type_name)
        return logical_id

    @property
    def code_dir(self) -> Path:
        return self.outdir / self.template["Resources"][self.function_id]["Metadata"]["aws:asset:path"]

    @property
    def layer_dir(self) -> Path:
        [layer] = self._resources("AWS::Lambda::LayerVersion").values()
        return self.outdir / layer["Metadata"]["aws:asset:path"] / "python"

    def local_references(self, *, function_arn: str, topic_arn: str, secret_arn: str) -> dict[str, str]:
        """Local stand-ins for the CloudFormation references of the definition and the function."""
        return {
            "AWS::Partition": "aws",
            f"{self.function_id}.Arn": function_arn,
            self.logical_id("AWS::SNS::Topic"): topic_arn,
            self.logical_id("AWS::SecretsManager::Secret"): secret_arn,
        }

    def function_environment(self, references: Mapping[str, str]) -> dict[str, str]:
        variables = self.template["Resources"][self.function_id]["Properties"]["Environment"]["Variables"]
        return {name: resolve(value, references) for name, value in variables.items()}

    def state_machine_definition(self, references: Mapping[str, str]) -> dict[str, Any]:
        [machine] = self._resources("AWS::StepFunctions::StateMachine").values()
        return json.loads(resolve(machine["Properties"]["DefinitionString"], references))

    def task_runtime(self) -> TaskRuntime:
        return TaskRuntime(code_dir=self.code_dir, layer_dir=self.layer_dir)


def resolve(value: Any, references: Mapping[str, str]) -> Any:
    """``value`` with the CloudFormation intrinsics this stack's templates use (Ref, Fn::GetAtt, Fn::Join,
    Fn::Sub) replaced by ``references``: ``{"<LogicalId>": ref, "<LogicalId>.<Attribute>": value, ...}``."""
    if isinstance(value, list):
        return [resolve(item, references) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(resolve(part, references) for part in parts)
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda match: _reference(match.group(1), references), value["Fn::Sub"])
    if "Ref" in value:
        return _reference(value["Ref"], references)
    if "Fn::GetAtt" in value:
        return _reference(".".join(value["Fn::GetAtt"]), references)
    return {key: resolve(item, references) for key, item in value.items()}


def _reference(key: str, references: Mapping[str, str]) -> str:
    if key not in references:
        raise KeyError(f"no local value given for {key!r}")
    return references[key]


@dataclass(frozen=True)
class TaskRuntime:
    """What runs the ``PromoteModel`` task: the handler's code and layer directories, in this interpreter,
    or, given ``runtime_packages`` (boto3 alone, as the Lambda runtime provides it), in a clean one that
    sees only the standard library, that folder and the bundle."""

    code_dir: Path
    layer_dir: Path
    runtime_packages: Path | None = None
    function_arn: str | None = None  # what the handler's context says it is
    python: Path | None = None  # the clean run's interpreter (the function's runtime's); default this one's

    def worker_command(self) -> list[str]:
        bundle = ["--code", str(self.code_dir), "--layer", str(self.layer_dir)]
        if self.function_arn is not None:
            bundle += ["--function-arn", self.function_arn]
        if self.runtime_packages is None:
            return [sys.executable, "-m", "devtools.local.lambda_worker", *bundle]
        # -I -S: no site-packages, no PYTHON* variables, not even this script's folder on sys.path.
        interpreter = str(self.python) if self.python else str(getattr(sys, "_base_executable", sys.executable))
        clean = [interpreter, "-I", "-S"]
        return [
            *clean,
            str(Path(__file__).with_name("lambda_worker.py")),
            *bundle,
            "--runtime",
            str(self.runtime_packages),
        ]


def _context_object(workflow_input: Any, state_machine_arn: str) -> dict[str, Any]:
    """The Context Object Step Functions gives an execution (what ``$$`` paths read)."""
    name = f"local-{uuid.uuid4()}"
    execution_arn = state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    return {
        "Execution": {
            "Id": execution_arn,
            "Name": name,
            "Input": workflow_input,
            "StartTime": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        },
        "StateMachine": {"Id": state_machine_arn},
        # What $$.Task.Token reads in a .waitForTaskToken state: one per execution here.
        "Task": {"Token": f"local-task-token-{uuid.uuid4().hex}"},
    }


@dataclass
class Execution:
    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def states_entered(self) -> list[str]:
        return [e["state"]["name"] for e in self.events if e["type"] == "StateEntered"]

    def retries(self, state: str) -> int:
        return sum(1 for e in self.events if e["type"] == "StateRetried" and e["state"]["name"] == state)


def run_execution(
    stack: SynthesizedStack,
    workflow_input: Any,
    *,
    references: Mapping[str, str],
    environment: Mapping[str, str],
    **options: Any,
) -> Execution:
    """Run one execution of the synthesized state machine; the bundled handler sees the stack's function
    environment plus ``environment``. ``options`` are those of ``run_definition``."""
    return run_definition(
        stack.state_machine_definition(references),
        workflow_input,
        runtime=stack.task_runtime(),
        environment={**stack.function_environment(references), **environment},
        **options,
    )


def run_definition(
    definition: dict[str, Any],
    workflow_input: Any,
    *,
    runtime: TaskRuntime,
    environment: Mapping[str, str],
    state_machine_arn: str = LOCAL_STATE_MACHINE_ARN,
    retry_interval_ms: int | None = None,
    on_event: Any = None,
    handler_output: Any = None,
    timeout_seconds: float = 300,
) -> Execution:
    """Run one execution of ``definition``; its Task states run in ``runtime`` with this process's
    environment plus ``environment``.

    ``on_event`` is called with each execution event as it happens; ``handler_output`` (a file)
    receives what the handler logs, which otherwise goes to this process's stderr.
    """
    request = {"definition": definition, "input": workflow_input, "worker": runtime.worker_command()}
    if retry_interval_ms is not None:
        request["retryIntervalMs"] = retry_interval_ms
    request["context"] = _context_object(workflow_input, state_machine_arn)
    env = {**os.environ, **environment}
    env["PYTHONPATH"] = str(ROOT)  # for devtools.local.lambda_worker itself; the handler comes from the bundle
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(request, handle)
    try:
        node = subprocess.Popen(
            ["node", "--require", str(_ASL_DIR / "promise-with-resolvers.cjs"), str(_ASL_DIR / "run-execution.mjs"), handle.name],
            stdout=subprocess.PIPE,
            stderr=handler_output,
            text=True,
            env=env,
            cwd=ROOT,
        )  # fmt: skip
        execution = Execution(status="UNKNOWN")
        assert node.stdout is not None
        for line in node.stdout:
            record = json.loads(line)
            if "event" in record:
                execution.events.append(record["event"])
                if on_event is not None:
                    on_event(record["event"])
            else:
                execution.status = record["status"]
                execution.output = record.get("output")
                failed = [e for e in execution.events if e["type"] == "ExecutionFailed"]
                source = failed[-1] if failed else {"Error": record.get("error"), "Cause": record.get("cause")}
                execution.error, execution.cause = source["Error"], source["Cause"]
        node.wait(timeout=timeout_seconds)
    finally:
        os.unlink(handle.name)
    if execution.status == "UNKNOWN":
        raise RuntimeError(f"the ASL interpreter stopped without a result (exit code {node.returncode})")
    return execution
