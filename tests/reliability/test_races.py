"""Concurrent promotions of one model, from separate processes released together, converge on
exactly one champion, and each invocation's result tells the truth about what it did."""

from __future__ import annotations

from tests.reliability.race_worker import race
from tests.support import register_model, stages

TRIALS = 20
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

    superseded = 0
    for name, answers, final in outcomes:
        champions = [v for v, stage in final.items() if stage == "Production"]
        assert len(champions) == 1, f"{name}: {final}"
        [champion] = champions
        assert all("error" not in answer for answer in answers.values()), answers
        # the champion's own invocation says it promoted it
        assert answers[champion]["promoted"] is True
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
