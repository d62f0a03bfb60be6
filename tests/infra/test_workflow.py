"""The rendered Amazon States Language of PromoteModelFragment and the standalone state machine."""

from __future__ import annotations

from tests.infra.templates import state_machine_states


def _fragment_states(synthesized):
    return state_machine_states(synthesized.template_dict)


def test_promote_model_task_maps_the_workflow_state_as_the_spec_shows(synthesized):
    task = _fragment_states(synthesized)["PromoteModel"]

    assert task["Type"] == "Task"
    function_id = next(
        k
        for k, v in synthesized.resources("AWS::Lambda::Function").items()
        if v["Properties"]["Handler"] == "promote_model.handler.lambda_handler"
    )
    assert task["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}  # the function itself, payload only
    approval = {"approved_by.$": "$.promotion_approval.approved_by"} if synthesized.environment == "prod" else {}
    assert task["Parameters"] == {
        "model_name.$": "$.model_name",
        "new_version.$": "$.challenger_version",
        "confidence.$": "$.comparison.confidence",
        "execution_id.$": "$$.Execution.Id",  # for the audit trail
        **approval,  # prod holds each promotion for a person (cdk.json "approval")
    }
    assert task["ResultPath"] == "$.promotion"  # the workflow's own state is kept
    assert task["Next"] == "WasModelPromoted"


def test_retries_the_unavailable_registry_and_lambda_service_errors_with_backoff(synthesized):
    task = _fragment_states(synthesized)["PromoteModel"]

    assert task["Retry"] == [
        {
            "ErrorEquals": ["RegistryUnavailableError", "CredentialsUnavailableError", "PromotionIncompleteError"],
            "IntervalSeconds": 5,
            "MaxAttempts": 3,
            "BackoffRate": 2,
            "JitterStrategy": "FULL",
        },
        {
            "ErrorEquals": [
                "Lambda.TooManyRequestsException",
                "Lambda.ServiceException",
                "Lambda.AWSLambdaException",
                "Lambda.SdkClientException",
                "Lambda.ClientExecutionTimeoutException",
            ],
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2,
            "JitterStrategy": "FULL",
        },
    ]


def test_catches_terminal_and_unexpected_errors_into_the_failure_path(synthesized):
    task = _fragment_states(synthesized)["PromoteModel"]

    assert task["Catch"] == [
        {
            "ErrorEquals": ["RegistryAuthError", "ConfigurationError", "RegistryResponseError"],
            "ResultPath": "$.error",
            "Next": "NotifyFailure",
        },
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"},
    ]


def test_a_not_promoted_result_leaves_the_success_path(synthesized):
    choice = _fragment_states(synthesized)["WasModelPromoted"]

    assert choice == {
        "Type": "Choice",
        "Choices": [{"Variable": "$.promotion.promoted", "BooleanEquals": True, "Next": "ModelPromoted"}],
        "Default": "NothingToPromote",
    }


def test_standalone_machine_notifies_success_and_failure_on_the_topic(synthesized):
    states = _fragment_states(synthesized)
    topic = next(iter(synthesized.resources("AWS::SNS::Topic")))

    assert states["ModelPromoted"] == {"Type": "Pass", "Next": "NotifySuccess"}
    assert states["NotifySuccess"]["Resource"].endswith(":states:::sns:publish")
    assert states["NotifySuccess"]["Parameters"]["TopicArn"] == {"Ref": topic}
    assert states["NotifyFailure"]["Parameters"]["TopicArn"] == {"Ref": topic}
    assert states["NotifyFailure"]["Next"] == "PromotionFailed"
    assert states["PromotionFailed"]["Type"] == "Fail"
    assert states["NothingToPromote"] == {"Type": "Succeed"}


def test_prod_holds_each_promotion_for_approval_and_the_others_do_not(synthesized):
    states = _fragment_states(synthesized)

    if synthesized.environment != "prod":
        assert "RequestApproval" not in states
        return
    request = states["RequestApproval"]
    assert request["Resource"].endswith(":states:::sns:publish.waitForTaskToken")
    assert request["TimeoutSeconds"] == 24 * 60 * 60
    assert request["Parameters"]["Message"]["task_token.$"] == "$$.Task.Token"
    assert [c["ErrorEquals"] for c in request["Catch"]] == [["ApprovalRejected"], ["States.Timeout"], ["States.ALL"]]
    assert states["PreviewPromotion"]["Parameters"]["dry_run"] is True
    assert request["Next"] == "PromoteModel"
