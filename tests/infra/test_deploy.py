"""`make deploy` without AWS credentials fails at once with a message, instead of hanging."""

from __future__ import annotations

import subprocess
import sys

from tests.infra.conftest import ROOT


def test_deploy_preflight_refuses_at_once_without_aws_credentials(tmp_path):
    preflight = subprocess.run(
        [sys.executable, "-m", "devtools.deploy.aws_preflight"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )

    assert preflight.returncode == 2
    assert "no AWS credentials found" in preflight.stderr
    assert "make deploy ENV=<dev|staging|prod>" in preflight.stderr
