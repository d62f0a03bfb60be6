"""The EventBridge event every outcome emits: source ``promote-model``, detail-type ``Model Promotion``.

A deployment pipeline reacts to it without parsing e-mail. Best effort, like the notification: a
failed put is reported to the caller as ``False``, never raised.
"""

from __future__ import annotations

import json
from typing import Any

EVENT_SOURCE = "promote-model"
EVENT_DETAIL_TYPE = "Model Promotion"
DEFAULT_EVENT_BUS = "default"


class EventBridgePublisher:
    def __init__(self, bus_name: str, events_client: Any) -> None:
        self._bus_name = bus_name
        self._events = events_client

    def publish(self, detail: dict[str, Any]) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": EVENT_DETAIL_TYPE,
            "Detail": json.dumps(detail),
            "EventBusName": self._bus_name,
        }
        try:
            answer = self._events.put_events(Entries=[entry])
        except (BotoCoreError, ClientError):
            return False
        return answer.get("FailedEntryCount", 1) == 0
