"""The MLflow credentials secret: created with a generated password, or imported by ARN."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constants import SECRET_PASSWORD_LENGTH, SECRET_USERNAME


class MlflowCredentials(Construct):
    def __init__(self, scope: Construct, id: str, *, environment: str, existing_secret_arn: str | None) -> None:
        super().__init__(scope, id)
        self.secret: secretsmanager.ISecret
        if existing_secret_arn is not None:
            self.secret = secretsmanager.Secret.from_secret_complete_arn(self, "Secret", existing_secret_arn)
            return
        secret = secretsmanager.Secret(
            self,
            "Secret",
            description=(
                f"MLflow basic-auth credentials of promote-model ({environment}): "
                '{"username", "password"}; create this user in MLflow with EDIT on the promoted models'
            ),
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": SECRET_USERNAME}),
                generate_string_key="password",
                password_length=SECRET_PASSWORD_LENGTH,
                exclude_punctuation=True,
            ),
        )
        Validations.of(secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason=(
                    "The password is also stored in MLflow's own user store, which Secrets Manager cannot "
                    "update; rotating it here alone would lock the function out. Rotate it in MLflow and "
                    "here together (README: rotating the MLflow password)."
                ),
            )
        )
        self.secret = secret
