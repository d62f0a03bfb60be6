"""The webhook receiver's pure rules: signature checking, which events start what, execution names
and settings. The end-to-end behaviour with a real MLflow server is in tests/webhook/."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promote_model.errors import ConfigurationError
from promote_model.webhook_signature import Rejected, Verified, sign, verify_delivery
from promote_model.webhook_trigger import Ignore, Malformed, Start, TriggerSettings, decide, execution_name

SECRET = "whsec-unit"
NOW = 1_800_000_000
BODY = b'{"entity": "model_version_alias", "action": "created", "data": {}}'
SETTINGS = TriggerSettings(state_machine_arn="arn:sm", secret_arn="arn:secret", alias="challenger", tag=("ok", "yes"))


def _headers(**overrides: str) -> dict[str, str]:
    headers = {
        "x-mlflow-delivery-id": "d-1",
        "x-mlflow-timestamp": str(NOW),
        "x-mlflow-signature": sign(SECRET, "d-1", str(NOW), BODY),
    }
    return {**headers, **overrides}


def _verify(headers: dict[str, str], body: bytes = BODY, *, now: float = NOW) -> Verified | Rejected:
    return verify_delivery(headers, body, secrets=lambda: [SECRET], now=now)


def test_a_correct_signature_within_five_minutes_verifies():
    assert _verify(_headers(), now=NOW + 300) == Verified("d-1")
    assert isinstance(_verify(_headers(), now=NOW + 301), Rejected)


def test_any_v1_signature_of_a_list_may_match_and_other_versions_are_skipped():
    good = _headers()["x-mlflow-signature"]
    other = sign("old-secret", "d-1", str(NOW), BODY)

    assert _verify(_headers(**{"x-mlflow-signature": f"v2,abc {other} {good}"})) == Verified("d-1")
    assert isinstance(_verify(_headers(**{"x-mlflow-signature": other})), Rejected)


def test_during_a_rotation_the_old_and_the_new_secret_both_verify():
    signed_with_old = _headers(**{"x-mlflow-signature": sign("old", "d-1", str(NOW), BODY)})

    assert verify_delivery(signed_with_old, BODY, secrets=lambda: [SECRET, "old"], now=NOW) == Verified("d-1")
    assert isinstance(verify_delivery(signed_with_old, BODY, secrets=lambda: [SECRET], now=NOW), Rejected)


def test_the_secret_is_not_read_for_a_request_without_the_headers():
    def no_secret() -> list[str]:
        raise AssertionError("the secret was read for a request that could not be authentic")

    assert isinstance(verify_delivery({}, BODY, secrets=no_secret, now=NOW), Rejected)


def test_a_rejection_never_carries_the_expected_signature():
    expected = _headers()["x-mlflow-signature"].split(",", 1)[1]
    rejected = _verify(_headers(**{"x-mlflow-signature": sign("wrong", "d-1", str(NOW), BODY)}))

    assert isinstance(rejected, Rejected)
    assert expected not in rejected.reason
    assert SECRET not in rejected.reason


def _event(entity: str, action: str, **data: str) -> dict:
    return {"entity": entity, "action": action, "timestamp": "t", "data": data}


def test_the_trigger_alias_starts_that_version_and_other_aliases_do_not():
    start = decide("d-1", _event("model_version_alias", "created", name="m", alias="challenger", version="3"), SETTINGS)
    other = decide("d-2", _event("model_version_alias", "created", name="m", alias="champion", version="3"), SETTINGS)

    assert isinstance(start, Start)
    assert start.execution_input == {
        "model_name": "m",
        "challenger_version": "3",
        "comparison": {"confidence": None},
        "trigger": {
            "delivery_id": "d-1",
            "entity": "model_version_alias",
            "action": "created",
            "alias": "challenger",
            "timestamp": "t",
        },
    }
    json.dumps(start.execution_input)
    assert isinstance(other, Ignore)


def test_only_the_trigger_tag_with_its_value_starts_a_promotion():
    assert isinstance(
        decide("d", _event("model_version_tag", "set", name="m", version="1", key="ok", value="yes"), SETTINGS), Start
    )
    assert isinstance(
        decide("d", _event("model_version_tag", "set", name="m", version="1", key="ok", value="no"), SETTINGS), Ignore
    )
    assert isinstance(decide("d", _event("model_version", "created", name="m", version="1"), SETTINGS), Ignore)


@pytest.mark.parametrize(
    "payload",
    [[], {"entity": "model_version_alias"}, _event("model_version_alias", "created", alias="challenger", version="1")]
    + [_event("model_version_alias", "created", name="m", alias="challenger", version=v) for v in ("0", "x", "")],
)
def test_a_triggering_event_without_a_model_and_version_is_malformed(payload):
    assert isinstance(decide("d", payload, SETTINGS), Malformed)


def test_execution_names_are_the_delivery_id_when_safe_and_distinct_digests_when_not():
    assert execution_name("0b6f7c1e-2f6a-4c39-9d9e-3f1b2c4d5e6f") == "mlflow-0b6f7c1e-2f6a-4c39-9d9e-3f1b2c4d5e6f"
    odd = [execution_name("a b"), execution_name("a/b"), execution_name("x" * 200), execution_name("x" * 201)]
    assert all(len(name) <= 80 and name.replace("-", "").replace("_", "").isalnum() for name in odd)
    assert len(set(odd)) == len(odd)


def test_settings_name_what_is_missing_or_malformed():
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        TriggerSettings.from_environ({"WEBHOOK_SECRET_ARN": "arn"})
    with pytest.raises(ConfigurationError, match="TRIGGER_TAG"):
        TriggerSettings.from_environ({"STATE_MACHINE_ARN": "a", "WEBHOOK_SECRET_ARN": "b", "TRIGGER_TAG": "novalue"})
    with pytest.raises(ConfigurationError, match="TRIGGER_ALIAS"):
        TriggerSettings.from_environ({"STATE_MACHINE_ARN": "a", "WEBHOOK_SECRET_ARN": "b", "TRIGGER_ALIAS": "v1"})
    settings = TriggerSettings.from_environ({"STATE_MACHINE_ARN": "a", "WEBHOOK_SECRET_ARN": "b", "TRIGGER_ALIAS": ""})
    assert (settings.alias, settings.tag) == (None, None)


_HEADER_NAMES = st.sampled_from(["x-mlflow-delivery-id", "x-mlflow-timestamp", "x-mlflow-signature", "content-type"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(headers=st.dictionaries(_HEADER_NAMES, st.text(max_size=80)), body=st.binary(max_size=200))
def test_any_headers_and_body_are_verified_or_rejected_never_raising(headers, body):
    assert isinstance(_verify(headers, body), (Verified, Rejected))


@given(payload=_JSON | st.fixed_dictionaries({"entity": st.text(), "action": st.text(), "data": _JSON}))
def test_any_signed_json_is_started_ignored_or_malformed_never_raising(payload):
    decision = decide("d", payload, SETTINGS)

    assert isinstance(decision, (Start, Ignore, Malformed))
    if isinstance(decision, Start):
        json.dumps(decision.execution_input)
