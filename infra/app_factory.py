"""Builds the CDK app for one environment; ``app.py`` and the tests both use it."""

from __future__ import annotations

from typing import Any

from aws_cdk import App

from infra.config import load_environment
from infra.nag import add_nag_checks
from infra.stack import PromoteModelStack


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None) -> tuple[App, PromoteModelStack]:
    app = App(context=context, outdir=outdir) if context is not None else App(outdir=outdir)
    context = {key: app.node.try_get_context(key) for key in ("environments", "mlflow_tracking_uri")}
    config = load_environment(context, app.node.try_get_context("environment"))
    stack = PromoteModelStack(app, config=config)
    add_nag_checks(app)
    return app, stack
