"""The stack's EventBridge bus: what happened, for members' systems and operations to follow."""

from __future__ import annotations

import json

from netzone.adapters import AwsAdapter


class EventBridgeBus(AwsAdapter):
    service = "events"

    def __init__(self, bus_name: str, client=None):
        super().__init__(client)
        self.bus_name = bus_name

    def publish(self, source: str, detail_type: str, detail: dict) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, ensure_ascii=False),
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            # Raising makes the step's message retry: the event is never silently dropped.
            raise RuntimeError(
                f"{detail_type} not published: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
