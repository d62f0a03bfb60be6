#!/usr/bin/env python3
"""The CDK app: `cdk synth -c environment=<dev|staging|prod>` (see cdk.json for the environments), or
`CDK_CONTEXT_JSON='{"environment": "prod"}' python app.py`, which writes the same template to cdk.out/."""

import os
import sys

from infra.app_factory import build_app
from infra.config import ConfigError

try:
    app, _ = build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
except ConfigError as error:
    sys.exit(f"promote-model: {error}")
app.synth()
