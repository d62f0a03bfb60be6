#!/usr/bin/env python3
"""A team's own CDK app: its retraining workflow, with promote-model composed in from the
``promote_model_cdk`` library (``pip install -r requirements.txt``), not copied.

``cdk synth`` here (or ``python app.py``). The context picks how the function reaches MLflow:
``-c mlflow_auth='{"kind": "token", "secret_arn": "arn:aws:secretsmanager:..."}'``, or
``{"kind": "sagemaker", "tracking_server_arn": "arn:aws:sagemaker:...:mlflow-tracking-server/..."}``,
``{"kind": "basic"}`` (the default: a generated secret) or ``{"kind": "none"}``; ``-c lambda_runtime=python3.12``
and ``-c lambda_architecture=x86_64`` pick another platform than cdk.json's python3.13 on arm64.
"""

import json
import os
from pathlib import Path

from aws_cdk import App

from infra.retraining_stack import RetrainingStack

# Outside the CDK CLI, take this folder's cdk.json context, as `cdk synth` would.
defaults = json.loads((Path(__file__).parent / "cdk.json").read_text())["context"]
app = App(context=defaults, outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
RetrainingStack(
    app,
    "Retraining",
    tracking_uri=app.node.try_get_context("mlflow_tracking_uri"),
    auth_setting=app.node.try_get_context("mlflow_auth"),
    lambda_runtime=app.node.try_get_context("lambda_runtime"),
    lambda_architecture=app.node.try_get_context("lambda_architecture"),
)
app.synth()
