"""docs/function.md's errors table is one table with one row per error the function raises (it was
once split by a paragraph, leaving an error's row outside it)."""

from __future__ import annotations

import inspect
from pathlib import Path

from promote_model import errors

FUNCTION_DOC = Path(__file__).resolve().parents[2] / "docs" / "function.md"


def errors_table_rows() -> list[str]:
    """The first column of the table that follows the Errors heading (the rows until the first line
    that is not a table row)."""
    section = FUNCTION_DOC.read_text().split("\n## Errors", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:  # after the header and its |---| line
        if not line.startswith("|"):
            break
        rows.append(line.split("|")[1].strip().strip("`"))
    return rows


def test_the_errors_table_has_a_row_per_error_the_function_raises() -> None:
    raised = sorted(
        name
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.PromotionError) and cls is not errors.PromotionError
    )
    assert sorted(errors_table_rows()) == raised
