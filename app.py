#!/usr/bin/env python3
"""The CDK app: `cdk synth -c environment=<dev|staging|prod>` (see cdk.json for the environments)."""

import sys

from infra.app_factory import build_app
from infra.config import ConfigError

try:
    app, _ = build_app()
except ConfigError as error:
    sys.exit(f"promote-model: {error}")
app.synth()
