"""The README's five-minute example is a working CDK app: executed as written, it synthesizes a stack
with the function and a state machine whose PromoteModel task, retries and catches are the fragment's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Five minutes in your own CDK app"


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, f"expected one python block under {SECTION!r}, found {len(blocks)}"
    return blocks[0]


def test_the_readme_example_synthesizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Run as `cdk synth` runs an app: the CLI passes the output folder and context in these variables.
    # The function's assets are not bundled here (bundling is proven in tests/infra/test_bundle.py).
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps({"aws:cdk:bundling-stacks": []}))
    exec(compile(readme_example(), "README.md", "exec"), {"__name__": "__main__"})  # noqa: S102

    template = json.loads((tmp_path / "Retraining.template.json").read_text())
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == 1
    assert "AWS::SecretsManager::Secret" in types  # MlflowAuth.basic() created the credentials secret
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    for state in ("TrainAndEvaluate", "PromoteModel", "WasModelPromoted", "DeployChampion", "ChampionKept"):
        assert state in definition, f"{state} is not in the state machine"
    assert "RegistryUnavailableError" in definition  # the fragment's retry
