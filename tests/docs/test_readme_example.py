"""The README's five-minute example is a working CDK app: executed as written, it synthesizes a stack
with the function and a state machine whose PromoteModel task, retries and catches are the fragment's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Five minutes in your own CDK app"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, f"expected one python block under {SECTION!r}, found {len(blocks)}"
    return blocks[0]


def test_the_readme_example_synthesizes(tmp_path: Path) -> None:
    # Run as a user runs it (`python app.py`, in a fresh interpreter), with what `cdk synth` passes an
    # app: the output folder and the context. The function's assets are not bundled here (bundling is
    # proven in tests/infra/test_bundle.py).
    (tmp_path / "app.py").write_text(readme_example())
    env = {
        **os.environ,
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
        "CDK_CONTEXT_JSON": json.dumps({"aws:cdk:bundling-stacks": []}),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stderr[-3000:]

    template = json.loads((tmp_path / "cdk.out" / "Retraining.template.json").read_text())
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == 1
    assert "AWS::SecretsManager::Secret" in types  # MlflowAuth.basic() created the credentials secret
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    for state in ("TrainAndEvaluate", "PromoteModel", "WasModelPromoted", "DeployChampion", "ChampionKept"):
        assert state in definition, f"{state} is not in the state machine"
    assert "RegistryUnavailableError" in definition  # the fragment's retry
