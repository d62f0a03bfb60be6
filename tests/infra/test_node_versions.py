"""The CDK CLI and the app's jsii kernel on Node.js 24 (the CDK's recommended Node): ``cdk synth``
writes the template, and nothing prints or silences an end-of-life warning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.infra.conftest import ROOT
from tests.interpreters import node_binary


def test_cdk_synth_runs_on_node_24_with_no_end_of_life_warning(tmp_path):
    node = node_binary(24)
    path = os.pathsep.join([str(node.parent), str(sys.executable.rsplit("/", 1)[0]), os.environ["PATH"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_SILENCE")} | {"PATH": path}
    assert shutil.which("node", path=path) == str(node)  # what the app's jsii kernel starts, too

    synth = subprocess.run(
        [str(node), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"), "synth", "-c", "environment=dev",
         "--quiet", "-o", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip

    assert synth.returncode == 0, synth.stderr[-3000:]
    version = subprocess.run([str(node), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v24.")
    assert "end-of-life" not in synth.stderr.lower()
    template = json.loads((tmp_path / "PromoteModel-dev.template.json").read_text())
    assert any(r["Type"] == "AWS::StepFunctions::StateMachine" for r in template["Resources"].values())
