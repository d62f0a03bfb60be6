"""The requests MLflow receives per promotion, counted at the server by a proxy in front of it.

`make bench` reports these numbers beside the baseline's; these tests pin them exactly, route by
route and round trip by round trip (requests sent together overlap at the proxy), so a change that
adds a request, or a wait, to a promotion is a deliberate one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.local.fault_proxy import FaultProxy, fault_proxy
from promote_model import handler
from tests.support import invoke, register_model

API = "/api/2.0/mlflow"
GET_VERSION = ("GET", f"{API}/model-versions/get")
GET_MODEL = ("GET", f"{API}/registered-models/get")
TRANSITION = ("POST", f"{API}/model-versions/transition-stage")
VERIFY = ("GET", f"{API}/model-versions/search")  # the post-transition check of a single champion
SET_ALIAS = ("POST", f"{API}/registered-models/alias")
SET_TAG = ("POST", f"{API}/model-versions/set-tag")
# One set-tag request per audit tag: four on the new champion, two on the version it archived; then,
# once the alias, the tags, the notification and the event are done, promoted_at (the finished
# marker) in a round of its own, with the delivery markers when there is an execution to resume.
AUDIT_TAGS = [SET_TAG] * 6
FINISHED = [SET_TAG]


# A round trip on the wire, so requests sent together overlap at the proxy beyond any scheduling jitter.
WIRE_LATENCY_SECONDS = 0.05


@pytest.fixture
def proxy(mlflow_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(mlflow_url, latency=WIRE_LATENCY_SECONDS) as counting:
        yield counting


@pytest.fixture
def through_proxy(lambda_env: pytest.MonkeyPatch, proxy: FaultProxy) -> FaultProxy:
    """The function's settings, with MLflow reached only through the counting proxy."""
    lambda_env.setenv("MLFLOW_TRACKING_URI", proxy.url)
    handler.reset_runtime()
    return proxy


@pytest.fixture
def spec_flow(lambda_env: pytest.MonkeyPatch, through_proxy: FaultProxy) -> FaultProxy:
    """The spec's flow: no champion alias, no audit tags."""
    lambda_env.setenv("PROMOTION_ALIAS", "")
    lambda_env.setenv("AUDIT_TAGS_ENABLED", "false")
    handler.reset_runtime()
    return through_proxy


def promote(proxy: FaultProxy, event: dict[str, object]) -> list[list[tuple[str, str]]]:
    """The promotion's requests as sequential round trips, each round's requests sorted."""
    proxy.rounds()
    result = invoke(event)
    assert result["promoted"] is True, result
    return [sorted(round_trip) for round_trip in proxy.rounds()]


def test_explicit_version_reads_only_the_version_and_learns_the_archived_champion_from_the_verification(
    mlflow_client, spec_flow
):
    name = register_model(mlflow_client, ["Production", "Staging"])
    proxy = spec_flow
    proxy.rounds()
    result = invoke({"model_name": name, "new_version": "2", "confidence": 0.85})
    assert result["archived_version"] == "1"
    assert [sorted(r) for r in proxy.rounds()] == [[GET_VERSION], [TRANSITION], [VERIFY]]


def test_staging_fallback(mlflow_client, spec_flow):
    name = register_model(mlflow_client, ["Production", "Staging"])
    rounds = promote(spec_flow, {"model_name": name, "confidence": 0.85})
    assert rounds == [[GET_MODEL], [TRANSITION], [VERIFY]]


def test_idempotent_call_is_a_single_read(mlflow_client, spec_flow):
    name = register_model(mlflow_client, ["Production", "Staging"])
    event = {"model_name": name, "new_version": "2", "confidence": 0.85}
    promote(spec_flow, event)
    assert promote(spec_flow, event) == [[GET_VERSION]]


def test_defaults_write_the_alias_and_every_audit_tag_in_one_round_trip(mlflow_client, through_proxy):
    name = register_model(mlflow_client, ["Production", "Staging", "Staging"])
    explicit = {"model_name": name, "new_version": "2", "confidence": 0.85}
    writes = sorted([SET_ALIAS, *AUDIT_TAGS])
    assert promote(through_proxy, explicit) == [[GET_VERSION], [TRANSITION], [VERIFY], writes, FINISHED]
    fallback = {"model_name": name, "confidence": 0.85}
    assert promote(through_proxy, fallback) == [[GET_MODEL], [TRANSITION], [VERIFY], writes, FINISHED]
    # the champion already holds the alias: nothing to repair
    assert promote(through_proxy, fallback | {"new_version": "3"}) == [[GET_VERSION]]


def test_a_workflow_promotion_tags_its_execution_with_the_transition(mlflow_client, through_proxy):
    name = register_model(mlflow_client, ["Production", "Staging"])
    event = {"model_name": name, "new_version": "2", "execution_id": "arn:aws:states:execution:run-1"}
    rounds = promote(through_proxy, event)
    assert rounds == [
        [GET_VERSION],
        sorted([TRANSITION, SET_TAG]),  # execution_id, with the transition
        [VERIFY],
        sorted([SET_ALIAS, *AUDIT_TAGS, SET_TAG]),  # ... and execution_id among the audit tags
        [SET_TAG] * 3,  # notification_sent_for, event_sent_for, then (same round) promoted_at
    ]
