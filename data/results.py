"""Results of planned inspections: what was found, or why an inspection was not carried out.

:func:`record_results` records a canonical ``RECORD_KINDS["results"]`` frame
(parsed by :func:`suiji.data.importers.read_kind`) against the current
inspection plans, all rows or none. Every row must be an inspection of a
current plan; ``not_carried_out`` needs a reason. A result for an inspection
already recorded replaces it (both stay in the audit log).

Results feed the annual cap: an inspection recorded as not carried out does
not count as this year's routine inspection in later freezes
(:func:`suiji.data.snapshot.inspection_history`).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from suiji.data.canonical import canonical_csv, excel_rows
from suiji.data.errors import InputFileError, SuijiError
from suiji.data.period import Period
from suiji.data.schema import RECORD_KINDS
from suiji.data.store import LATEST_OUTPUT_SQL, Store, sha256_hex, utc_now

NOT_CARRIED_OUT = "not_carried_out"


def current_plans(store: Store) -> dict[str, dict[str, str]]:
    """period -> {uscc: planned date} of every current inspection plan (after substitutions)."""
    rows = store.conn.execute(
        f"SELECT d.period, {LATEST_OUTPUT_SQL} FROM draws d WHERE d.scope = 'inspections' "
        f"AND d.status = 'current' ORDER BY d.period").fetchall()
    return {p: {str(i["uscc"]): str(i.get("date", "")) for i in json.loads(out)["items"]}
            for p, out in rows}


def _period_text(value: str) -> str | None:
    try:
        return str(Period.parse(value))
    except SuijiError:
        return None


def record_results(store: Store, frame: pd.DataFrame, *, period: str | None,
                   file_name: str = "", file_sha256: str = "") -> dict[str, Any]:
    """Record inspection results; returns ``{"rows", "recorded", "period"}``.

    Each row's period is ``period`` (the --period option) if given, else the
    row's own period column, else the one current plan that contains its
    USCC. Rejected, with every bad row listed and nothing written: a row
    that is in no current plan, that matches several, whose period is not a
    quarter, or ``not_carried_out`` without a reason; rows of several periods
    in one file.
    """
    kind = RECORD_KINDS["results"]
    frame = frame.loc[:, list(kind.column_names)].fillna("").astype(str)
    label = file_name or "The results file"
    if frame.empty:
        raise InputFileError(f"{label} has no rows.", [])
    plans = current_plans(store)
    given = _period_text(period) if period else None
    if period and given is None:
        raise SuijiError(f"--period {period!r} is not a quarter. Write it like 2026Q4.")
    problems: list[str] = []
    resolved: list[tuple[str, str, str, str, str, str]] = []
    columns = [frame[c].tolist() for c in ("uscc", "outcome", "date", "reason", "period")]
    for n, uscc, outcome, day, reason, row_period in zip(excel_rows(frame), *columns,
                                                         strict=True):
        where = f"row {n}"
        row_period, reason = str(row_period).strip(), str(reason).strip()
        uscc, outcome, day = str(uscc), str(outcome), str(day)
        p: str | None
        if given:
            p = given
            if row_period and _period_text(row_period) != given:
                problems.append(f"{where}, column period: {row_period} differs from --period "
                                f"{given}")
                continue
        elif row_period:
            p = _period_text(row_period)
            if p is None:
                problems.append(f"{where}, column period: {row_period!r} is not a quarter "
                                f"like 2026Q4")
                continue
        else:
            holders = [q for q, items in plans.items() if uscc in items]
            if len(holders) > 1:
                problems.append(f"{where}: {uscc} is in the plans of {', '.join(holders)}; "
                                f"add a period column or pass --period")
                continue
            p = holders[0] if holders else None
        if p is None or uscc not in plans.get(p, {}):
            in_plan = f"the {p} plan" if p else "any current plan"
            problems.append(f"{where}: {uscc} is not in {in_plan}; check the USCC"
                            + ("" if p else " or pass --period"))
            continue
        if outcome == NOT_CARRIED_OUT and not reason:
            problems.append(f"{where}, column reason: an inspection not carried out needs a "
                            f"reason (未检查原因)")
            continue
        carried = "no" if outcome == NOT_CARRIED_OUT else "yes"
        day = day or (plans[p][uscc] if carried == "yes" else "")
        resolved.append((p, uscc, day, outcome, carried, reason))
    periods = sorted({row[0] for row in resolved})
    if not problems and len(periods) > 1:
        problems.append(f"the rows are results of several periods ({', '.join(periods)}); "
                        f"import one file per period")
    if problems:
        raise InputFileError(f"{label}: {len(problems)} problem(s).", problems)
    (the_period,) = periods
    digest = sha256_hex(canonical_csv(kind, frame))
    with store.transaction():
        version = store.current_version("results") + 1
        existing = {u for (u,) in store.conn.execute(
            "SELECT uscc FROM results WHERE period = ?", (the_period,))}
        updated = sum(row[1] in existing for row in resolved)
        import_id = store.record_import("results", version, file_name=file_name,
                                        file_sha256=file_sha256, rows=len(frame),
                                        digest=digest, inserted=len(resolved) - updated,
                                        updated=updated)
        now = utc_now()
        store.conn.executemany(
            "INSERT INTO results (period, uscc, date, outcome, carried_out, note, import_id, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (period, uscc) DO UPDATE "
            "SET date = excluded.date, outcome = excluded.outcome, carried_out = "
            "excluded.carried_out, note = excluded.note, import_id = excluded.import_id, "
            "recorded_at = excluded.recorded_at",
            [(*row, import_id, now) for row in resolved])
        not_done = sum(row[4] == "no" for row in resolved)
        # The rows as written: verify replays every results entry and compares the table.
        store.append_log("results", the_period,
                         details={"file": file_name, "version": version, "rows": len(frame),
                                  "recorded": len(resolved), "updated": updated,
                                  "not_carried_out": not_done, "import_id": import_id,
                                  "inserted": len(resolved) - updated, "removed": 0,
                                  "encoding": "",
                                  "warnings": [],
                                  "recorded_at": now,
                                  "recorded_rows": [list(row[1:]) for row in resolved]},
                         digests={"file": file_sha256, "data": digest})
    return {"rows": len(frame), "recorded": len(resolved), "period": the_period,
            "updated": updated, "not_carried_out": not_done}


def results_frame(store: Store, period: str) -> pd.DataFrame:
    """The recorded results of a period: uscc, date, outcome, carried_out, note."""
    rows = store.conn.execute("SELECT uscc, date, outcome, carried_out, note FROM results "
                              "WHERE period = ? ORDER BY uscc", (period,)).fetchall()
    return pd.DataFrame(rows, columns=["uscc", "date", "outcome", "carried_out", "note"],
                        dtype=object)

