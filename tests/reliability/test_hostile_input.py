"""Hostile input: arbitrary JSON events, awkward model names, and always-valid SNS subjects."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promote_model import handler
from promote_model.alerts import notification_subject
from promote_model.errors import ConfigurationError, PromotionError
from promote_model.settings import ModelManagementSettings
from tests.support import LambdaContext, register_model, stages

FIELDS = ["model_name", "new_version", "confidence", "dry_run", "execution_id"]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.text(min_size=200, max_size=3000)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
events = (
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=6)
    | json_values
    | st.fixed_dictionaries(
        {"model_name": st.text(max_size=300)},
        optional={"new_version": json_values, "confidence": json_values, "dry_run": json_values},
    )
)


@pytest.fixture
def hostile_env(faulty_env):
    faulty_env.setenv("ALERTS_ENABLED", "false")
    return faulty_env


def test_arbitrary_events_get_named_answers_and_rejections_write_nothing(hostile_env, proxy):
    seen = {"rejected": 0, "answered": 0}

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(event=events)
    def check(event):
        writes_before = len(proxy.writes())
        try:
            result = handler.lambda_handler(event, LambdaContext())
        except PromotionError:
            seen["answered"] += 1  # a named error is an allowed answer
            assert len(proxy.writes()) == writes_before
            return
        seen["answered"] += 1
        if result["promoted"] is False:
            seen["rejected"] += 1
            assert isinstance(result["reason"], str)
            assert result["reason"]
            assert result["reason_code"]
            assert len(proxy.writes()) == writes_before, (event, proxy.writes()[writes_before:])

    check()
    assert seen["answered"] >= 1000
    assert seen["rejected"] > 900  # random names never match a registered model


@pytest.mark.parametrize(
    "name",
    ['it\'s "quoted"', "back\\slash", "100% & more", "模型-ü-😀", "a_b%c", "semi;colon=1&x=y#frag?"],
)
def test_awkward_model_names_reach_mlflow_intact(lambda_env, mlflow_client, name):
    register_model(mlflow_client, ["Production", "Staging"], name=name)
    lookalike = name.replace("\\", "_").replace("'", "_").replace('"', "_")
    if lookalike != name:  # a model LIKE's wildcard would also match must stay untouched
        register_model(mlflow_client, ["Production", "Staging"], name=lookalike)

    result = handler.lambda_handler({"model_name": name}, LambdaContext())

    assert (result["promoted"], result["new_version"], result["model_name"]) == (True, "2", name)
    assert stages(mlflow_client, name) == {"1": "Archived", "2": "Production"}
    if lookalike != name:
        assert stages(mlflow_client, lookalike) == {"1": "Production", "2": "Staging"}


@settings(max_examples=500, deadline=None)
@given(name=st.text(max_size=300))
def test_the_sns_subject_is_always_valid(name):
    subject = notification_subject(name)

    assert 0 < len(subject) <= 100
    assert all(" " <= c <= "~" for c in subject)


@pytest.mark.parametrize("uri", ["http://mlflow.internal:5000", "http://10.1.2.3", "http://[2001:db8::1]:80"])
def test_credentials_are_never_sent_over_plain_http_beyond_loopback(uri):
    environ = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p" * 12}

    with pytest.raises(ConfigurationError, match="MLFLOW_ALLOW_INSECURE_HTTP") as raised:
        ModelManagementSettings.from_environ(environ)
    assert "p" * 12 not in str(raised.value)

    allowed = ModelManagementSettings.from_environ(environ | {"MLFLOW_ALLOW_INSECURE_HTTP": "true"})
    assert allowed.tracking_uri == uri
    assert "p" * 12 not in repr(allowed)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:5000", "http://localhost:5000", "https://mlflow.example.com"])
def test_loopback_and_https_carry_credentials(uri):
    environ = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p" * 12}

    assert ModelManagementSettings.from_environ(environ).has_credentials


def test_a_secret_uri_is_refused_without_quoting_it():
    with pytest.raises(ConfigurationError) as raised:
        ModelManagementSettings.from_environ({"MLFLOW_TRACKING_URI": "https://user:hunter2hunter2@mlflow.example.com"})

    assert "hunter2" not in str(raised.value)
