"""A registry that misbehaves in ways a dead or failing one does not: each row of docs/reliability.md's
hostile-registry table. Every test runs the handler in its own interpreter (``devtools.local.handler_probe``)
and asserts the answer, the time from invocation start (< 30 s), the process's peak RSS (< 200 MB of
the function's 256), the requests MLflow received, and the registry afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.local.fault_proxy import HTML_AFTER_FORWARD, REDIRECT, REWRITE, TRICKLE
from promote_model.registry import MAX_SEARCH_PAGES
from tests.support import full_state, received_notifications, register_model, unique_model_name

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 30.0
MAX_PEAK_RSS_MB = 200.0
API = "/api/2.0/mlflow"
TRANSITION = "/model-versions/transition-stage"


@dataclass(frozen=True)
class Probe:
    result: dict[str, Any] | None
    error: dict[str, str] | None
    seconds: float
    peak_rss_mb: float
    output: str  # everything the handler's process printed

    @property
    def answer(self) -> str:
        if self.error is not None:
            return self.error["type"]
        assert self.result is not None
        return self.result.get("reason_code") or ("promoted" if self.result["promoted"] else "not promoted")


def probe(event: Any, *, root_log_level: str | None = None) -> Probe:
    command = [sys.executable, "-m", "devtools.local.handler_probe", json.dumps(event)]
    if root_log_level:
        command += ["--root-log-level", root_log_level]
    run = subprocess.run(command, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=90)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    probed = Probe(
        report.get("result"),
        report.get("error"),
        report["seconds"],
        report["peak_rss_kb"] / 1024,
        run.stdout + run.stderr,
    )
    assert "Traceback" not in probed.output
    assert probed.seconds < MAX_SECONDS, f"answered after {probed.seconds:.1f} s"
    assert probed.peak_rss_mb < MAX_PEAK_RSS_MB, f"peak RSS {probed.peak_rss_mb:.0f} MB"
    return probed


@pytest.fixture
def hostile_env(faulty_env):
    faulty_env.setenv("ALERTS_ENABLED", "false")
    return faulty_env


def _routes(requests: list[tuple[str, str]]) -> list[str]:
    return [path.removeprefix(API) for _, path in requests]


def _without(field: str):
    def rewrite(answer: dict[str, Any]) -> dict[str, Any]:
        answer.get("model_version", {}).pop(field, None)
        return answer

    return rewrite


def test_a_trickling_answer_ends_by_the_deadline(hostile_env, proxy, mlflow_client, record_hostile):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)
    proxy.inject("/model-versions/get", TRICKLE)

    run = probe({"model_name": name, "new_version": "2"})

    assert run.error is not None
    assert run.error["type"] == "RegistryUnavailableError"
    assert "time budget" in run.error["message"]
    assert run.seconds < 27  # the 25 s budget, not the 60 s Lambda timeout
    requests = proxy.take()
    assert proxy.writes() == []
    assert full_state(mlflow_client, name) == before
    record_hostile("answers 1 byte every 0.5 s", run, requests, "unchanged")


@pytest.mark.parametrize("variant", [" {}", "{} ", " {} ", "{}\n", "\t{}"], ids=repr)
def test_a_name_with_surrounding_whitespace_never_selects_another_model(
    hostile_env, proxy, mlflow_client, record_hostile, variant
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)

    run = probe({"model_name": variant.format(name), "new_version": "2"})

    assert run.result is not None
    assert run.result["reason_code"] == "INVALID_REQUEST"
    assert "model_name" in run.result["reason"]
    requests = proxy.take()
    assert requests == []
    assert full_state(mlflow_client, name) == before
    if variant == " {} ":
        record_hostile(f"event names {variant.format('M')!r} while `M` exists", run, requests, "`M` unchanged")


@pytest.mark.parametrize("name", ["team/model", "team:model", "..hidden"])
def test_a_name_mlflow_refuses_gets_one_answer_across_versions(hostile_env, proxy, record_hostile, name):
    run = probe({"model_name": name})

    assert run.result is not None
    assert run.result["reason_code"] == "INVALID_REQUEST"
    requests = proxy.take()
    assert requests == []  # decided here, not by whichever MLflow version answers
    if name == "team/model":
        record_hostile("a name with `/` or `:` (MLflow 3 refuses it, 2.x says not found)", run, requests, "untouched")


@pytest.mark.parametrize(
    ("field", "stages", "version", "really"),
    [
        ("current_stage", ["Production", "Staging"], "1", "in Production"),
        ("status", ["Production", "Staging"], "2", ""),
    ],
)
def test_a_version_without_a_field_the_rules_need_is_refused_before_any_write(
    hostile_env, proxy, mlflow_client, record_hostile, field, stages, version, really
):
    name = register_model(mlflow_client, stages)
    before = full_state(mlflow_client, name)
    proxy.inject("/model-versions/get", REWRITE, rewrite=_without(field))

    run = probe({"model_name": name, "new_version": version, "execution_id": "exec-1"})

    assert run.error is not None
    assert run.error["type"] == "RegistryResponseError"
    assert field in run.error["message"]
    requests = proxy.take()
    assert proxy.writes() == []
    assert full_state(mlflow_client, name) == before
    record_hostile(f"a `model_version` without `{field}` {really}".strip(), run, requests, "unchanged")


def test_a_huge_answer_is_refused_at_the_cap(hostile_env, proxy, mlflow_client, record_hostile):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)

    def fifty_megabytes(answer: dict[str, Any]) -> dict[str, Any]:
        one = answer["registered_model"]["latest_versions"][0]
        copies = 50 * 1024 * 1024 // len(json.dumps(one))
        answer["registered_model"]["latest_versions"] = [one] * copies
        return answer

    proxy.inject("/registered-models/get", REWRITE, rewrite=fifty_megabytes)

    run = probe({"model_name": name})

    assert run.error is not None
    assert run.error["type"] == "RegistryResponseError"
    assert "4 MiB" in run.error["message"]
    requests = proxy.take()
    assert proxy.writes() == []
    assert full_state(mlflow_client, name) == before
    record_hostile("a 50 MB `latest_versions` list", run, requests, "unchanged")


@pytest.mark.parametrize("tokens", ["repeated", "endless"])
def test_a_search_that_pages_forever_is_cut_short(hostile_env, proxy, mlflow_client, record_hostile, tokens):
    name = register_model(mlflow_client, ["Production", "Staging"])
    counter = iter(range(10**6))

    def page_forever(answer: dict[str, Any]) -> dict[str, Any]:
        # Tokens MLflow itself accepts (it reads a non-empty offset and ignores the rest), each pointing at page one again.
        serial = 0 if tokens == "repeated" else next(counter)
        answer["next_page_token"] = base64.b64encode(json.dumps({"offset": "0", "serial": serial}).encode()).decode()
        return answer

    proxy.inject("/model-versions/search", REWRITE, rewrite=page_forever)

    run = probe({"model_name": name, "new_version": "2"})

    # The transition is the fact; the verification read that would not end is given up, not the promotion.
    assert run.result is not None
    assert (run.result["promoted"], run.result["new_version"]) == (True, "2")
    requests = proxy.take()
    searches = _routes(requests).count("/model-versions/search")
    assert searches == (2 if tokens == "repeated" else MAX_SEARCH_PAGES)
    assert {v: s for v, (s, *_) in full_state(mlflow_client, name).items()} == {"1": "Archived", "2": "Production"}
    label = "the same `next_page_token` forever" if tokens == "repeated" else "a new `next_page_token` forever"
    record_hostile(f"a search that returns {label}", run, requests, "v1 Archived, v2 Production")


def test_no_secret_reaches_any_log_at_debug(hostile_env, proxy, mlflow_client, record_hostile):
    password = f"pw-{uuid.uuid4().hex}"
    secret = json.dumps({"username": "promoter", "password": password})
    arn = boto3.client("secretsmanager").create_secret(Name=f"mlflow-{uuid.uuid4().hex[:8]}", SecretString=secret)[
        "ARN"
    ]
    hostile_env.setenv("MLFLOW_CREDENTIALS_SECRET_ARN", arn)
    hostile_env.setenv("ALERTS_ENABLED", "true")  # SNS's DEBUG lines prove the level was really DEBUG
    name = register_model(mlflow_client, ["Production", "Staging"])

    run = probe({"model_name": name}, root_log_level="DEBUG")

    assert run.result is not None
    assert run.result["promoted"] is True
    assert "botocore" in run.output
    assert "Response body" in run.output
    assert password not in run.output
    assert base64.b64encode(f"promoter:{password}".encode()).decode() not in run.output
    record_hostile(
        "root logger at DEBUG, password from Secrets Manager", run, proxy.take(), "promoted; no secret logged"
    )


def test_an_html_answer_to_an_applied_transition_is_read_back(
    faulty_env, proxy, mlflow_client, alert_topic, sqs, record_hostile
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy.inject(TRANSITION, HTML_AFTER_FORWARD, times=1)

    run = probe({"model_name": name, "new_version": "2"})

    assert run.result is not None
    assert (run.result["promoted"], run.result["archived_version"], run.result["alias"]) == (True, "1", "champion")
    assert (run.result["audit_tags_written"], run.result["notification_sent"]) == (True, True)
    requests = proxy.take()
    assert _routes(requests).count(TRANSITION) == 1  # read back, never sent again
    state = full_state(mlflow_client, name)
    assert (state["1"][0], state["2"][0], state["2"][3]) == ("Archived", "Production", ["champion"])
    assert len(received_notifications(sqs, alert_topic.queue_url, wait_seconds=1)) == 1
    record_hostile("the transition applied, answered `200` with HTML", run, requests, "v1 Archived, v2 Production")


def test_a_redirect_is_named_with_its_target_and_not_followed(hostile_env, proxy, mlflow_client, record_hostile):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)
    proxy.inject("/api/", REDIRECT)

    run = probe({"model_name": name, "new_version": "2"})

    assert run.error is not None
    assert run.error["type"] == "RegistryResponseError"
    assert "redirect (HTTP 302) to https://sso.example.com/login" in run.error["message"]
    assert "do-not-show" not in run.output
    requests = proxy.take()
    assert requests == []
    assert full_state(mlflow_client, name) == before
    record_hostile("a redirect to a login page", run, requests, "unchanged")


def test_a_model_of_another_name_in_the_answer_is_refused(hostile_env, proxy, mlflow_client, record_hostile):
    name = register_model(mlflow_client, ["Production", "Staging"])
    before = full_state(mlflow_client, name)

    def other_model(answer: dict[str, Any]) -> dict[str, Any]:
        answer["model_version"]["name"] = unique_model_name("Other")
        return answer

    proxy.inject("/model-versions/get", REWRITE, rewrite=other_model)

    run = probe({"model_name": name, "new_version": "2"})

    assert run.error is not None
    assert run.error["type"] == "RegistryResponseError"
    assert "another model" in run.error["message"]
    requests = proxy.take()
    assert proxy.writes() == []
    assert full_state(mlflow_client, name) == before
    record_hostile("answers with a version of another model", run, requests, "unchanged")
