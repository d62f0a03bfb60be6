"""Synthesize each environment once per session, exactly as `cdk synth` would."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app_factory import build_app
from infra.stack import PromoteModelStack

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ["dev", "staging", "prod"]


def cdk_context(environment: str, **overrides: Any) -> dict[str, Any]:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["environment"] = environment
    context["aws:cdk:enable-asset-metadata"] = True  # as the CDK CLI sets it: asset paths in Metadata
    context["environments"][environment].update(overrides)
    return context


@dataclass(frozen=True)
class Synthesized:
    environment: str
    stack: PromoteModelStack
    template: Template
    template_dict: dict[str, Any]
    outdir: Path

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_dict["Resources"].items() if v["Type"] == type_name}


def synthesize(outdir: Path, environment: str, **overrides: Any) -> Synthesized:
    app, stack = build_app(cdk_context(environment, **overrides), outdir=str(outdir))
    assembly = app.synth()
    template_dict = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(environment, stack, Template.from_json(template_dict), template_dict, outdir)


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def synthesized(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp(f"cdk-{request.param}"), request.param)


@pytest.fixture(scope="session")
def library_wheel() -> Path:
    """The library's wheel as the README says to build it: ``make dist`` in the checkout (with the
    dev venv taken as it is: a test never reinstalls the environment it runs in)."""
    subprocess.run(
        ["make", "--no-print-directory", "--old-file=.venv/bin/.installed", "dist"],
        cwd=ROOT, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    [wheel] = (ROOT / "dist").glob("promote_model_cdk-*-py3-none-any.whl")
    return wheel
