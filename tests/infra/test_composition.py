"""The README's composition example synthesizes into a retraining workflow with PromoteModel inside."""

from __future__ import annotations

import json

from aws_cdk import App
from aws_cdk.assertions import Template

from examples.retraining_workflow import RetrainingWorkflowStack

FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:PromoteModel-prod-PromoteModelFunction"


def test_fragment_composes_into_a_retraining_workflow():
    stack = RetrainingWorkflowStack(App(), "Retraining", promote_model_function_arn=FUNCTION_ARN)

    [machine] = Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine").values()
    definition = machine["Properties"]["DefinitionString"]
    text = (
        definition
        if isinstance(definition, str)
        else "".join(p if isinstance(p, str) else "ARN" for p in definition["Fn::Join"][1])
    )
    states = json.loads(text)["States"]

    assert states["CompareModels"]["Next"] == "PromoteModel"
    assert states["PromoteModel"]["Resource"] == FUNCTION_ARN
    assert states["PromoteModel"]["Catch"][-1]["Next"] == "RetrainingFailed"
    assert states["WasModelPromoted"]["Default"] == "KeepChampion"
    assert states["ModelPromoted"]["Next"] == "RolloutNewChampion"
