"""The retraining workflow of two models, each trained, evaluated and promoted, then deployed.

Training, evaluation and deployment are stand-ins (``Pass`` and ``Wait`` states) for your own jobs;
the promotions are ``promote_model_cdk``'s fragments, reading each model's fields from this
workflow's own state layout:

    {"models": {"forecaster": {"name": ..., "version": ...}, "ranker": {...}},
     "evaluation": {"forecaster": {"confidence": ...}, "ranker": {...}}}
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from promote_model_cdk import MlflowAuth, PromoteModel, PromoteModelFragment

MODELS = {"forecaster": "DemandForecaster", "ranker": "OfferRanker"}
RUNTIMES = {"python3.12": lambda_.Runtime.PYTHON_3_12, "python3.13": lambda_.Runtime.PYTHON_3_13}
ARCHITECTURES = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}


class RetrainingStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        tracking_uri: str | None,
        auth_setting: dict[str, Any],
        lambda_runtime: str = "python3.13",
        lambda_architecture: str = "arm64",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        auth = self._auth(auth_setting)
        self.promote_model = PromoteModel(
            self,
            "PromoteModel",
            # A SageMaker tracking server's ARN is its tracking URI.
            tracking_uri=None if auth.kind == "sagemaker" else tracking_uri,
            auth=auth,
            environment="prod",
            challenger_alias="challenger",
            subject_prefix="[Retraining]",
            # An Amazon Linux 2023 runtime on Graviton; the library's default is python3.11 on x86_64.
            runtime=RUNTIMES[lambda_runtime],
            architecture=ARCHITECTURES[lambda_architecture],
        )

        failed = sfn.Fail(self, "RetrainingFailed", error="PromotionFailed", cause="see $.error")
        deploy = sfn.Pass(self, "DeployChampions")  # your endpoint update, for each promoted model
        # Each promotion, promoted or not, continues with the next one, then the deployment.
        promote_ranker = self._promotion("ranker", then=deploy, on_failure=failed)
        promote_forecaster = self._promotion("forecaster", then=promote_ranker, on_failure=failed)

        definition = self._train().next(self._wait_for_training()).next(self._evaluate()).next(promote_forecaster)
        self.state_machine = sfn.StateMachine(
            self,
            "RetrainingWorkflow",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self._log_group(), level=sfn.LogLevel.ERROR),
        )

    def _auth(self, setting: dict[str, Any]) -> MlflowAuth:
        kind = setting["kind"]
        if kind == "token":
            secret = secretsmanager.Secret.from_secret_complete_arn(self, "MlflowToken", setting["secret_arn"])
            return MlflowAuth.token(secret)
        if kind == "sagemaker":
            return MlflowAuth.sagemaker(setting["tracking_server_arn"])
        if kind == "none":
            return MlflowAuth.none()
        return MlflowAuth.basic()

    def _promotion(self, key: str, *, then: sfn.IChainable, on_failure: sfn.IChainable) -> PromoteModelFragment:
        """The promotion of one model, reading that model's fields; state names ``<Key>-...``."""
        name = key.capitalize()
        promotion = self.promote_model.fragment(
            self,
            f"Promote{name}",
            on_not_promoted=then,
            on_failure=on_failure,
            model_name=sfn.JsonPath.string_at(f"$.models.{key}.name"),
            new_version=sfn.JsonPath.string_at(f"$.models.{key}.version"),
            confidence=sfn.JsonPath.number_at(f"$.evaluation.{key}.confidence"),
            result_path=f"$.promotions.{key}",
            state_prefix=f"{name}-",
        )
        promotion.next(then)
        return promotion

    def _train(self) -> sfn.Pass:
        return sfn.Pass(
            self,
            "TrainModels",  # your training jobs
            result=sfn.Result.from_object({k: {"name": name, "version": "7"} for k, name in MODELS.items()}),
            result_path="$.models",
        )

    def _wait_for_training(self) -> sfn.Wait:
        return sfn.Wait(self, "WaitForTraining", time=sfn.WaitTime.duration(Duration.seconds(1)))

    def _evaluate(self) -> sfn.Pass:
        return sfn.Pass(
            self,
            "EvaluateModels",  # your comparison of each challenger with its champion
            result=sfn.Result.from_object({k: {"confidence": 0.9} for k in MODELS}),
            result_path="$.evaluation",
        )

    def _log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "WorkflowLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=self.promote_model.encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
