"""The promotion rules' decision paths, against an in-memory registry (fast; no server)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from promote_model.promotion import PromotionPolicy, promote
from promote_model.request import PromotionRequest
from promote_model.results import NotPromoted, Promoted
from tests.unit.memory_registry import MemoryPublisher, MemoryRegistry

NAME = "PascalStrategy"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:retraining:run-1"
POLICY = PromotionPolicy(environment="prod", registry_name="tradai-models", actor="tester")


def _promote(registry, publisher, **fields):
    request = PromotionRequest(model_name=NAME, new_version=fields.pop("new_version", None), **fields)
    return promote(
        request, registry=registry, publisher=publisher, policy=POLICY, now=lambda: datetime(2026, 11, 26, tzinfo=UTC)
    )


def _lost_answer(registry: MemoryRegistry, version: str, execution_id: str, previous: str) -> None:
    """What an attempt leaves when the transition applied and its answer never came back."""
    registry.tag(version, execution_id=execution_id, previous_version=previous)
    registry.transition_to_production(NAME, version)
    registry.calls.clear()


def test_the_execution_is_recorded_with_the_transition_and_promoted_at_with_the_audit_tags():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging"), MemoryPublisher()

    result = _promote(registry, publisher, new_version="2", execution_id=EXECUTION)

    assert isinstance(result, Promoted)
    assert registry.calls[:2] == [("transition", "2"), ("tag", "2", "execution_id")]
    assert ("tag", "2", "promoted_at") in registry.calls[2:]
    assert ("alias", "champion", "2") in registry.calls[2:]
    assert registry.tags_of("1")["superseded_by"] == "2"
    assert len(publisher.notices) == 1


@pytest.mark.parametrize("new_version", ["2", None], ids=["explicit", "latest-staging"])
def test_a_retry_finishes_its_own_lost_promotion_once(new_version):
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging", "Staging"), MemoryPublisher()
    _lost_answer(registry, "3" if new_version is None else "2", EXECUTION, previous="1")
    promoted = "3" if new_version is None else "2"

    retry = _promote(registry, publisher, new_version=new_version, execution_id=EXECUTION)
    again = _promote(registry, publisher, new_version=new_version, execution_id=EXECUTION)

    assert isinstance(retry, Promoted)
    assert (retry.new_version, retry.already_promoted, retry.archived_version) == (promoted, False, "1")
    assert (retry.alias, retry.audit_tags_written, retry.notification_sent) == ("champion", True, True)
    assert isinstance(again, Promoted)
    assert (again.new_version, again.already_promoted, again.notification_sent) == (promoted, True, False)
    assert len(publisher.notices) == 1
    assert not any(call[0] == "transition" for call in registry.calls)
    assert registry.stage_of("2" if new_version is None else "3") == "Staging"  # never the next one


def test_a_retry_without_the_execution_id_does_not_finish_anothers_promotion():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging"), MemoryPublisher()
    _lost_answer(registry, "2", EXECUTION, previous="1")

    result = _promote(registry, publisher, new_version="2", execution_id="another-execution")

    assert isinstance(result, Promoted)
    assert result.already_promoted is True
    assert publisher.notices == []
    assert "promoted_at" not in registry.tags_of("2")


def test_without_audit_tags_nothing_is_written_before_the_transition():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging"), MemoryPublisher()
    policy = PromotionPolicy(environment="prod", registry_name="r", actor="t", audit_tags=False)

    result = promote(
        PromotionRequest(NAME, "2", execution_id=EXECUTION), registry=registry, publisher=publisher, policy=policy
    )

    assert isinstance(result, Promoted)
    assert registry.calls[0] == ("transition", "2")
    assert not any(call[0] == "tag" for call in registry.calls)


def test_a_concurrent_winner_makes_this_promotion_superseded():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging", "Staging"), MemoryPublisher()
    original = registry.transition_to_production

    def racing_transition(name, version):
        answer = original(name, version)
        registry.set_stage("3", "Production")  # another invocation's transition, a moment later
        return answer

    registry.transition_to_production = racing_transition  # type: ignore[method-assign]

    result = _promote(registry, publisher, new_version="2")

    assert isinstance(result, NotPromoted)
    assert result.reason_code == "SUPERSEDED"
    assert (registry.stage_of("2"), registry.stage_of("3")) == ("Archived", "Production")
    assert publisher.notices == []


def test_a_dry_run_of_an_unfinished_promotion_writes_nothing():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging"), MemoryPublisher()
    _lost_answer(registry, "2", EXECUTION, previous="1")

    result = _promote(registry, publisher, new_version="2", execution_id=EXECUTION, dry_run=True)

    assert result.to_dict()["dry_run"] is True
    assert registry.calls == []
    assert publisher.notices == []


def test_when_concurrent_transitions_archived_each_other_one_champion_is_restored():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging", "Staging"), MemoryPublisher()
    original = registry.transition_to_production
    raced = []

    def transition_archived_by_a_concurrent_one(name, version):
        answer = original(name, version)
        if not raced:  # the concurrent transition of v3 archived ours, and ours archived it
            raced.append(version)
            registry.set_stage("3", "Archived")
            registry.set_stage(version, "Archived")
        return answer

    registry.transition_to_production = transition_archived_by_a_concurrent_one  # type: ignore[method-assign]
    pauses: list[float] = []

    result = promote(
        PromotionRequest(NAME, "2"), registry=registry, publisher=publisher, policy=POLICY, pause=pauses.append
    )

    assert isinstance(result, Promoted)
    assert registry.stage_of("2") == "Production"
    assert [call for call in registry.calls if call[0] == "transition"] == [("transition", "2"), ("transition", "2")]
    assert len(pauses) == 1


def test_a_retry_of_an_explicit_promotion_learns_the_archived_champion_from_the_transition_timestamp():
    registry, publisher = MemoryRegistry.with_stages(NAME, "Production", "Staging"), MemoryPublisher()
    registry.tag("2", execution_id=EXECUTION)  # an explicit promotion records only its execution
    registry.transition_to_production(NAME, "2")
    registry.calls.clear()

    retry = _promote(registry, publisher, new_version="2", execution_id=EXECUTION)

    assert isinstance(retry, Promoted)
    assert (retry.already_promoted, retry.archived_version) == (False, "1")
    assert publisher.notices[0].previous_version == "1"
