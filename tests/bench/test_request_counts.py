"""The requests MLflow receives per promotion, counted at the server by a proxy in front of it.

`make bench` reports these numbers beside the baseline's; these tests pin them exactly, route by
route, so a change that adds a request to a promotion is a deliberate one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.fault_proxy import FaultProxy, fault_proxy
from promote_model import handler
from tests.support import invoke, register_model

API = "/api/2.0/mlflow"
GET_VERSION = ("GET", f"{API}/model-versions/get")
GET_MODEL = ("GET", f"{API}/registered-models/get")
TRANSITION = ("POST", f"{API}/model-versions/transition-stage")
VERIFY = ("GET", f"{API}/model-versions/search")  # the post-transition check of a single champion
SET_ALIAS = ("POST", f"{API}/registered-models/alias")
SET_TAG = ("POST", f"{API}/model-versions/set-tag")
# One set-tag request per audit tag: five on the new champion, two on the version it archived.
AUDIT_TAGS = [SET_TAG] * 7


@pytest.fixture
def proxy(mlflow_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(mlflow_url) as counting:
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


def promote(proxy: FaultProxy, event: dict[str, object]) -> list[tuple[str, str]]:
    proxy.take()
    result = invoke(event)
    assert result["promoted"] is True, result
    return proxy.take()


def test_explicit_version(mlflow_client, spec_flow):
    name = register_model(mlflow_client, ["Production", "Staging"])
    routes = promote(spec_flow, {"model_name": name, "new_version": "2", "confidence": 0.85})
    assert routes == [GET_VERSION, GET_MODEL, TRANSITION, VERIFY]


def test_staging_fallback(mlflow_client, spec_flow):
    name = register_model(mlflow_client, ["Production", "Staging"])
    routes = promote(spec_flow, {"model_name": name, "confidence": 0.85})
    assert routes == [GET_MODEL, TRANSITION, VERIFY]


def test_idempotent_call_is_a_single_read(mlflow_client, spec_flow):
    name = register_model(mlflow_client, ["Production", "Staging"])
    event = {"model_name": name, "new_version": "2", "confidence": 0.85}
    promote(spec_flow, event)
    assert promote(spec_flow, event) == [GET_VERSION]


def test_defaults_add_the_alias_and_one_request_per_audit_tag(mlflow_client, through_proxy):
    name = register_model(mlflow_client, ["Production", "Staging", "Staging"])
    explicit = {"model_name": name, "new_version": "2", "confidence": 0.85}
    assert promote(through_proxy, explicit) == [GET_VERSION, GET_MODEL, TRANSITION, VERIFY, SET_ALIAS, *AUDIT_TAGS]
    fallback = {"model_name": name, "confidence": 0.85}
    assert promote(through_proxy, fallback) == [GET_MODEL, TRANSITION, VERIFY, SET_ALIAS, *AUDIT_TAGS]
    # the champion already holds the alias: nothing to repair
    assert promote(through_proxy, fallback | {"new_version": "3"}) == [GET_VERSION]
