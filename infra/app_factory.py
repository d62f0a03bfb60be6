"""Builds the CDK app for one environment; ``app.py``, the tests and the tools all use it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App

from infra.config import load_environment
from infra.nag import add_nag_checks
from infra.stack import PromoteModelStack

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"

# What the CDK CLI adds to the context of every synthesis (its defaults), so that `python app.py`
# alone writes the template `cdk synth` writes.
_CLI_DEFAULT_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None) -> tuple[App, PromoteModelStack]:
    """``context=None`` is how ``app.py`` runs: cdk.json's context and the CLI's defaults, under
    whatever the CLI or ``CDK_CONTEXT_JSON`` passes (which wins, as in ``cdk synth``)."""
    if context is None:
        context = {**_CLI_DEFAULT_CONTEXT, **json.loads(CDK_JSON.read_text())["context"]}
    app = App(context=context, outdir=outdir)
    # `-c mlflow_tracking_uri=...` overrides the environment's at deploy time (make deploy-local);
    # `-c approval_timeout_seconds=N` turns the approval gate on (make demo, the tests)
    overrides = ("environments", "mlflow_tracking_uri", "approval_timeout_seconds")
    settings = {key: app.node.try_get_context(key) for key in overrides}
    config = load_environment(settings, app.node.try_get_context("environment"))
    stack = PromoteModelStack(app, config=config)
    add_nag_checks(app)
    return app, stack
