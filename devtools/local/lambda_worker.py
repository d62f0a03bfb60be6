"""Serves the Task states of a local Step Functions execution, one JSON line per request.

``lambda`` requests run the bundled handler from the cdk.out assets (code and layer first on
``sys.path``), as the Lambda runtime would; ``sns_publish`` requests publish to the (moto) topic, as
Step Functions' SNS integration would. Replies go to the original stdout; everything the handler
prints (its logs and metrics) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any


class LambdaContext:
    def __init__(self, function_name: str, timeout_seconds: float = 60.0, function_arn: str | None = None) -> None:
        self.function_name = function_name
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = function_arn or f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", required=True, type=Path)
    parser.add_argument("--layer", required=True, type=Path)
    parser.add_argument("--runtime", type=Path, help="what the Lambda runtime adds after the bundle (boto3)")
    parser.add_argument("--function-arn", help="the deployed function's ARN, as its context carries it")
    args = parser.parse_args()

    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's own output must not mix with the replies

    sys.path[:0] = [str(args.code), str(args.layer)]
    if args.runtime is not None:
        sys.path.append(str(args.runtime))
    from promote_model import handler

    if not Path(handler.__file__).resolve().is_relative_to(args.code.resolve()):
        raise SystemExit(f"the handler was imported from {handler.__file__}, not from the bundle {args.code}")

    import boto3

    sns = boto3.client("sns")
    for line in sys.stdin:
        request = json.loads(line)
        replies.write(json.dumps(_serve(request, handler, sns, args.function_arn)) + "\n")


def _serve(request: dict[str, Any], handler: Any, sns: Any, function_arn: str | None) -> dict[str, Any]:
    try:
        if request["kind"] == "lambda":
            context = LambdaContext(
                function_arn.rsplit(":", 1)[-1] if function_arn else "promote-model", function_arn=function_arn
            )
            return {"result": handler.lambda_handler(request["payload"], context)}
        if request["kind"] == "sns_publish_wait":
            return _publish_and_wait(sns, request["payload"], request["timeoutSeconds"])
        return {"result": _publish(sns, request["payload"])}
    except Exception as error:  # reported to the interpreter as the task's error, like Lambda does
        return {"error": {"type": type(error).__name__, "message": str(error)}}


def _publish_and_wait(sns: Any, parameters: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
    """Step Functions' SNS integration with ``.waitForTaskToken``: publish the message carrying the
    token, then wait for ``SendTaskSuccess``/``SendTaskFailure`` at the local task-token endpoint
    (LOCAL_TASK_TOKENS_URL) or the state's timeout (``States.Timeout``)."""
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    endpoint = os.environ["LOCAL_TASK_TOKENS_URL"]
    message = parameters["Message"]
    token = message["task_token"] if isinstance(message, dict) else json.loads(message)["task_token"]
    register = Request(f"{endpoint}/tokens", data=json.dumps({"token": token}).encode(), method="POST")  # noqa: S310
    urlopen(register, timeout=10).read()  # noqa: S310 - loopback endpoint of this run
    _publish(sns, parameters)
    query = urlencode({"token": token, "timeout": timeout_seconds})
    with urlopen(f"{endpoint}/decision?{query}", timeout=timeout_seconds + 30) as answer:  # noqa: S310
        decision = json.loads(answer.read())
    if decision["outcome"] == "success":
        return {"result": decision["output"]}
    if decision["outcome"] == "failure":
        return {"error": {"type": decision["error"], "message": decision["cause"]}}
    return {"error": {"type": "States.Timeout", "message": "the task token was not answered in time"}}


def _publish(sns: Any, parameters: dict[str, Any]) -> dict[str, Any]:
    message = parameters["Message"]
    arguments: dict[str, Any] = {
        "TopicArn": parameters["TopicArn"],
        "Message": message if isinstance(message, str) else json.dumps(message),
    }
    if "Subject" in parameters:
        arguments["Subject"] = parameters["Subject"]
    if "MessageAttributes" in parameters:
        arguments["MessageAttributes"] = parameters["MessageAttributes"]
    return {"MessageId": sns.publish(**arguments)["MessageId"]}


if __name__ == "__main__":
    main()
