"""The alert publisher: the promotion notification (docs/design.md §4), sent to SNS.

A failed publish is reported to the caller as ``False``, never raised: the promotion it announces
has already happened and must not be failed or retried because of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUBJECT_PREFIX = "[TradAI] Model Promoted: "
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

    @property
    def subject(self) -> str:
        return notification_subject(self.model_name)

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
            ]
        )


def notification_subject(model_name: str) -> str:
    """The SNS subject, always valid: non-printable-ASCII characters become ``?`` and an over-long
    name is cut and marked with ``...``."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in model_name)
    subject = SUBJECT_PREFIX + printable
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    return subject[: SUBJECT_LIMIT - len(_ELLIPSIS)] + _ELLIPSIS


class SnsAlertPublisher:
    def __init__(self, topic_arn: str, sns_client: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = sns_client

    def publish(self, notice: PromotionNotice) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
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
        except (BotoCoreError, ClientError):
            return False
        return True
