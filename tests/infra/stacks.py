"""A bare ``Stack()`` and a ``PromoteModel`` in it with the fewest options, for the tests that read
synthesized templates."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack

from promote_model_cdk import MlflowAuth, PromoteModel

TRACKING_URI = "https://mlflow.example.com"


def bare_stack() -> Stack:
    # No bundling: these tests read the template, not the assets (tests/infra/test_bundle.py does).
    return Stack(App(context={"aws:cdk:bundling-stacks": []}), "Test")


def make_promote_model(stack: Stack, id: str = "PromoteModel", **options: Any) -> PromoteModel:
    options.setdefault("tracking_uri", TRACKING_URI)
    options.setdefault("auth", MlflowAuth.none())
    options.setdefault("environment", "test")
    return PromoteModel(stack, id, **options)
