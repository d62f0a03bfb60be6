"""checkov, a second scanner beside cdk-nag, in its own cached environment (its pins clash with the
development environment's: boto3 among others)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements" / "checkov.txt"


def checkov_executable() -> Path:
    """checkov from ``.cache/checkov-<hash of its pins>``, installed on first use."""
    home = ROOT / ".cache" / f"checkov-{hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]}"
    if not (home / ".ready").exists():
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
        subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        (home / ".ready").touch()
    return home / "bin" / "checkov"


def scan(checkov: Path, templates: list[Path]) -> list[dict[str, Any]]:
    """The results of every template: one report per template, each with ``failed_checks`` and
    ``skipped_checks``. ``--skip-download``: checkov would otherwise ask Prisma Cloud for guidelines."""
    command = [str(checkov), "--framework", "cloudformation", "--skip-download", "--compact", "-o", "json"]
    for template in templates:
        command += ["-f", str(template)]
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: some check failed
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    return [r["results"] for r in reports if "results" in r]


def unexplained(results: list[dict[str, Any]]) -> list[str]:
    """Failed checks, and skipped checks without a reason."""
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for r in results for c in r["failed_checks"]]
    unreasoned = [
        f"{c['check_id']} {c['resource']} skipped without a reason"
        for r in results
        for c in r["skipped_checks"]
        if len(str(c["check_result"].get("suppress_comment", "")).split()) < 10
    ]
    return failed + unreasoned
