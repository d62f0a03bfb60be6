"""Start one Step Functions execution per webhook delivery: a repeated name is Step Functions'
own refusal of a duplicate, and counts as success."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from promote_model.webhook_trigger import Start


class Started(Enum):
    NEW = "started"
    ALREADY = "already_started"  # this delivery's execution exists: a retry or a replay


class StartFailed(Exception):
    """Step Functions did not start the execution; ``retryable`` says whether a redelivery may help."""

    def __init__(self, code: str, *, retryable: bool) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable


# Errors that say the configuration is wrong (a redelivery finds the same); anything else may pass.
_PERMANENT = {
    "AccessDeniedException",
    "InvalidArn",
    "InvalidName",
    "InvalidExecutionInput",
    "StateMachineDoesNotExist",
    "StateMachineDeleting",
    "ValidationException",
}


def start_once(client: Any, state_machine_arn: str, start: Start) -> Started:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.start_execution(
            stateMachineArn=state_machine_arn,
            name=start.execution_name,
            input=json.dumps(start.execution_input, sort_keys=True),
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        if code == "ExecutionAlreadyExists":
            return Started.ALREADY
        raise StartFailed(code, retryable=code not in _PERMANENT) from None
    except BotoCoreError as error:  # unreachable, timed out: the bounded client gave up
        raise StartFailed(type(error).__name__, retryable=True) from None
    return Started.NEW
