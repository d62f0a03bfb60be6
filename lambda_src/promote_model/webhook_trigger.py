"""Which MLflow webhook events start a promotion, and with what execution name and input.

Pure logic over a verified delivery's JSON: no AWS or HTTP calls. The input is what the retraining
workflow's fragment reads (``model_name``, ``challenger_version``), plus where it came from.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promote_model.errors import ConfigurationError
from promote_model.settings import _alias

DEFAULT_TRIGGER_ALIAS = "challenger"
ALIAS_CREATED = ("model_version_alias", "created")
TAG_SET = ("model_version_tag", "set")
EXECUTION_NAME_PREFIX = "mlflow-"
MAX_EXECUTION_NAME_LENGTH = 80  # Step Functions' limit
# What Step Functions allows in an execution name and Express/CloudWatch tools handle well.
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]")
_VERSION = re.compile(r"[1-9][0-9]{0,17}")


@dataclass(frozen=True)
class TriggerSettings:
    state_machine_arn: str
    secret_arn: str
    alias: str | None = DEFAULT_TRIGGER_ALIAS  # None: alias events start nothing
    tag: tuple[str, str] | None = None  # (key, value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> TriggerSettings:
        return cls(
            state_machine_arn=_required(environ, "STATE_MACHINE_ARN"),
            secret_arn=_required(environ, "WEBHOOK_SECRET_ARN"),
            alias=_alias(environ, "TRIGGER_ALIAS", default=DEFAULT_TRIGGER_ALIAS),
            tag=_tag(environ.get("TRIGGER_TAG", "")),
        )


@dataclass(frozen=True)
class Start:
    execution_name: str
    execution_input: dict[str, Any]


@dataclass(frozen=True)
class Ignore:
    reason: str


@dataclass(frozen=True)
class Malformed:
    reason: str


def decide(delivery_id: str, payload: Any, settings: TriggerSettings) -> Start | Ignore | Malformed:
    """Start a promotion for the trigger alias being set on a version, or the trigger tag being set
    to its value; acknowledge and ignore every other event."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return Malformed('the body must be a JSON object with "entity", "action" and a "data" object')
    entity, action, data = payload.get("entity"), payload.get("action"), payload["data"]
    trigger: dict[str, Any] = {"delivery_id": delivery_id, "entity": entity, "action": action}
    if (entity, action) == ALIAS_CREATED:
        if settings.alias is None or data.get("alias") != settings.alias:
            return Ignore(f"alias {_quote(data.get('alias'))} is not the trigger alias")
        trigger["alias"] = settings.alias
    elif (entity, action) == TAG_SET:
        if settings.tag is None or (data.get("key"), data.get("value")) != settings.tag:
            return Ignore("not the trigger tag")
        trigger["tag"] = {"key": settings.tag[0], "value": settings.tag[1]}
    else:
        return Ignore(f"event {_quote(entity)}.{_quote(action)} does not start promotions")
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not name or not isinstance(version, str) or not _VERSION.fullmatch(version):
        return Malformed('the event\'s "data" needs a model "name" and a "version" number')
    for optional in ("timestamp", "workspace"):  # the sender's, so a replay gives the same input
        if isinstance(payload.get(optional), str):
            trigger[optional] = payload[optional]
    execution_input = {
        "model_name": name,
        "challenger_version": version,
        # The fragment reads $.comparison.confidence; a webhook compares nothing, so none is given.
        "comparison": {"confidence": None},
        "trigger": trigger,
    }
    return Start(execution_name(delivery_id), execution_input)


def execution_name(delivery_id: str) -> str:
    """One name per delivery, so Step Functions itself refuses a second execution of it. A delivery
    id that is not already safe and short keeps a readable prefix and gets a digest of the whole."""
    safe = _UNSAFE_NAME_CHARACTERS.sub("-", delivery_id)
    name = EXECUTION_NAME_PREFIX + safe
    if safe == delivery_id and len(name) <= MAX_EXECUTION_NAME_LENGTH:
        return name
    digest = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    keep = MAX_EXECUTION_NAME_LENGTH - len(EXECUTION_NAME_PREFIX) - len(digest) - 1
    return f"{EXECUTION_NAME_PREFIX}{safe[:keep]}-{digest}"


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is not set")
    return value


def _tag(raw: str) -> tuple[str, str] | None:
    if not raw.strip():
        return None
    key, separator, value = raw.strip().partition("=")
    if not separator or not key.strip():
        raise ConfigurationError(f"TRIGGER_TAG must be key=value, got {raw[:40]!r}")
    return key.strip(), value.strip()


def _quote(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, str) else "?"
