"""Row numbers in the recorders' errors are Excel's, blank rows included."""

from __future__ import annotations

import pandas as pd
import pytest

from suiji.data.canonical import excel_rows
from suiji.data.errors import InputFileError
from suiji.data.results import record_results
from suiji.data.store import Store


def test_excel_rows_follow_the_importer_index() -> None:
    frame = pd.DataFrame({"a": ["x", "y"]}, index=pd.Index([2, 5], name="row"))
    assert excel_rows(frame) == [2, 5]
    assert excel_rows(pd.DataFrame({"a": ["x", "y", "z"]})) == [2, 3, 4]


def test_results_errors_name_the_excel_row(store: Store) -> None:
    frame = pd.DataFrame(
        {"uscc": ["91350100M000100Y43", "91110000802100433B"], "outcome": ["no_issue"] * 2,
         "date": ["2026-10-09"] * 2, "reason": ["", ""], "period": ["", ""]},
        index=pd.Index([2, 7], name="row"))  # rows 3-6 of the sheet were blank
    with pytest.raises(InputFileError) as err:
        record_results(store, frame, period="2026Q4", file_name="r.csv", file_sha256="")
    text = str(err.value)
    assert "row 2" in text and "row 7" in text and "row 3" not in text
    assert store.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0


def test_a_capped_problem_list_states_the_true_total() -> None:
    err = InputFileError("big.csv: 120,000 problems", [f"row {i}: bad" for i in range(2, 102)],
                         total=120_000)
    text = str(err)
    assert "row 51: bad" in text and "row 52: bad" not in text
    assert "119,950 more problems (120,000 in all)" in text
