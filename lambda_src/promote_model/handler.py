"""The Lambda entry point: parse the event, run the promotion once, answer with a plain dict.

Named errors (``RegistryUnavailableError``, ``RegistryAuthError``, ``ConfigurationError``) are
raised so Step Functions sees their class name as the error type (docs/design.md §2).
"""

from __future__ import annotations

from typing import Any

from promote_model.deadline import Deadline
from promote_model.errors import PromotionError
from promote_model.observability import (
    logger,
    metrics,
    record_error,
    record_notification_failure,
    record_outcome,
    traced,
)
from promote_model.request import InvalidRequest, parse_request
from promote_model.results import NotPromoted, Promoted, PromotionResult, ReasonCode
from promote_model.runtime import Runtime

_runtime: Runtime | None = None


def current_runtime() -> Runtime:
    """The execution environment's runtime, built once on the first invocation."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime.from_environ()
    return _runtime


def reset_runtime() -> None:
    """Forget the runtime, as a new execution environment would (for tests)."""
    global _runtime
    _runtime = None


@metrics.log_metrics
@traced
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    model_name = event.get("model_name") if isinstance(event, dict) else None
    model_name = model_name if isinstance(model_name, str) else None
    deadline = Deadline.for_invocation(context.get_remaining_time_in_millis())
    try:
        result = handle(event, actor=getattr(context, "invoked_function_arn", "lambda"), deadline=deadline)
    except PromotionError as error:
        record_error(error, model_name)
        if _runtime is not None:  # settings were read: the event can say what failed
            _runtime.publish_outcome(_error_detail(error, model_name, _execution_id(event)), deadline)
        raise
    return result.to_dict()


def handle(event: Any, *, actor: str, deadline: Deadline) -> PromotionResult:
    runtime = current_runtime()
    request = parse_request(event)
    if isinstance(request, InvalidRequest):
        result: PromotionResult = NotPromoted(ReasonCode.INVALID_REQUEST, request.reason)
    else:
        result = runtime.promote(request, actor=actor, deadline=deadline, execution_id=_execution_id(event))
        if runtime.settings.alerts_active and isinstance(result, Promoted) and not _announced(result):
            record_notification_failure(result.model_name, result.new_version)
    result = runtime.announce(result, _execution_id(event), deadline)
    record_outcome(result)
    return result


def _error_detail(error: PromotionError, model_name: str | None, execution_id: str | None) -> dict[str, Any]:
    return {
        "promoted": False,
        "outcome": "error",
        "error_type": type(error).__name__,
        "error": str(error),
        "model_name": model_name,
        "execution_id": execution_id,
    }


def _execution_id(event: Any) -> str | None:
    value = event.get("execution_id") if isinstance(event, dict) else None
    return value if isinstance(value, str) else None


def _announced(result: Promoted) -> bool:
    return result.already_promoted or result.notification_sent
