"""The alert publisher: the promotion notification (docs/design.md §4), sent to SNS.

A failed publish is reported to the caller as ``False`` (and logged with the AWS error code), never
raised: the promotion it announces has already happened; the caller decides what is still owed
(docs/delivery-guarantees.md). The publish ends by the invocation's deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promote_model.aws_calls import AwsCallFailed, call_within
from promote_model.deadline import Deadline
from promote_model.observability import log_aws_failure

DEFAULT_SUBJECT_PREFIX = "[TradAI]"  # the specification's; NOTIFICATION_SUBJECT_PREFIX changes it
SUBJECT_LIMIT = 100  # SNS: at most 100 printable ASCII characters
_ELLIPSIS = "..."


@dataclass(frozen=True)
class PromotionNotice:
    model_name: str
    new_version: str
    previous_version: str | None
    confidence: float
    environment: str
    registry_name: str
    alias: str | None = None
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    rollback: bool = False

    @property
    def subject(self) -> str:
        return notification_subject(self.model_name, self.subject_prefix)

    @property
    def body(self) -> str:
        return "\n".join(
            [
                "Model Promotion Completed",
                f"Model: {self.model_name}",
                f"New Production Version: {self.new_version}",
                f"Previous Version: {self.previous_version or 'none'}",
                f"Comparison Confidence: {self.confidence * 100:.1f}%",
                f"Environment: {self.environment}",
                *([f"Alias: {self.alias}"] if self.alias else []),
                *(
                    [f"Rollback: version {self.new_version} restored in place of version {self.previous_version}"]
                    if self.rollback
                    else []
                ),
            ]
        )


def notification_subject(model_name: str, prefix: str = DEFAULT_SUBJECT_PREFIX) -> str:
    """``<prefix> Model Promoted: <name>``, always a valid SNS subject: non-printable-ASCII characters
    become ``?`` and an over-long subject is cut and marked with ``...``."""
    subject = "".join(c if " " <= c <= "~" else "?" for c in f"{prefix} Model Promoted: {model_name}".lstrip())
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    return subject[: SUBJECT_LIMIT - len(_ELLIPSIS)] + _ELLIPSIS


class SnsAlertPublisher:
    def __init__(self, topic_arn: str, sns_client: Any, deadline: Deadline) -> None:
        self._topic_arn = topic_arn
        self._sns = sns_client
        self._deadline = deadline

    def publish(self, notice: PromotionNotice) -> bool:
        if self._sns is None:  # no client could be made (no AWS region): nothing was sent
            log_aws_failure("notification not sent", AwsCallFailed("sns", "Publish", "NoRegionError", transient=False))
            return False
        try:
            call_within(self._deadline, "sns", "Publish", lambda: self._send(notice))
        except AwsCallFailed as failure:
            log_aws_failure("notification not sent", failure)
            return False
        return True

    def _send(self, notice: PromotionNotice) -> None:
        self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=notice.subject,
            Message=notice.body,
            MessageAttributes={
                "registry": {"DataType": "String", "StringValue": notice.registry_name},
                "environment": {"DataType": "String", "StringValue": notice.environment},
                "event": {"DataType": "String", "StringValue": "model_promoted"},
            },
        )
