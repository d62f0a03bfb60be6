"""Arranges models on the benchmark's MLflow server over its REST API, for the timed promotions."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any

VERSIONS_PER_MODEL = 10  # Staging versions registered per model for the timed promotions


class Registry:
    """Arranges models on the MLflow server over its REST API (one request per create or transition)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._models = 0

    def post(self, route: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 (the local MLflow server)
            f"{self.url}/api/2.0/mlflow/{route}",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the local server)
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def model(self, prefix: str, staging: int) -> str:
        """A model whose version 1 is in Production and versions 2..staging+1 are in Staging."""
        self._models += 1
        name = f"{prefix}-{self._models:04d}"
        self.post("registered-models/create", {"name": name})
        for stage in ["Production"] + ["Staging"] * staging:
            created = self.post("model-versions/create", {"name": name, "source": "s3://promote-model-bench/artifacts"})
            version = created["model_version"]["version"]
            self.post("model-versions/transition-stage", {"name": name, "version": version, "stage": stage,
                                                          "archive_existing_versions": False})  # fmt: skip
        return name

    def promotions(self, prefix: str, count: int) -> list[dict[str, Any]]:
        """``count`` explicit promotion events, each of a fresh Staging version, in promotable order."""
        events: list[dict[str, Any]] = []
        while len(events) < count:
            staging = min(VERSIONS_PER_MODEL, count - len(events))
            name = self.model(prefix, staging)
            events += [{"model_name": name, "new_version": str(v), "confidence": 0.85} for v in range(2, staging + 2)]
        return events
