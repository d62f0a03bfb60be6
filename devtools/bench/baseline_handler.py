"""The benchmark's baseline: the same promotion written the obvious way, with mlflow-skinny's MlflowClient.

Same flow as ours (resolve the version, explicit or the latest Staging one; stop if it is already
in Production; transition it with ``archive_existing_versions=True``) and the same Powertools usage
(Logger, Metrics and Tracer decorators, one log line and one metric per outcome). `make bench`
imports it from its own environment (.bench/venv, mlflow-skinny 3.17.2); it is never bundled.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from mlflow.tracking import MlflowClient

SERVICE = "promote-model"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="PromoteModel", service=SERVICE)
tracer = Tracer(service=SERVICE)

_client: MlflowClient | None = None


def mlflow_client() -> MlflowClient:
    """One client per execution environment; it reads MLFLOW_TRACKING_URI."""
    global _client
    if _client is None:
        _client = MlflowClient()
    return _client


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event["model_name"]
    confidence = event.get("confidence")
    client = mlflow_client()
    if event.get("new_version") is None:
        staging = client.get_latest_versions(name, stages=["Staging"])
        if not staging:
            logger.info("promotion not done", extra={"model_name": name, "reason_code": "NO_STAGING_VERSION"})
            metrics.add_metric(name="NotPromoted", unit=MetricUnit.Count, value=1)
            return {"promoted": False, "model_name": name, "reason_code": "NO_STAGING_VERSION"}
        candidate = staging[0]
    else:
        candidate = client.get_model_version(name, str(event["new_version"]))

    already_promoted = candidate.current_stage == "Production"
    if not already_promoted:
        client.transition_model_version_stage(name, candidate.version, "Production", archive_existing_versions=True)
    logger.info(
        "promotion finished",
        extra={"model_name": name, "new_version": candidate.version, "already_promoted": already_promoted},
    )
    metrics.add_metric(name="AlreadyPromoted" if already_promoted else "Promoted", unit=MetricUnit.Count, value=1)
    return {
        "promoted": True,
        "model_name": name,
        "new_version": str(candidate.version),
        "new_stage": "Production",
        "already_promoted": already_promoted,
        "confidence": confidence,
    }
