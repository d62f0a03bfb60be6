"""cdk-nag (AwsSolutions) for the app. Acknowledgments sit next to the resource they concern, each
with its reason, in the constructs (``Validations.of(...).acknowledge``, core CDK: the library needs
no cdk-nag)."""

from __future__ import annotations

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks


def add_nag_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
