"""The "Cold start per runtime" table of `make bench` (devtools/bench/runtimes.py): every runtime
has a row, one without an interpreter says it is absent instead of failing the run, and each
present runtime is compared with python3.11's cold p50 of the same run. The answers below have the
shape the bench's worker reports (devtools/bench/worker.py, ``cold`` mode); the measurement itself
is exercised by `make bench` (`--quick` for a short check)."""

from __future__ import annotations

from typing import Any

from devtools.bench.runtimes import HEADERS, RUNTIMES, RuntimeColdStarts, runtime_rows


def _answers(*totals: float) -> list[dict[str, Any]]:
    # 28,000 kB of peak RSS is 28.67 MB (MB of 10**6 bytes)
    return [{"total_ms": t, "import_ms": t / 2, "peak_rss_kb": 28_000} for t in totals]


def test_every_runtime_has_a_row_an_absent_one_says_so_and_each_is_compared_with_python311() -> None:
    samples = [
        RuntimeColdStarts("python3.11", "3.11.7", _answers(100, 110, 120)),
        RuntimeColdStarts("python3.12", None, []),
        RuntimeColdStarts("python3.13", "3.13.0", _answers(150, 165, 180)),
    ]

    rows = runtime_rows(samples)

    assert [row[0] for row in rows] == list(RUNTIMES)
    assert all(len(row) == len(HEADERS) for row in rows)
    # p95 interpolates between the samples (statistics.quantiles, inclusive): 119 of 100, 110, 120
    assert rows[0][1:] == ["3.11.7", "55 ms", "110 ms", "119 ms", "28.67 MB", "baseline"]
    assert rows[1][1] == "absent (no interpreter on this machine)"
    assert set(rows[1][2:]) == {"—"}
    assert rows[2][3] == "165 ms"
    assert rows[2][-1] == "1.50x"


def test_without_python311_the_others_still_report_but_compare_with_nothing() -> None:
    rows = runtime_rows(
        [RuntimeColdStarts("python3.11", None, []), RuntimeColdStarts("python3.12", "3.12.1", _answers(90))]
    )

    assert rows[0][1].startswith("absent")
    assert rows[1][3] == "90 ms"
    assert rows[1][4] == "—"  # one sample has no p95
    assert rows[1][-1] == "—"
