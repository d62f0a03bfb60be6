"""Concurrent promotions of one model, from separate processes released together, converge on
exactly one champion, and each invocation's result tells the truth about what it did."""

from __future__ import annotations

from tests.reliability.race_worker import race
from tests.support import full_state, register_model, stages

TRIALS = 20
ALIAS_TRIALS = 10
CONTENDERS = 4


def test_concurrent_promotions_leave_exactly_one_champion(mlflow_url, mlflow_client, moto, record_fault):
    # champion v1 and four challengers, each promoted by its own process at the same moment
    races = race(
        {"MLFLOW_TRACKING_URI": mlflow_url, "ALERTS_ENABLED": "false"},
        lambda: register_model(mlflow_client, ["Production"] + ["Staging"] * CONTENDERS),
        trials=TRIALS,
        contenders=CONTENDERS,
    )
    outcomes = [(r.name, r.answers, stages(mlflow_client, r.name)) for r in races]
    slowest = max(r.seconds for r in races)
    trails = {r.name: full_state(mlflow_client, r.name) for r in races}

    superseded = 0
    for name, answers, final in outcomes:
        champions = [v for v, stage in final.items() if stage == "Production"]
        assert len(champions) == 1, f"{name}: {final}"
        [champion] = champions
        assert all("error" not in answer for answer in answers.values()), answers
        # the champion's own invocation says it promoted it
        assert answers[champion]["promoted"] is True
        # the audit trail: the champion names a champion it replaced (v1 or a contender briefly in
        # Production before it), and every contender archived while settling says by whom and when
        tags = {version: state[2] for version, state in trails[name].items()}
        assert tags[champion]["previous_version"] != "none", (name, tags)
        assert answers[champion]["archived_version"] is not None, answers
        for version in answers:
            # a contender archived while settling (never announced: no promoted_at) says by whom
            settled_away = final[version] == "Archived" and "promoted_at" not in tags[version]
            if settled_away and not {"archived_at", "superseded_by"} <= set(tags[version]):
                raise AssertionError(f"{name}: archived contender v{version} has no audit trail: {tags[version]}")
        for version, answer in answers.items():
            if answer["promoted"] is False:
                superseded += 1
                assert answer["reason_code"] == "SUPERSEDED"
                assert version != champion
                assert f"version {champion}" in answer["reason"] or final[version] == "Archived"
    record_fault(
        f"{CONTENDERS} concurrent promotions of one model, separate processes ({TRIALS} trials)",
        f"exactly one champion in {TRIALS}/{TRIALS} trials; {superseded} invocations answered `SUPERSEDED`",
        "one version in Production",
        slowest,
    )


def test_concurrent_first_holders_of_the_alias_converge_without_a_failed_invocation(
    mlflow_url, mlflow_client, moto, record_fault
):
    """Alias mode, and nobody holds the champion alias yet: MLflow answers the losers' concurrent first
    alias (and first tag key) writes 400, a unique-key violation; each is settled, never an error."""
    races = race(
        {"MLFLOW_TRACKING_URI": mlflow_url, "ALERTS_ENABLED": "false", "PROMOTION_MODE": "alias"},
        lambda: register_model(mlflow_client, ["None"] * (CONTENDERS + 1)),
        trials=ALIAS_TRIALS,
        contenders=CONTENDERS,
    )
    outcomes = [
        (r.name, r.answers, mlflow_client.get_model_version_by_alias(r.name, "champion").version) for r in races
    ]

    for name, answers, holder in outcomes:
        assert all("error" not in answer for answer in answers.values()), (name, answers)
        assert answers[holder]["promoted"] is True, (name, answers)
        for version, answer in answers.items():
            if answer["promoted"] is False:
                assert (answer["reason_code"], version != holder) == ("SUPERSEDED", True)
    record_fault(
        f"{CONTENDERS} concurrent first holders of the champion alias, alias mode ({ALIAS_TRIALS} trials)",
        f"one holder in {ALIAS_TRIALS}/{ALIAS_TRIALS} trials, no failed invocation",
        "the alias on one version",
        max(r.seconds for r in races),
    )
