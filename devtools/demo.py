"""`make demo`: promote a model end to end on local servers, through the real handler."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

from devtools.servers import mlflow_server, moto_server

DEMO_MODEL = "PascalStrategy"


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="promote-model-demo-") as workdir,
        moto_server(Path(workdir) / "moto") as moto,
        mlflow_server(Path(workdir) / "mlflow") as mlflow,
    ):
        print(f"MLflow tracking server: {mlflow.url}\nmoto (SNS, SQS, Secrets Manager): {moto.url}\n")
        _run(mlflow.url, moto.url)


def _run(mlflow_url: str, moto_url: str) -> None:
    import boto3
    from mlflow.tracking import MlflowClient

    os.environ.update(
        AWS_ENDPOINT_URL=moto_url,
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_TRACE_DISABLED="true",
    )
    client = MlflowClient(tracking_uri=mlflow_url, registry_uri=mlflow_url)
    client.create_registered_model(DEMO_MODEL)
    for stage in ("Production", "Staging"):
        version = client.create_model_version(DEMO_MODEL, "s3://demo-bucket/pascal-strategy")
        client.transition_model_version_stage(DEMO_MODEL, version.version, stage)
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    topic_arn = sns.create_topic(Name="promote-model-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alert-subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    os.environ.update(MLFLOW_TRACKING_URI=mlflow_url, ALERT_TOPIC_ARN=topic_arn, ENVIRONMENT="dev")

    from promote_model.handler import lambda_handler

    event = {"model_name": DEMO_MODEL, "new_version": "2", "confidence": 0.85}
    print("Event:", json.dumps(event))
    result = lambda_handler(event, _Context())
    print("Result:", json.dumps(result, indent=2))
    for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []):
        body = json.loads(message["Body"])
        print(f"\nNotification received\nSubject: {body['Subject']}\n{body['Message']}")


class _Context:
    function_name = "promote-model-demo"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:promote-model-demo"
    aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


if __name__ == "__main__":
    main()
