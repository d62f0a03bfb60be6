"""The promotion request: the event's fields, validated by the rules of docs/design.md §2.

Parsing never raises: a bad event becomes an ``InvalidRequest`` carrying a reason that names the
field, so the caller can answer ``INVALID_REQUEST`` without touching the registry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_MODEL_NAME_LENGTH = 256
# MLflow 3 refuses these in a model name (MLflow 2 answers "not found"): one rule for both.
MLFLOW_REFUSED_NAME_CHARACTERS = "/:"
# MLflow stores versions as 64-bit integers; 18 digits always fit.
MAX_VERSION_DIGITS = 18
MAX_APPROVER_LENGTH = 256
MAX_EXECUTION_ID_LENGTH = 2048  # a Step Functions execution ARN is far shorter
# A reason quotes at most this much of a rejected value, so a huge field cannot flood a log line.
_QUOTE_LIMIT = 40


@dataclass(frozen=True)
class PromotionRequest:
    model_name: str
    new_version: str | None  # None: promote the challenger alias's or the latest Staging version
    confidence: float = 0.0
    dry_run: bool = False
    execution_id: str | None = None  # the Step Functions execution, recorded in the audit tags
    rollback: bool = False  # promote the version the current champion replaced
    approved_by: str | None = None  # who approved a held promotion (the approval gate), an audit tag


@dataclass(frozen=True)
class InvalidRequest:
    reason: str


def parse_request(event: Any) -> PromotionRequest | InvalidRequest:
    if not isinstance(event, dict):
        return InvalidRequest(f"the event must be a JSON object, got {_json_type(event)}")
    try:
        request = PromotionRequest(
            model_name=_model_name(event.get("model_name")),
            new_version=_new_version(event.get("new_version")),
            confidence=_confidence(event.get("confidence")),
            dry_run=_flag(event.get("dry_run"), "dry_run"),
            execution_id=_execution_id(event.get("execution_id")),
            rollback=_flag(event.get("rollback"), "rollback"),
            approved_by=_approved_by(event.get("approved_by")),
        )
    except _FieldError as problem:
        return InvalidRequest(str(problem))
    if request.rollback and request.new_version is not None:
        return InvalidRequest("rollback and new_version exclude each other: a rollback chooses the version itself")
    return request


class _FieldError(ValueError):
    pass


def _model_name(value: Any) -> str:
    """The name exactly as given: never stripped or normalised, so it can only select that model."""
    if value is None:
        raise _FieldError("model_name is required")
    if not isinstance(value, str):
        raise _FieldError(f"model_name must be a string, got {_json_type(value)}")
    if not value.strip():
        raise _FieldError("model_name must not be blank")
    if len(value) > MAX_MODEL_NAME_LENGTH:
        raise _FieldError(f"model_name must be at most {MAX_MODEL_NAME_LENGTH} characters, got {len(value)}")
    if value != value.strip():
        raise _FieldError("model_name must not begin or end with whitespace (it is used exactly as given)")
    if not value.isprintable():
        raise _FieldError("model_name must not contain control characters")
    refused = sorted({c for c in value if c in MLFLOW_REFUSED_NAME_CHARACTERS})
    if refused:
        raise _FieldError(f"model_name must not contain {' or '.join(repr(c) for c in refused)} (MLflow refuses them)")
    if value == "." or value.startswith(".."):
        raise _FieldError("model_name must not be '.' or begin with '..' (MLflow refuses such names)")
    return value


def _new_version(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _FieldError(f"new_version must be a positive whole number (string or integer), got {_json_type(value)}")
    text = str(value).strip() if isinstance(value, str) else str(value)
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > MAX_VERSION_DIGITS:
        raise _FieldError(f"new_version must be a positive whole number, got {_quote(value)}")
    number = int(text)
    if number < 1:
        raise _FieldError(f"new_version must be a positive whole number, got {_quote(value)}")
    return str(number)


def _confidence(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _FieldError(f"confidence must be a number in [0, 1], got {_json_type(value)}")
    # Compare before converting: float() of a huge JSON integer overflows.
    in_range = 0 <= value <= 1 if isinstance(value, int) else math.isfinite(value) and 0 <= value <= 1
    if not in_range:
        raise _FieldError(f"confidence must be a finite number in [0, 1], got {_quote(value)}")
    return float(value)


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _FieldError(f"{field} must be true or false, got {_json_type(value)}")
    return value


def _execution_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _FieldError(f"execution_id must be a non-empty string, got {_json_type(value)}")
    if len(value) > MAX_EXECUTION_ID_LENGTH or not value.isprintable():
        raise _FieldError(f"execution_id must be at most {MAX_EXECUTION_ID_LENGTH} printable characters")
    return value.strip()


def _approved_by(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_APPROVER_LENGTH or not value.isprintable():
        raise _FieldError(
            f"approved_by must be a non-empty string of at most {MAX_APPROVER_LENGTH} printable characters"
        )
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."
