"""The local ASL interpreter (aws-local-stepfunctions) on Node.js 22 and 24, the Node releases the
CDK supports: the synthesized state machine promotes with the bundled handler as its task.
(Node 20, this machine's own, runs every other e2e test, with its polyfill.)"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.interpreters import node_binary
from tests.support import register_model, stages


@pytest.mark.parametrize("major", [22, 24])
def test_the_state_machine_promotes_on_node(major, run_workflow, mlflow_client, monkeypatch):
    node = node_binary(major)
    monkeypatch.setenv("PATH", f"{node.parent}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("node") == str(node)  # what the interpreter runs on
    name = register_model(mlflow_client, ["Production", "Staging"])

    execution = run_workflow({"model_name": name, "challenger_version": "2", "comparison": {"confidence": 0.9}})

    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    assert execution.states_entered() == [
        "IsNewVersionGiven",
        "PromoteModel",
        "WasModelPromoted",
        "ModelPromoted",
        "NotifySuccess",
    ]
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
