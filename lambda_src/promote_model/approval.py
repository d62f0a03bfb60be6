"""A person's decision on a held promotion, sent back to the waiting Step Functions task.

The approval gate of the fragment publishes a request carrying a task token and waits
(``.waitForTaskToken``). ``promote-model approve TOKEN`` sends ``SendTaskSuccess`` with who approved
and when, which the next state passes to the function as ``approved_by`` (an audit tag);
``promote-model reject TOKEN --reason ...`` sends ``SendTaskFailure`` with the error
``ApprovalRejected``, which the fragment routes to its not-promoted path. Those two actions are all
an approver needs (docs/library.md: "Approval gate").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REJECTED_ERROR = "ApprovalRejected"  # the error name the fragment's Catch matches
MAX_REASON_LENGTH = 256  # Step Functions allows 32,768 characters of cause; a reason is a sentence


class ApprovalDecisionError(Exception):
    """The decision could not be delivered: the token is unknown, used or timed out, or Step Functions
    is unreachable. The CLI's, never the function's (it is not in the state machine's error lists)."""


@dataclass(frozen=True)
class Decision:
    approved: bool
    decided_by: str
    reason: str | None = None

    def payload(self, at: datetime) -> dict[str, Any]:
        key = "approved_by" if self.approved else "rejected_by"
        body: dict[str, Any] = {"approved": self.approved, key: self.decided_by, "decided_at": _iso(at)}
        if self.reason is not None:
            body["reason"] = self.reason[:MAX_REASON_LENGTH]
        return body


def send_decision(token: str, decision: Decision, *, sfn_client: Any = None, now: datetime | None = None) -> None:
    """Deliver ``decision`` for the task waiting on ``token`` (boto3's Step Functions client)."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = sfn_client or _sfn_client()
    payload = json.dumps(decision.payload(now or datetime.now(UTC)))
    try:
        if decision.approved:
            client.send_task_success(taskToken=token, output=payload)
        else:
            client.send_task_failure(taskToken=token, error=REJECTED_ERROR, cause=payload)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "ClientError")
        raise ApprovalDecisionError(
            f"Step Functions did not accept the decision ({code}): the token may be wrong, used or timed out"
        ) from None
    except BotoCoreError as error:
        raise ApprovalDecisionError(
            f"could not reach Step Functions to send the decision ({type(error).__name__})"
        ) from None


def _sfn_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("stepfunctions", config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
