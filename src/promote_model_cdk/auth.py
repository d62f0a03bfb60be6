"""``MlflowAuth``: how the function authenticates to MLflow, and exactly what each way is granted.

| variant | secret | function settings | grants |
|---|---|---|---|
| ``basic(secret=None)`` | the one given, or a new one with a generated password | ``MLFLOW_CREDENTIALS_SECRET_ARN`` | read on that secret, decrypt on its key |
| ``token(secret)`` | the one given, holding ``{"token": ...}`` | ``MLFLOW_CREDENTIALS_SECRET_ARN`` | read on that secret, decrypt on its key |
| ``sagemaker(arn)`` | none | ``MLFLOW_TRACKING_URI`` = the tracking server ARN | the registry actions the function calls, on that server |
| ``none()`` | none | nothing | nothing |

A secret encrypted with a customer-managed key needs decrypt on that key too: the key is the
secret's own (``Secret.from_secret_attributes(..., encryption_key=key)``) or ``encryption_key=``
given here (for a secret imported by ARN or name alone). Secrets Manager's default key
(``aws/secretsmanager``) needs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from promote_model_cdk.constants import SAGEMAKER_MLFLOW_ACTIONS, SECRET_PASSWORD_LENGTH, SECRET_USERNAME
from promote_model_cdk.validation import check_sagemaker_arn

AuthKind = Literal["basic", "token", "sagemaker", "none"]


@dataclass(frozen=True)
class MlflowAuth:
    """Build with ``MlflowAuth.basic()``, ``.token(secret)``, ``.sagemaker(arn)`` or ``.none()``."""

    kind: AuthKind
    """``"basic"``, ``"token"``, ``"sagemaker"`` or ``"none"``: which constructor built it."""
    secret: secretsmanager.ISecret | None = None
    """The credentials secret given to ``basic`` or ``token``; ``None`` when there is none (``basic()``
    then creates one)."""
    tracking_server_arn: str | None = None
    """The SageMaker tracking server's ARN (``sagemaker`` only)."""
    secret_key: kms.IKey | None = None
    """The customer-managed key of an imported secret, given to ``basic`` or ``token`` (``None``: the
    secret's own, if it carries one)."""

    @classmethod
    def basic(
        cls, secret: secretsmanager.ISecret | None = None, *, encryption_key: kms.IKey | None = None
    ) -> MlflowAuth:
        """MLflow basic auth (``mlflow server --app-name basic-auth``) with ``{"username", "password"}``
        from ``secret``; ``None`` creates that secret with the user ``promote-model`` and a generated
        password (create that user in MLflow with EDIT on the promoted models). ``encryption_key``:
        the customer-managed key of an imported ``secret``, when the secret does not carry it."""
        if encryption_key is not None and secret is None:
            raise ValueError("MlflowAuth.basic: encryption_key is the key of a secret you pass; give the secret too")
        return cls("basic", secret=secret, secret_key=encryption_key)

    @classmethod
    def token(cls, secret: secretsmanager.ISecret, *, encryption_key: kms.IKey | None = None) -> MlflowAuth:
        """A bearer token, from ``secret`` holding ``{"token": ...}``. ``encryption_key``: the
        secret's customer-managed key, when the imported secret does not carry it."""
        return cls("token", secret=secret, secret_key=encryption_key)

    @classmethod
    def sagemaker(cls, tracking_server_arn: str) -> MlflowAuth:
        """A SageMaker managed MLflow tracking server, signed with the function's own role (SigV4):
        ``MLFLOW_TRACKING_URI`` is the server's ARN and no secret exists. A token (a deploy-time
        value) is passed through; a concrete value must be such an ARN."""
        return cls("sagemaker", tracking_server_arn=check_sagemaker_arn(tracking_server_arn))

    @classmethod
    def none(cls) -> MlflowAuth:
        """No authentication (an MLflow server that asks for none, e.g. behind a private network)."""
        return cls("none")

    def _credentials_secret(
        self, scope: Construct, *, environment: str, encryption_key: kms.IKey
    ) -> secretsmanager.ISecret | None:
        """The secret the function reads, created in ``scope`` when basic auth was given none."""
        if self.kind == "basic" and self.secret is None:
            return _generated_basic_auth_secret(scope, environment=environment, encryption_key=encryption_key)
        return self.secret

    def _grant(self, function_role: iam.IGrantable, secret: secretsmanager.ISecret | None) -> None:
        if secret is not None:
            secret.grant_read(function_role)
            # The CDK's grant_read leaves out an imported secret's key: decrypt is granted here.
            key = self.secret_key or secret.encryption_key
            if key is not None:
                key.grant_decrypt(function_role)
        if self.kind == "sagemaker":
            assert self.tracking_server_arn is not None
            function_role.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(actions=SAGEMAKER_MLFLOW_ACTIONS, resources=[self.tracking_server_arn])
            )


def _generated_basic_auth_secret(
    scope: Construct, *, environment: str, encryption_key: kms.IKey
) -> secretsmanager.Secret:
    secret = secretsmanager.Secret(
        scope,
        "MlflowCredentials",
        description=(
            f"MLflow basic-auth credentials of promote-model ({environment}): "
            '{"username", "password"}; create this user in MLflow with EDIT on the promoted models'
        ),
        encryption_key=encryption_key,
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
                "here together (docs/deploying.md: rotating the MLflow password)."
            ),
        )
    )
    return secret
