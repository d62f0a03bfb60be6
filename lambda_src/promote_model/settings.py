"""``ModelManagementSettings``: the function's configuration, read from the environment once.

Validation raises ``ConfigurationError`` naming the variable, never quoting a credential.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from promote_model.alerts import DEFAULT_SUBJECT_PREFIX
from promote_model.errors import ConfigurationError
from promote_model.events import DEFAULT_EVENT_BUS
from promote_model.gate_settings import GateSettings, gates_from_environ
from promote_model.loopback import is_loopback_host
from promote_model.request import MAX_MODEL_NAME_LENGTH, MLFLOW_REFUSED_NAME_CHARACTERS

MODEL_NAME_PLACEHOLDER = "{model_name}"

DEFAULT_REGISTRY_NAME = "tradai-models"
DEFAULT_ENVIRONMENT = "dev"
DEFAULT_PROMOTION_ALIAS = "champion"
MAX_SUBJECT_PREFIX_LENGTH = 40  # SNS subjects hold 100 characters; the model name needs the rest
# MLflow's alias rule: letters, digits, '_' and '-'; "latest" and "v<number>" are reserved.
_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,255}")
_RESERVED_ALIAS = re.compile(r"latest|v\d+", re.IGNORECASE)
# A SageMaker managed MLflow tracking server, as the official sagemaker-mlflow plugin accepts it.
_SAGEMAKER_ARN = re.compile(
    r"arn:(?P<partition>aws|aws-us-gov):sagemaker:(?P<region>[a-z0-9-]+):\d{12}:mlflow-tracking-server/[A-Za-z0-9-]{1,256}"
)
_EVENT_BUS = re.compile(
    r"[A-Za-z0-9._\-/]{1,256}|arn:[a-z-]+:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._\-/]{1,256}"
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class SageMakerTrackingServer:
    """A SageMaker managed MLflow tracking server: reached over HTTPS, signed with the role's IAM identity."""

    arn: str
    region: str
    endpoint: str  # https://<region>.experiments.sagemaker.aws, or SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT


@dataclass(frozen=True)
class ModelManagementSettings:
    tracking_uri: str  # the base URL requests go to (for SageMaker: its endpoint)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    credentials_secret_arn: str | None = None
    sagemaker: SageMakerTrackingServer | None = None
    ca_bundle: str | None = None  # MLFLOW_TRACKING_SERVER_CERT_PATH
    insecure_tls: bool = False
    registry_name: str = DEFAULT_REGISTRY_NAME
    environment: str = DEFAULT_ENVIRONMENT
    alert_topic_arn: str | None = None
    alerts_enabled: bool = True
    allow_insecure_http: bool = False
    promotion_alias: str | None = DEFAULT_PROMOTION_ALIAS  # None: no alias is kept
    challenger_alias: str | None = None
    audit_tags: bool = True
    subject_prefix: str = DEFAULT_SUBJECT_PREFIX
    event_bus_name: str | None = DEFAULT_EVENT_BUS  # None: no EventBridge event
    promotion_mode: str = "stage"  # "alias": registries without stages (the champion alias is the fact)
    gates: GateSettings = field(default_factory=GateSettings)
    target_model_name: str | None = None  # copy mode: the environment's model, may hold {model_name}

    @property
    def alerts_active(self) -> bool:
        return self.alerts_enabled and self.alert_topic_arn is not None

    def champions_model(self, model_name: str) -> str:
        """The model whose versions are the champions: in copy mode the environment's model."""
        if self.promotion_mode == "copy" and self.target_model_name is not None:
            return self.target_model_name.replace(MODEL_NAME_PLACEHOLDER, model_name)
        return model_name

    @property
    def has_credentials(self) -> bool:
        return self.credentials_secret_arn is not None or self.username is not None or self.token is not None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ModelManagementSettings:
        def optional(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        username = optional("MLFLOW_TRACKING_USERNAME")
        password = environ.get("MLFLOW_TRACKING_PASSWORD") or None
        if (username is None) != (password is None):
            missing = "MLFLOW_TRACKING_PASSWORD" if password is None else "MLFLOW_TRACKING_USERNAME"
            raise ConfigurationError(
                f"{missing} is not set: give both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or neither"
            )
        sagemaker = _sagemaker(optional("MLFLOW_TRACKING_URI"), optional("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT"))
        settings = cls(
            tracking_uri=sagemaker.endpoint if sagemaker else _tracking_uri(optional("MLFLOW_TRACKING_URI")),
            username=username,
            password=password,
            token=environ.get("MLFLOW_TRACKING_TOKEN", "").strip() or None,
            credentials_secret_arn=optional("MLFLOW_CREDENTIALS_SECRET_ARN"),
            sagemaker=sagemaker,
            ca_bundle=_ca_bundle(optional("MLFLOW_TRACKING_SERVER_CERT_PATH")),
            insecure_tls=_flag(environ, "MLFLOW_TRACKING_INSECURE_TLS", default=False),
            registry_name=optional("MODEL_REGISTRY_NAME") or DEFAULT_REGISTRY_NAME,
            environment=optional("ENVIRONMENT") or DEFAULT_ENVIRONMENT,
            alert_topic_arn=optional("ALERT_TOPIC_ARN"),
            alerts_enabled=_flag(environ, "ALERTS_ENABLED", default=True),
            allow_insecure_http=_flag(environ, "MLFLOW_ALLOW_INSECURE_HTTP", default=False),
            promotion_alias=_alias(environ, "PROMOTION_ALIAS", default=DEFAULT_PROMOTION_ALIAS),
            challenger_alias=_alias(environ, "CHALLENGER_ALIAS", default=None),
            audit_tags=_flag(environ, "AUDIT_TAGS_ENABLED", default=True),
            subject_prefix=_subject_prefix(environ.get("NOTIFICATION_SUBJECT_PREFIX")),
            event_bus_name=_event_bus(environ.get("EVENT_BUS_NAME")),
            promotion_mode=_promotion_mode(environ.get("PROMOTION_MODE")),
            gates=gates_from_environ(environ),
            target_model_name=_target_model_name(optional("TARGET_MODEL_NAME")),
        )
        settings._refuse_plain_http_credentials()
        settings._refuse_credentials_beside_iam()
        if settings.promotion_mode in ("alias", "copy") and settings.promotion_alias is None:
            raise ConfigurationError(
                f"PROMOTION_MODE={settings.promotion_mode} needs PROMOTION_ALIAS: the alias is what a promotion moves"
            )
        if settings.promotion_mode == "copy" and settings.target_model_name is None:
            raise ConfigurationError(
                "PROMOTION_MODE=copy needs TARGET_MODEL_NAME: the environment's model, e.g. prod-{model_name}"
            )
        if settings.ca_bundle is not None and settings.insecure_tls:
            raise ConfigurationError(
                "MLFLOW_TRACKING_SERVER_CERT_PATH and MLFLOW_TRACKING_INSECURE_TLS=true contradict each other: set one"
            )
        return settings

    def _refuse_credentials_beside_iam(self) -> None:
        if self.sagemaker is not None and self.has_credentials:
            raise ConfigurationError(
                "MLFLOW_TRACKING_URI names a SageMaker tracking server, which authenticates with the function's "
                "IAM role: unset MLFLOW_CREDENTIALS_SECRET_ARN, MLFLOW_TRACKING_TOKEN and MLFLOW_TRACKING_USERNAME"
            )

    def _refuse_plain_http_credentials(self) -> None:
        parts = urlsplit(self.tracking_uri)
        if (
            parts.scheme == "http"
            and self.has_credentials
            and not self.allow_insecure_http
            and not is_loopback_host(parts.hostname or "")
        ):
            raise ConfigurationError(
                "MLFLOW_TRACKING_URI uses plain http to a host other than loopback, which would "
                "send the MLflow credentials unencrypted: use https, or set "
                "MLFLOW_ALLOW_INSECURE_HTTP=true to accept that"
            )


def _sagemaker(value: str | None, custom_endpoint: str | None) -> SageMakerTrackingServer | None:
    if value is None or not value.startswith("arn:"):
        return None
    match = _SAGEMAKER_ARN.fullmatch(value)
    if match is None:
        raise ConfigurationError(
            "MLFLOW_TRACKING_URI looks like an ARN but not a SageMaker tracking server's: expected "
            "arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>"
        )
    region = match["region"]
    endpoint = _tracking_uri(custom_endpoint, "SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT") if custom_endpoint else None
    return SageMakerTrackingServer(value, region, endpoint or f"https://{region}.experiments.sagemaker.aws")


def _ca_bundle(path: str | None) -> str | None:
    if path is not None and not os.path.isfile(path):
        raise ConfigurationError(f"MLFLOW_TRACKING_SERVER_CERT_PATH names no readable file: {path[:200]}")
    return path


def _tracking_uri(value: str | None, variable: str = "MLFLOW_TRACKING_URI") -> str:
    if value is None:
        raise ConfigurationError(f"{variable} is not set: it must name the MLflow server")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{variable} must be an http(s) URL of the MLflow server or a SageMaker tracking-server ARN, "
            f"got a value with scheme {parts.scheme or 'none'!r}"
        )
    if parts.username or parts.password:
        raise ConfigurationError(
            f"{variable} must not embed credentials: use MLFLOW_CREDENTIALS_SECRET_ARN "
            "or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
        )
    return value.rstrip("/")


def _promotion_mode(raw: str | None) -> str:
    value = (raw or "").strip().lower() or "stage"
    if value not in ("stage", "alias", "copy"):
        raise ConfigurationError(f"PROMOTION_MODE must be 'stage', 'alias' or 'copy', got {value[:20]!r}")
    return value


def _target_model_name(value: str | None) -> str | None:
    """A registered model's name, or a template whose only placeholder is ``{model_name}``."""
    if value is None:
        return None
    fixed = value.replace(MODEL_NAME_PLACEHOLDER, "")
    if "{" in fixed or "}" in fixed:
        raise ConfigurationError(
            f"TARGET_MODEL_NAME may hold no placeholder but {MODEL_NAME_PLACEHOLDER}, got {value[:60]!r}"
        )
    if value == MODEL_NAME_PLACEHOLDER:
        raise ConfigurationError("TARGET_MODEL_NAME must name another model than the source, e.g. prod-{model_name}")
    refused = sorted({c for c in fixed if c in MLFLOW_REFUSED_NAME_CHARACTERS})
    if refused or not fixed.isprintable() or value != value.strip() or len(fixed) > MAX_MODEL_NAME_LENGTH:
        raise ConfigurationError(
            f"TARGET_MODEL_NAME must be a model name of at most {MAX_MODEL_NAME_LENGTH} printable characters "
            f"without '/' or ':', got {value[:60]!r}"
        )
    return value


def _event_bus(raw: str | None) -> str | None:
    """Unset gives the account's ``default`` bus; empty turns events off; else a bus name or ARN."""
    if raw is None:
        return DEFAULT_EVENT_BUS
    value = raw.strip()
    if value and not _EVENT_BUS.fullmatch(value):
        raise ConfigurationError(f"EVENT_BUS_NAME must be an EventBridge bus name or ARN, got {value[:60]!r}")
    return value or None


def _subject_prefix(raw: str | None) -> str:
    """Unset gives the specification's ``[TradAI]``; empty gives none. Printable ASCII, as SNS requires."""
    if raw is None:
        return DEFAULT_SUBJECT_PREFIX
    value = raw.strip()
    if len(value) > MAX_SUBJECT_PREFIX_LENGTH or not all(" " <= c <= "~" for c in value):
        raise ConfigurationError(
            f"NOTIFICATION_SUBJECT_PREFIX must be at most {MAX_SUBJECT_PREFIX_LENGTH} printable ASCII characters"
        )
    return value


def _alias(environ: Mapping[str, str], name: str, *, default: str | None) -> str | None:
    """An alias setting: unset gives the default, empty disables it."""
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip()
    if not value:
        return None
    if not _ALIAS.fullmatch(value) or _RESERVED_ALIAS.fullmatch(value):
        raise ConfigurationError(
            f"{name} must be an MLflow alias (letters, digits, '_' or '-', not 'latest' or 'v<number>'), "
            f"got {value[:40]!r}"
        )
    return value


def _flag(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw[:20]!r}")
