"""Synth-time checks of the constructs' props, in the CDK's convention: a token (a deploy-time value
such as a ``CfnParameter`` or an SSM parameter) passes through untouched, a concrete value is checked
and refused with a message that shows the value given and says what was expected.

The fragment's literal event values are checked with the function's own rules: the handler's
``request`` module, which this package carries as ``promote_model_cdk._lambda.promote_model``
(pyproject.toml, ``package-dir``), so the rules are never written twice.
"""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Token

# The handler's request rules, as the installed package carries them (plain Python, no AWS import).
_REQUEST_MODULE = "promote_model_cdk._lambda.promote_model.request"
# Which hosts are this machine, by the rule the function's settings apply (no import either).
_LOOPBACK_MODULE = "promote_model_cdk._lambda.promote_model.loopback"
# A placeholder for a field given as a JsonPath: valid by the function's rules, never deployed.
_VALID_MODEL_NAME = "model"
MAX_ENVIRONMENT_LENGTH = 64

_DEPLOY_TIME_HINT = "(or a token, e.g. a CfnParameter's value_as_string or an SSM parameter, resolved at deploy time)"


def is_token(value: Any) -> bool:
    """``value`` is a deploy-time value (a CDK token), not known at synth."""
    return Token.is_unresolved(value)


def check_tracking_uri(value: str | None) -> str:
    """An ``http(s)://`` URL, or a token."""
    if value is not None and is_token(value):
        return value
    if not isinstance(value, str) or not value.startswith(("https://", "http://")) or not value.partition("://")[2]:
        raise ValueError(
            f"tracking_uri must be the MLflow server's http(s) URL, https://<host>[:port][/path] {_DEPLOY_TIME_HINT}; got {value!r}"
        )
    return value


def is_loopback_url(url: str) -> bool:
    """``url``'s host is this machine (``localhost`` or a loopback address), where the function
    accepts plain http without ``allow_insecure_http``: the function's own rule."""
    loopback = importlib.import_module(_LOOPBACK_MODULE)
    return bool(loopback.is_loopback_host(urlsplit(url).hostname or ""))


def plain_http_problem(uri: str, *, allow_insecure_http: bool, auth_kind: str) -> str | None:
    """What is risky about a concrete ``http://`` tracking URI to another machine: credentials would
    cross the network in the clear, or, without ``allow_insecure_http``, the function refuses the
    URL. ``None`` for https, a token, or loopback (nothing crosses a network)."""
    if is_token(uri) or not uri.startswith("http://") or is_loopback_url(uri):
        return None
    if not allow_insecure_http:
        return (
            f"tracking_uri {uri!r} is plain http: the function refuses it unless allow_insecure_http=True; use https://"
        )
    if auth_kind in ("basic", "token"):
        return (
            f"tracking_uri {uri!r} is plain http with {auth_kind} auth: the credentials cross the network "
            "unencrypted; use https://"
        )
    return None


def check_sagemaker_arn(value: str) -> str:
    """A SageMaker managed MLflow tracking server ARN, or a token."""
    if is_token(value):
        return value
    if not isinstance(value, str) or not value.startswith("arn:") or ":mlflow-tracking-server/" not in value:
        raise ValueError(
            "MlflowAuth.sagemaker needs a tracking server ARN, "
            f"arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name> {_DEPLOY_TIME_HINT}; got {value!r}"
        )
    return value


def check_environment(value: str) -> str:
    """A non-blank name of printable characters (shown in notifications and descriptions), or a token."""
    if is_token(value):
        return value
    if (
        not isinstance(value, str)
        or not value.strip()
        or not value.isprintable()
        or len(value) > MAX_ENVIRONMENT_LENGTH
    ):
        raise ValueError(
            f"environment must be a non-blank name of at most {MAX_ENVIRONMENT_LENGTH} printable characters "
            f"such as 'prod' {_DEPLOY_TIME_HINT}; got {value!r}"
        )
    return value


def is_literal(value: Any) -> bool:
    """A value written into the event as it is: not a JsonPath (``sfn.JsonPath.string_at`` and friends
    are tokens) nor a ``$``-path string, and given at all."""
    if value is None or is_token(value):
        return False
    return not (isinstance(value, str) and value.startswith("$"))


def check_event_literals(**fields: Any) -> None:
    """Refuse at synth a literal event value the function would refuse at run time
    (``INVALID_REQUEST``), naming the parameter. Fields given as JsonPaths are checked at run time."""
    literals = {name: value for name, value in fields.items() if is_literal(value)}
    if not literals:
        return
    request = importlib.import_module(_REQUEST_MODULE)
    event = {"model_name": _VALID_MODEL_NAME, **literals}
    answer = request.parse_request(event)
    if isinstance(answer, request.InvalidRequest):
        # The reason begins with the field's name ("model_name must not be blank").
        named = next((name for name in literals if answer.reason.startswith(name)), None)
        shown = f" {named}={literals[named]!r}:" if named else ""
        raise ValueError(f"the function would refuse this event's{shown} {answer.reason}")
