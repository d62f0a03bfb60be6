"""Per-environment configuration: the ``environments`` context of ``cdk.json``, validated once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from aws_cdk import aws_logs as logs

from promote_model_cdk.constants import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    PIP_PLATFORM_OF_ARCHITECTURE,
    PYTHON_VERSION_OF_RUNTIME,
)
from promote_model_cdk.policies import PromotionGates, PromotionMode, policy_settings

STACK_NAME_PREFIX = "PromoteModel"

_KNOWN_KEYS = {
    "account", "region", "mlflow_tracking_uri", "auth", "alert_emails",
    "log_retention_days", "alarm", "reserved_concurrency", "vpc", "registry_name", "alerts_enabled",
    "allow_insecure_http", "detailed_tracing", "promotion_alias", "challenger_alias", "audit_tags",
    "subject_prefix", "event_bus", "approval", "lambda_runtime", "lambda_architecture",
    "promotion_mode", "target_model_name", "gates",
}  # fmt: skip
_AUTH_KINDS = ("basic", "token", "sagemaker", "none")


MAX_APPROVAL_SECONDS = 7 * 24 * 60 * 60  # a week: longer, and nobody is coming


class ConfigError(ValueError):
    """The CDK context does not describe a deployable environment."""


@dataclass(frozen=True)
class AlarmConfig:
    errors_threshold: int = 1
    period_minutes: int = 5
    evaluation_periods: int = 1


@dataclass(frozen=True)
class AuthConfig:
    """``auth`` of an environment: ``{"kind": "basic"|"token"|"sagemaker"|"none", ...}``."""

    kind: str = "basic"
    secret_arn: str | None = None  # basic: import this secret instead of creating one; token: required
    tracking_server_arn: str | None = None  # sagemaker: required


@dataclass(frozen=True)
class VpcConfig:
    vpc_id: str
    availability_zones: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    mlflow_tracking_uri: str | None  # None only with SageMaker auth, whose ARN is the tracking URI
    account: str | None = None
    region: str | None = None
    auth: AuthConfig = field(default_factory=AuthConfig)
    alert_emails: tuple[str, ...] = ()
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    alarm: AlarmConfig = field(default_factory=AlarmConfig)
    reserved_concurrency: int | None = 1
    vpc: VpcConfig | None = None
    registry_name: str = "tradai-models"
    alerts_enabled: bool = True
    allow_insecure_http: bool = False
    detailed_tracing: bool = False
    promotion_alias: str | None = "champion"  # None (cdk.json: ""): no alias is kept
    challenger_alias: str | None = None  # None (cdk.json: absent or ""): none
    audit_tags: bool = True
    subject_prefix: str = "[TradAI]"
    event_bus: str | None = "default"  # a bus name or ARN; None (cdk.json: ""): no events
    approval_timeout_seconds: int | None = None  # None: no approval gate; else hold each promotion this long
    lambda_runtime: str = DEFAULT_RUNTIME  # python3.11, python3.12 or python3.13 (docs/platform.md)
    lambda_architecture: str = DEFAULT_ARCHITECTURE  # x86_64 or arm64
    promotion_mode: PromotionMode = "stage"  # "alias", or "copy" into target_model_name (docs/promotion-policies.md)
    target_model_name: str | None = None
    gates: PromotionGates | None = None  # None (cdk.json: absent or {}): no promotion gate

    @property
    def stack_name(self) -> str:
        return f"{STACK_NAME_PREFIX}-{self.name}"


def load_environment(context: dict[str, Any], name: str | None) -> EnvironmentConfig:
    """``context`` holds the ``environments`` table and, optionally, ``mlflow_tracking_uri``: a deploy-time
    override of the environment's (`-c mlflow_tracking_uri=...`; `make deploy-local` passes its server's)."""
    environments = context.get("environments")
    if not isinstance(environments, dict) or not environments:
        raise ConfigError("cdk.json context has no 'environments' table")
    known = ", ".join(sorted(environments))
    if not name:
        raise ConfigError(f"no environment given: pass -c environment=<name>, one of: {known}")
    if name not in environments:
        raise ConfigError(f"unknown environment {name!r}: known environments are {known}")
    raw = environments[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"environment {name!r} must be an object")
    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"environment {name!r} has unknown keys: {', '.join(sorted(unknown))}")
    auth = _auth(name, raw.get("auth", {"kind": "basic"}))
    return EnvironmentConfig(
        name=name,
        mlflow_tracking_uri=_tracking_uri(
            name,
            context.get("mlflow_tracking_uri") or raw.get("mlflow_tracking_uri"),
            optional=auth.kind == "sagemaker",
        ),
        account=_optional_str(name, raw, "account"),
        region=_optional_str(name, raw, "region"),
        auth=auth,
        alert_emails=tuple(_emails(name, raw.get("alert_emails", []))),
        log_retention=_retention(name, raw.get("log_retention_days", 30)),
        alarm=_alarm(name, raw.get("alarm", {})),
        reserved_concurrency=_reserved_concurrency(name, raw.get("reserved_concurrency", 1)),
        vpc=_vpc(name, raw.get("vpc")),
        registry_name=_optional_str(name, raw, "registry_name") or "tradai-models",
        alerts_enabled=_bool(name, raw, "alerts_enabled", default=True),
        allow_insecure_http=_bool(name, raw, "allow_insecure_http", default=False),
        detailed_tracing=_bool(name, raw, "detailed_tracing", default=False),
        promotion_alias=_alias(name, raw, "promotion_alias", default="champion"),
        challenger_alias=_alias(name, raw, "challenger_alias", default=None),
        audit_tags=_bool(name, raw, "audit_tags", default=True),
        subject_prefix=_subject_prefix(name, raw.get("subject_prefix", "[TradAI]")),
        event_bus=_event_bus(name, raw.get("event_bus", "default")),
        approval_timeout_seconds=_approval(name, raw.get("approval"), context.get("approval_timeout_seconds")),
        lambda_runtime=_one_of(name, raw, "lambda_runtime", PYTHON_VERSION_OF_RUNTIME, default=DEFAULT_RUNTIME),
        lambda_architecture=_one_of(
            name, raw, "lambda_architecture", PIP_PLATFORM_OF_ARCHITECTURE, default=DEFAULT_ARCHITECTURE
        ),
        **_policies(name, raw),
    )


def _policies(env: str, raw: dict[str, Any]) -> dict[str, Any]:
    """``promotion_mode`` (``stage``, ``alias``, ``copy``), ``target_model_name`` and ``gates``
    (``{"min_confidence", "required_version_tags", "metric", "metric_goal", "min_improvement"}``),
    checked by the library's own rules."""
    mode = raw.get("promotion_mode", "stage")
    target = raw.get("target_model_name") or None
    gates_raw = raw.get("gates") or {}
    gate_keys = {"min_confidence", "required_version_tags", "metric", "metric_goal", "min_improvement"}
    if not isinstance(gates_raw, dict) or set(gates_raw) - gate_keys:
        raise ConfigError(
            f"environment {env!r}: gates must be an object with keys among {', '.join(sorted(gate_keys))}"
        )
    if target is not None and not isinstance(target, str):
        raise ConfigError(f"environment {env!r}: target_model_name must be a string")
    alias = _alias(env, raw, "promotion_alias", default="champion")
    try:
        gates = PromotionGates(**gates_raw) if gates_raw else None
        policy_settings(mode=mode, target_model_name=target, promotion_alias=alias, gates=gates)
    except (TypeError, ValueError) as problem:
        raise ConfigError(f"environment {env!r}: {problem}") from None
    return {"promotion_mode": cast(PromotionMode, mode), "target_model_name": target, "gates": gates}


def _tracking_uri(env: str, value: Any, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.startswith(("https://", "http://")):
        raise ConfigError(f"environment {env!r}: mlflow_tracking_uri must be an http(s) URL")
    return value


def _auth(env: str, value: Any) -> AuthConfig:
    if not isinstance(value, dict) or value.get("kind") not in _AUTH_KINDS:
        raise ConfigError(f"environment {env!r}: auth must be an object with kind one of {', '.join(_AUTH_KINDS)}")
    kind = value["kind"]
    allowed = {"basic": {"secret_arn"}, "token": {"secret_arn"}, "sagemaker": {"tracking_server_arn"}, "none": set()}
    unknown = set(value) - {"kind"} - allowed[kind]
    if unknown:
        raise ConfigError(f"environment {env!r}: auth of kind {kind!r} takes no {', '.join(sorted(unknown))}")
    if kind == "token" and "secret_arn" not in value:
        raise ConfigError(
            f"environment {env!r}: auth of kind 'token' needs secret_arn (a secret holding {{\"token\": ...}})"
        )
    if kind == "sagemaker" and "tracking_server_arn" not in value:
        raise ConfigError(f"environment {env!r}: auth of kind 'sagemaker' needs tracking_server_arn")
    tracking_server_arn = value.get("tracking_server_arn")
    if tracking_server_arn is not None and (
        not isinstance(tracking_server_arn, str) or ":mlflow-tracking-server/" not in tracking_server_arn
    ):
        raise ConfigError(
            f"environment {env!r}: auth.tracking_server_arn must be a SageMaker MLflow tracking server ARN"
        )
    return AuthConfig(
        kind=kind, secret_arn=_secret_arn(env, value.get("secret_arn")), tracking_server_arn=tracking_server_arn
    )


def _alias(env: str, raw: dict[str, Any], key: str, *, default: str | None) -> str | None:
    value = raw.get(key, default)
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"[A-Za-z0-9_-]{1,255}", value)
        or re.fullmatch(r"latest|v\d+", value, re.I)
    ):
        raise ConfigError(
            f"environment {env!r}: {key} must be an MLflow alias (letters, digits, '_', '-'), or  for none"
        )
    return value


def _approval(env: str, value: Any, override_seconds: Any) -> int | None:
    """``"approval": {"timeout_minutes": N}`` holds each promotion for a person up to N minutes; absent
    or null: no gate. The context value ``approval_timeout_seconds`` (``cdk synth -c ...``, what the
    demo and the tests use) turns it on with that many seconds."""
    if override_seconds is not None:
        seconds = _whole(override_seconds)
        if not 1 <= seconds <= MAX_APPROVAL_SECONDS:
            raise ConfigError(f"approval_timeout_seconds must be a whole number from 1 to {MAX_APPROVAL_SECONDS}")
        return seconds
    if value is None or value is False:
        return None
    minutes = _whole(value.get("timeout_minutes") if isinstance(value, dict) else None)
    if not 1 <= minutes <= MAX_APPROVAL_SECONDS // 60:
        raise ConfigError(f'{env}: approval must be {{"timeout_minutes": N}} with N from 1 to 10080 (a week)')
    return minutes * 60


def _whole(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _event_bus(env: str, value: Any) -> str | None:
    if value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9._\-/:]{1,1600}", value):
        raise ConfigError(f'environment {env!r}: event_bus must be an EventBridge bus name or ARN, or "" for none')
    return value


def _subject_prefix(env: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 40 or not value.isprintable():
        raise ConfigError(f"environment {env!r}: subject_prefix must be printable text of at most 40 characters")
    return value


def _optional_str(env: str, raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"environment {env!r}: {key} must be a non-empty string")
    return value


def _secret_arn(env: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("arn:aws") or ":secretsmanager:" not in value:
        raise ConfigError(f"environment {env!r}: auth.secret_arn must be a Secrets Manager secret ARN")
    return value


def _emails(env: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(e, str) and "@" in e for e in value):
        raise ConfigError(f"environment {env!r}: alert_emails must be a list of e-mail addresses")
    return value


_RETENTION_BY_DAYS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def _retention(env: str, days: Any) -> logs.RetentionDays:
    if isinstance(days, int) and not isinstance(days, bool) and days in _RETENTION_BY_DAYS:
        return _RETENTION_BY_DAYS[days]
    allowed = ", ".join(str(d) for d in _RETENTION_BY_DAYS)
    raise ConfigError(f"environment {env!r}: log_retention_days must be one of {allowed}")


def _alarm(env: str, value: Any) -> AlarmConfig:
    if not isinstance(value, dict):
        raise ConfigError(f"environment {env!r}: alarm must be an object")
    fields = {"errors_threshold", "period_minutes", "evaluation_periods"}
    if set(value) - fields or not all(isinstance(v, int) and v >= 1 for v in value.values()):
        raise ConfigError(f"environment {env!r}: alarm takes positive integers {', '.join(sorted(fields))}")
    return AlarmConfig(**value)


def _reserved_concurrency(env: str, value: Any) -> int | None:
    # `false`, not null: the CDK drops null values inside the context before the app sees them.
    if value is None or value is False:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"environment {env!r}: reserved_concurrency must be a positive integer or false")
    return value


def _vpc(env: str, value: Any) -> VpcConfig | None:
    if value is None:
        return None
    required = ("vpc_id", "availability_zones", "subnet_ids", "security_group_ids")
    if not isinstance(value, dict) or set(value) != set(required):
        raise ConfigError(f"environment {env!r}: vpc needs exactly {', '.join(required)}")
    lists = [value[key] for key in required[1:]]
    if not all(isinstance(v, list) and v and all(isinstance(i, str) for i in v) for v in lists):
        raise ConfigError(f"environment {env!r}: vpc lists must be non-empty lists of strings")
    return VpcConfig(
        vpc_id=value["vpc_id"],
        availability_zones=tuple(value["availability_zones"]),
        subnet_ids=tuple(value["subnet_ids"]),
        security_group_ids=tuple(value["security_group_ids"]),
    )


def _one_of(env: str, raw: dict[str, Any], key: str, allowed: dict[str, str], *, default: str) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        names = ", ".join(f'"{name}"' for name in allowed)
        raise ConfigError(f"environment {env!r}: {key} must be one of {names} (default {default!r}), got {value!r}")
    return str(value)


def _bool(env: str, raw: dict[str, Any], key: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"environment {env!r}: {key} must be true or false")
    return value
