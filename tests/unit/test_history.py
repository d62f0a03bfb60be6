"""The champion history's order and table: pure functions over the records the audit tags give."""

from __future__ import annotations

from promote_model.history import ChampionRecord, _newest_first, format_table

SECOND = "2026-12-02T02:00:00Z"


def _record(version: str, previous: str | None, *, at: str = SECOND, **fields) -> ChampionRecord:
    defaults = {
        "promoted_by": "tester",
        "execution_id": None,
        "approved_by": None,
        "rollback": False,
        "rolled_back_from": None,
        "rolled_back_to": None,
        "current": False,
    }
    return ChampionRecord(version=version, promoted_at=at, previous_version=previous, **(defaults | fields))


def test_later_seconds_come_first():
    old, new = _record("1", None, at="2026-12-01T00:00:00Z"), _record("2", "1")

    assert [r.version for r in _newest_first([old, new])] == ["2", "1"]


def test_within_one_second_a_promotion_comes_after_its_previous_champion():
    records = [_record("3", "2"), _record("1", None), _record("2", "1")]

    assert [r.version for r in _newest_first(records)] == ["3", "2", "1"]


def test_within_one_second_a_rollback_comes_after_the_champion_it_replaced():
    # 1 -> 2 -> 3, then a rollback restores 2: 2's tags now say previous_version 3, rolled back from 3.
    restored = _record("2", "3", rollback=True, rolled_back_from="3", current=True)
    abandoned = _record("3", "2", rolled_back_to="2")

    ordered = _newest_first([abandoned, _record("1", None), restored])

    assert [r.version for r in ordered] == ["2", "3", "1"]


def test_the_table_marks_the_current_champion_and_the_rollbacks():
    restored = _record("2", "3", rollback=True, rolled_back_from="3", current=True, execution_id="run-4")
    abandoned = _record("3", "2", rolled_back_to="2")

    table = format_table("M", [restored, abandoned]).splitlines()

    assert table[0] == "Champions of M, newest first:"
    assert table[2].split()[:5] == ["2", SECOND, "tester", "3", "run-4"]
    assert table[2].endswith("current champion; rollback from version 3")
    assert table[3].endswith("rolled back to version 2")


def test_an_empty_history_says_so():
    assert "no promotion recorded" in format_table("M", [])
