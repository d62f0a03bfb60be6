"""The EventBridge event every outcome emits: source ``promote-model``, detail-type ``Model Promotion``.

A deployment pipeline reacts to it without parsing e-mail. A failed put (an error, or an entry the
bus refused) is reported to the caller as ``False`` and logged with the AWS error code, never
raised; the put ends by the invocation's deadline.
"""

from __future__ import annotations

import json
from typing import Any

from promote_model.aws_calls import AwsCallFailed, call_within
from promote_model.deadline import Deadline
from promote_model.observability import log_aws_failure

EVENT_SOURCE = "promote-model"
EVENT_DETAIL_TYPE = "Model Promotion"
DEFAULT_EVENT_BUS = "default"


class EventBridgePublisher:
    def __init__(self, bus_name: str, events_client: Any, deadline: Deadline) -> None:
        self._bus_name = bus_name
        self._events = events_client
        self._deadline = deadline

    def publish(self, detail: dict[str, Any]) -> bool:
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": EVENT_DETAIL_TYPE,
            "Detail": json.dumps(detail),
            "EventBusName": self._bus_name,
        }
        try:
            answer = call_within(
                self._deadline, "events", "PutEvents", lambda: self._events.put_events(Entries=[entry])
            )
        except AwsCallFailed as failure:
            log_aws_failure("event not sent", failure)
            return False
        if not isinstance(answer, dict) or answer.get("FailedEntryCount", 1) != 0:
            entries = answer.get("Entries") if isinstance(answer, dict) else None
            first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
            code = str(first.get("ErrorCode") or "FailedEntry")
            log_aws_failure("event not sent", AwsCallFailed("events", "PutEvents", code, transient=True))
            return False
        return True
