"""``PromoteModelFragment``: the ``PromoteModel`` task with its retries, catches and a Choice on the
result, to compose into a retraining workflow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from promote_model_cdk.constants import LAMBDA_SERVICE_ERRORS, RETRYABLE_ERRORS, TERMINAL_ERRORS
from promote_model_cdk.validation import check_event_literals, is_token

DEFAULT_MODEL_NAME_PATH = "$.model_name"
DEFAULT_NEW_VERSION_PATH = "$.challenger_version"
DEFAULT_CONFIDENCE_PATH = "$.comparison.confidence"
DEFAULT_RESULT_PATH = "$.promotion"
ERROR_RESULT_PATH = "$.error"
APPROVAL_REJECTED_ERROR = "ApprovalRejected"  # what `promote-model reject` sends (SendTaskFailure)
TIMEOUT_ERROR = "States.Timeout"
# An intrinsic whose value is JSON null: what an absent new_version path stands for.
_NULL = "States.StringToJson('null')"


@dataclass(frozen=True)
class ApprovalGate:
    """Hold every promotion for a person: a dry run answers what would happen, then the request is
    published on ``topic`` with a task token and the workflow waits up to ``timeout`` for
    ``promote-model approve TOKEN`` or ``promote-model reject TOKEN --reason ...``. Reject or
    timeout go to ``on_not_promoted`` with the reason codes ``APPROVAL_REJECTED`` and
    ``APPROVAL_TIMED_OUT``; the approver is recorded in the ``approved_by`` audit tag. The state
    machine's role needs publish on the topic (``topic.grant_publish(state_machine)``: its KMS key too).
    """

    topic: sns.ITopic
    """Where the approval request is published (the alert topic, usually)."""
    timeout: Duration = field(default_factory=lambda: Duration.hours(24))
    """How long the workflow waits for a decision before the promotion is not promoted (24 hours)."""


_T = TypeVar("_T")


class PromoteModelFragment(sfn.StateMachineFragment):
    """``<prefix>PromoteModel`` → ``<prefix>WasModelPromoted`` → ``<prefix>ModelPromoted``.

    Inputs are JsonPath values as CDK's own tasks take them, or literals:
    ``model_name`` (default ``sfn.JsonPath.string_at("$.model_name")``), ``new_version``
    (default ``sfn.JsonPath.string_at("$.challenger_version")``; a version, or null for the latest
    Staging one), ``confidence`` (default ``sfn.JsonPath.number_at("$.comparison.confidence")``) and
    ``execution_id`` (default ``sfn.JsonPath.execution_id``, for the audit trail). A literal is
    checked at synth by the function's own rules (a ``ValueError`` naming the parameter).

    A ``new_version`` path absent from the state means "no version given" (the challenger alias's or
    the latest Staging version), as null does, instead of failing the execution with
    ``States.Runtime``: ``<prefix>IsNewVersionGiven`` (a Choice on ``IsPresent``) goes straight on
    when the field is there, else ``<prefix>NoNewVersionGiven`` and ``<prefix>NewVersionIsNull``
    write null at that path first (the task's mapping stays the path itself).

    Inside a ``sfn.Map`` (one promotion per item), ``on_not_promoted`` and ``on_failure`` must be
    states of the Map's iteration too (e.g. a ``sfn.Pass`` recording the error, then the iteration
    ends): a state outside it cannot be the target of a state inside. Keep the Map's
    ``max_concurrency`` at most the function's ``reserved_concurrency`` (docs/cdk-conventions.md).

    The workflow's state is kept and the function's result lands under ``result_path`` (default
    ``$.promotion``). A promotion continues with ``.next(...)``; a ``promoted: false`` result goes to
    ``on_not_promoted``; an error (under ``$.error``) to ``on_failure``. ``RegistryUnavailableError``,
    ``CredentialsUnavailableError`` and ``PromotionIncompleteError`` are retried (5 s, x2, 3
    attempts), Lambda service errors too (2 s, x2, 6 attempts).
    ``state_prefix`` (default none) is put before every state name, so that several fragments fit in
    one state machine.
    """

    task: tasks.LambdaInvoke
    """The ``<prefix>PromoteModel`` task: the function's invocation, with its retries and catches."""
    first: sfn.State
    """Where the fragment starts: ``task``, or the approval gate's dry run when there is a gate."""
    promoted: sfn.Pass
    """``<prefix>ModelPromoted``, the fragment's end: what ``.next(...)`` continues from."""
    check: sfn.Choice
    """``<prefix>WasModelPromoted``: on to ``promoted``, or to ``on_not_promoted``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        function: lambda_.IFunction,
        on_not_promoted: sfn.IChainable,
        on_failure: sfn.IChainable,
        model_name: str | None = None,
        new_version: str | None = None,
        confidence: float | None = None,
        execution_id: str | None = None,
        result_path: str = DEFAULT_RESULT_PATH,
        state_prefix: str = "",
        approval: ApprovalGate | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not result_path.startswith("$"):
            raise ValueError(f"result_path must be a JsonPath such as '$.promotion', got {result_path!r}")
        check_event_literals(
            model_name=model_name, new_version=new_version, confidence=confidence, execution_id=execution_id
        )
        self._prefix = state_prefix
        self._function = function
        self._on_failure = on_failure
        base = result_path if result_path != "$" else DEFAULT_RESULT_PATH
        self._approval_path = f"{base}_approval"
        new_version = _or(new_version, sfn.JsonPath.string_at(DEFAULT_NEW_VERSION_PATH))
        event: dict[str, Any] = {
            "model_name": _or(model_name, sfn.JsonPath.string_at(DEFAULT_MODEL_NAME_PATH)),
            "new_version": new_version,
            "confidence": _or(confidence, sfn.JsonPath.number_at(DEFAULT_CONFIDENCE_PATH)),
            "execution_id": _or(execution_id, sfn.JsonPath.execution_id),
        }
        if approval is not None:
            event["approved_by"] = sfn.JsonPath.string_at(f"{self._approval_path}.approved_by")
        self.task = self._invoke("PromoteModel", event, result_path)
        self.first = self.task

        self.promoted = sfn.Pass(self, "ModelPromoted", state_name=f"{state_prefix}ModelPromoted")
        promoted_flag = "$.promoted" if result_path == "$" else f"{result_path}.promoted"
        self.check = (
            sfn.Choice(self, "WasModelPromoted", state_name=f"{state_prefix}WasModelPromoted")
            .when(sfn.Condition.boolean_equals(promoted_flag, True), self.promoted)
            .otherwise(on_not_promoted)
        )
        self.task.next(self.check)
        if approval is not None:
            self.first = self._approval_gate(approval, event, base, result_path, on_not_promoted)
        new_version_path = self._path_of(new_version)
        if new_version_path:
            self.first = self._new_version_or_null(new_version_path, then=self.first)

    def _path_of(self, value: Any) -> str | None:
        """The JsonPath a value given as ``sfn.JsonPath.string_at(...)`` reads, else ``None``."""
        if not is_token(value):
            return None
        path = Stack.of(self).resolve(value)
        return path if isinstance(path, str) and path.startswith(("$.", "$$.")) else None

    def _new_version_or_null(self, path: str, *, then: sfn.State) -> sfn.State:
        """``IsNewVersionGiven`` → on, or ``NoNewVersionGiven`` → ``NewVersionIsNull`` → on: an absent
        field becomes null ("no version given"). A Pass cannot write null itself: the first writes
        ``{"value": null}`` (an intrinsic), the second takes that value as its input and writes it."""
        not_given = sfn.Pass(
            self,
            "NoNewVersionGiven",
            state_name=f"{self._prefix}NoNewVersionGiven",
            parameters={"value.$": _NULL},
            result_path=path,
        )
        is_null = sfn.Pass(
            self,
            "NewVersionIsNull",
            state_name=f"{self._prefix}NewVersionIsNull",
            input_path=f"{path}.value",
            result_path=path,
        )
        not_given.next(is_null).next(then)
        return (
            sfn.Choice(self, "IsNewVersionGiven", state_name=f"{self._prefix}IsNewVersionGiven")
            .when(sfn.Condition.is_present(path), then)
            .otherwise(not_given)
        )

    def _invoke(self, name: str, event: dict[str, Any], result_path: str) -> tasks.LambdaInvoke:
        """The function, with the retries and catches every invocation of it gets."""
        task = tasks.LambdaInvoke(
            self,
            name,
            state_name=f"{self._prefix}{name}",
            lambda_function=self._function,
            payload_response_only=True,
            retry_on_service_exceptions=False,  # the retries below say exactly which, and how
            payload=sfn.TaskInput.from_object(event),
            result_path=result_path,
        )
        task.add_retry(
            errors=RETRYABLE_ERRORS,
            interval=Duration.seconds(5),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        task.add_retry(
            errors=LAMBDA_SERVICE_ERRORS,
            interval=Duration.seconds(2),
            max_attempts=6,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        task.add_catch(self._on_failure, errors=TERMINAL_ERRORS, result_path=ERROR_RESULT_PATH)
        task.add_catch(self._on_failure, errors=[sfn.Errors.ALL], result_path=ERROR_RESULT_PATH)
        return task

    def _approval_gate(
        self,
        approval: ApprovalGate,
        event: dict[str, Any],
        base: str,
        result_path: str,
        on_not_promoted: sfn.IChainable,
    ) -> sfn.State:
        """``PreviewPromotion`` (a dry run) → ``WouldPromote`` → ``RequestApproval`` (waits for the
        token) → ``PromoteModel``; nothing to promote skips the wait; reject or timeout answer
        ``promoted: false`` under ``result_path``."""
        preview_path = f"{base}_preview"
        preview_event = {key: value for key, value in event.items() if key != "approved_by"}
        preview = self._invoke("PreviewPromotion", {**preview_event, "dry_run": True}, preview_path)
        request = tasks.SnsPublish(
            self,
            "RequestApproval",
            state_name=f"{self._prefix}RequestApproval",
            topic=approval.topic,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            subject="Model promotion waiting for approval",
            message=sfn.TaskInput.from_object(
                {
                    "kind": "approval_request",
                    "model_name": event["model_name"],
                    "confidence": event["confidence"],
                    "dry_run": sfn.JsonPath.object_at(preview_path),
                    "current_champion": sfn.JsonPath.string_at(f"{preview_path}.archived_version"),
                    "task_token": sfn.JsonPath.task_token,
                    "approve": sfn.JsonPath.format("promote-model approve {}", sfn.JsonPath.task_token),
                    "reject": sfn.JsonPath.format("promote-model reject {} --reason '...'", sfn.JsonPath.task_token),
                }
            ),
            message_attributes={"event": tasks.MessageAttribute(value="approval_requested")},
            task_timeout=sfn.Timeout.duration(approval.timeout),
            result_path=self._approval_path,
        )
        rejected = self._not_promoted(
            "ApprovalRejected", "APPROVAL_REJECTED", "A person rejected the promotion", result_path
        )
        timed_out = self._not_promoted(
            "ApprovalTimedOut", "APPROVAL_TIMED_OUT", "Nobody decided on the promotion in time", result_path
        )
        request.add_catch(
            rejected.next(on_not_promoted), errors=[APPROVAL_REJECTED_ERROR], result_path=f"{base}_rejection"
        )
        request.add_catch(timed_out.next(on_not_promoted), errors=[TIMEOUT_ERROR], result_path=f"{base}_rejection")
        request.add_catch(self._on_failure, errors=[sfn.Errors.ALL], result_path=ERROR_RESULT_PATH)
        # No approval without something to approve: the preview's answer becomes the result, so a
        # version staged meanwhile can never be promoted without a person's decision.
        already_champion = sfn.Pass(
            self,
            "AlreadyChampion",
            state_name=f"{self._prefix}AlreadyChampion",
            parameters={
                "promoted": True,
                "already_promoted": True,
                "new_version": sfn.JsonPath.string_at(f"{preview_path}.new_version"),
                "new_stage": sfn.JsonPath.string_at(f"{preview_path}.new_stage"),
                "archived_version": None,
                "model_name": sfn.JsonPath.string_at(f"{preview_path}.model_name"),
                "confidence": sfn.JsonPath.number_at(f"{preview_path}.confidence"),
            },
            result_path=result_path,
        )
        not_promotable = sfn.Pass(
            self,
            "NotPromotable",
            state_name=f"{self._prefix}NotPromotable",
            input_path=preview_path,
            result_path=result_path,
        )
        would_promote = (
            sfn.Choice(self, "WouldPromote", state_name=f"{self._prefix}WouldPromote")
            .when(_is_true(f"{preview_path}.would_promote"), request.next(self.task))
            .when(_is_true(f"{preview_path}.already_promoted"), already_champion.next(self.check))
            .otherwise(not_promotable.next(self.check))
        )
        preview.next(would_promote)
        return preview

    def _not_promoted(self, name: str, reason_code: str, reason: str, result_path: str) -> sfn.Pass:
        return sfn.Pass(
            self,
            name,
            state_name=f"{self._prefix}{name}",
            result=sfn.Result.from_object({"promoted": False, "reason_code": reason_code, "reason": reason}),
            result_path=result_path,
        )

    @property
    def start_state(self) -> sfn.State:
        return self.first

    @property
    def end_states(self) -> list[sfn.INextable]:
        return [self.promoted]


def _is_true(path: str) -> sfn.Condition:
    """``path`` holds ``true`` (absent counts as false, as in a not-promoted answer)."""
    return sfn.Condition.and_(sfn.Condition.is_present(path), sfn.Condition.boolean_equals(path, True))


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value
