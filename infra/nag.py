"""cdk-nag (AwsSolutions) for the app, and the stack-wide acknowledgments with their reasons.

Acknowledgments that belong to one resource sit next to that resource in its construct.
"""

from __future__ import annotations

from aws_cdk import App, Stack, Validations
from cdk_nag import AwsSolutionsChecks


def add_nag_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge_stack_findings(stack: Stack) -> None:
    del stack
