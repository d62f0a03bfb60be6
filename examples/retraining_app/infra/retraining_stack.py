"""The retraining workflow of several models, each evaluated and promoted in a ``Map``, then deployed.

Training, evaluation and deployment are stand-ins (``Pass`` and ``Wait`` states) for your own jobs;
the promotion is ``promote_model_cdk``'s fragment inside the Map's iteration, reading each item's
fields. The state after training:

    {"models": [{"name": "DemandForecaster", "version": "7"}, {"name": "OfferRanker", "version": "7"}]}

Around it: an alarm on the function's errors, a queue receiving each promotion's event (your
deployment pipeline reads it), and a dashboard of promotions and of this workflow's executions.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from promote_model_cdk import MlflowAuth, PromoteModel, PromoteModelFragment, PromotionDashboard

MODELS = ["DemandForecaster", "OfferRanker"]
RESERVED_CONCURRENCY = 1  # promotions serialize: the Map runs no more at once
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
            reserved_concurrency=RESERVED_CONCURRENCY,
            # An Amazon Linux 2023 runtime on Graviton; the library's default is python3.11 on x86_64.
            runtime=RUNTIMES[lambda_runtime],
            architecture=ARCHITECTURES[lambda_architecture],
        )

        failed = sfn.Fail(self, "RetrainingFailed", error="PromotionFailed", cause="a promotion failed, see $.error")
        deploy = sfn.Pass(self, "DeployChampions")  # your endpoint update, for each promoted model
        promote_each = self._promote_each_model()
        promote_each.add_catch(failed, result_path="$.error")
        definition = self._train().next(self._wait_for_training()).next(promote_each).next(deploy)
        self.state_machine = sfn.StateMachine(
            self,
            "RetrainingWorkflow",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self._log_group(), level=sfn.LogLevel.ERROR),
        )

        self.errors_alarm = self._errors_alarm()
        self.promotions_queue = self._promotions_queue()
        self.promoted_rule = self.promote_model.on_promoted(
            "OnPromoted", target=targets.SqsQueue(self.promotions_queue)
        )
        self.dashboard = PromotionDashboard(
            self, "Dashboard", functions=[self.promote_model], state_machine=self.state_machine
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

    def _promote_each_model(self) -> sfn.Map:
        """One iteration per trained model: evaluate it, then promote it. The fragment's
        ``on_not_promoted`` and ``on_failure`` are states of the iteration (a state outside the Map
        cannot be the target of one inside); a failure fails the Map, whose catch fails the workflow."""
        each_model = sfn.Map(
            self,
            "PromoteEachModel",
            items_path="$.models",
            max_concurrency=RESERVED_CONCURRENCY,  # more would be throttled by the reserved concurrency
            result_path="$.promotions",
        )
        promotion: PromoteModelFragment = self.promote_model.fragment(
            self,
            "Promotion",
            on_not_promoted=sfn.Pass(self, "ChampionKept"),
            on_failure=sfn.Fail(self, "PromotionFailed", error="PromotionFailed", cause="see $.error"),
            model_name=sfn.JsonPath.string_at("$.name"),
            new_version=sfn.JsonPath.string_at("$.version"),  # an item without one: the latest Staging version
            confidence=sfn.JsonPath.number_at("$.evaluation.confidence"),
        )
        each_model.item_processor(self._evaluate().next(promotion))
        return each_model

    def _train(self) -> sfn.Pass:
        return sfn.Pass(
            self,
            "TrainModels",  # your training jobs
            result=sfn.Result.from_array([{"name": name, "version": "7"} for name in MODELS]),
            result_path="$.models",
        )

    def _wait_for_training(self) -> sfn.Wait:
        return sfn.Wait(self, "WaitForTraining", time=sfn.WaitTime.duration(Duration.seconds(1)))

    def _evaluate(self) -> sfn.Pass:
        return sfn.Pass(
            self,
            "EvaluateModel",  # your comparison of this challenger with its champion
            result=sfn.Result.from_object({"confidence": 0.9}),
            result_path="$.evaluation",
        )

    def _errors_alarm(self) -> cloudwatch.Alarm:
        """Any promotion error in 15 minutes pages the alert topic (the construct's own alarm watches
        Lambda's errors; this one the handler's, which a team may route elsewhere)."""
        alarm = self.promote_model.metric_errors(period=Duration.minutes(15)).create_alarm(
            self,
            "PromotionErrors",
            alarm_description="promote-model recorded a promotion error",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.promote_model.alert_topic))
        return alarm

    def _promotions_queue(self) -> sqs.Queue:
        """Each promotion's event, for the deployment pipeline to read, encrypted with promote-model's
        key (the rule's target lets EventBridge use it)."""
        return sqs.Queue(
            self,
            "Promotions",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.promote_model.encryption_key,
            enforce_ssl=True,
            retention_period=Duration.days(4),
        )

    def _log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "WorkflowLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=self.promote_model.encryption_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
