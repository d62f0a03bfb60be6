"""Composing ``PromoteModelFragment`` into a retraining state machine (the README's example).

The retraining workflow here is a stand-in (Pass states for training and comparison); in a real one
those are your training job and your compare-models task. Its state must carry ``model_name``,
``challenger_version`` (or null for the latest Staging version) and ``comparison.confidence``.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.workflow import PromoteModelFragment


class RetrainingWorkflowStack(Stack):
    def __init__(self, scope: Construct, id: str, *, promote_model_function_arn: str) -> None:
        super().__init__(scope, id)
        promote_model = lambda_.Function.from_function_arn(self, "PromoteModelFunction", promote_model_function_arn)

        train = sfn.Pass(
            self, "TrainChallenger", result=sfn.Result.from_string("7"), result_path="$.challenger_version"
        )
        compare = sfn.Pass(
            self, "CompareModels", result=sfn.Result.from_object({"confidence": 0.91}), result_path="$.comparison"
        )
        keep_champion = sfn.Succeed(self, "KeepChampion")
        failed = sfn.Fail(self, "RetrainingFailed", error="PromotionFailed")
        promote = PromoteModelFragment(
            self, "Promotion", function=promote_model, on_not_promoted=keep_champion, on_failure=failed
        )
        deploy_endpoint = sfn.Pass(self, "RolloutNewChampion")  # what your workflow does next

        self.state_machine = sfn.StateMachine(
            self,
            "Retraining",
            definition_body=sfn.DefinitionBody.from_chainable(train.next(compare).next(promote).next(deploy_endpoint)),
        )
