"""The error contract between the function and the state machine: every error name the stack's
Retry and Catch lists carry is an error class the function raises, and every such class is handled
by name (a rename on either side would otherwise silently turn a retry into a failure)."""

from __future__ import annotations

import inspect

from promote_model import errors
from tests.infra.test_workflow import _fragment_states

AWS_ERROR_PREFIXES = ("States.", "Lambda.")


def _function_error_classes() -> dict[str, type]:
    return {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.PromotionError) and cls is not errors.PromotionError
    }


def _names_in(rules: list[dict]) -> set[str]:
    return {name for rule in rules for name in rule["ErrorEquals"] if not name.startswith(AWS_ERROR_PREFIXES)}


def _function_tasks(synthesized) -> list[dict]:
    """Every state that invokes the function (PromoteModel, and PreviewPromotion where approval is on)."""
    return [
        state
        for state in _fragment_states(synthesized).values()
        if state["Type"] == "Task" and "Retry" in state and _names_in(state["Retry"])
    ]


def test_every_error_the_state_machine_names_is_a_class_the_function_raises(synthesized):
    for task in _function_tasks(synthesized):
        named = _names_in(task["Retry"]) | _names_in(task["Catch"])

        assert named <= set(_function_error_classes())


def test_every_error_class_is_retried_or_caught_by_name_as_classified(synthesized):
    tasks = _function_tasks(synthesized)

    assert tasks
    for task in tasks:
        retried, caught = _names_in(task["Retry"]), _names_in(task["Catch"])

        assert retried == {cls.__name__ for cls in errors.RETRYABLE_ERRORS}
        assert caught == {cls.__name__ for cls in errors.TERMINAL_ERRORS}
        assert set(_function_error_classes()) == retried | caught


def test_the_approval_states_error_is_what_the_reject_command_sends(synthesized):
    from promote_model.approval import REJECTED_ERROR

    request = _fragment_states(synthesized).get("RequestApproval")

    if request is not None:
        assert [REJECTED_ERROR] in [c["ErrorEquals"] for c in request["Catch"]]


def test_every_error_class_lives_in_the_errors_module():
    import promote_model

    for module_name in ("registry", "http_client", "credentials", "settings", "promotion", "handler"):
        module = __import__(f"promote_model.{module_name}", fromlist=["_"])
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, promote_model.errors.PromotionError):
                assert cls.__module__ == "promote_model.errors", f"{name} is defined in {cls.__module__}"


def test_transient_credential_failures_and_unfinished_promotions_are_retried(synthesized):
    """A throttled Secrets Manager, or a promotion whose notification, event, alias or tags are not
    done yet, is retried: the retry reads the secret again, or completes what is missing."""
    for task in _function_tasks(synthesized):
        retried = _names_in(task["Retry"])

        assert {"CredentialsUnavailableError", "PromotionIncompleteError", "RegistryUnavailableError"} <= retried
