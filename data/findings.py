"""Technical-review findings (DOMAIN.md §10): one conclusion per reviewed document.

``suiji import findings FILE`` records, for documents of a drawn review sample,
the conclusion (合格 pass / 一般质量问题 general / 严重质量问题 serious), the
problem items found and the credit points they carry under the rules'
``[credit.general]`` / ``[credit.serious]`` tables (:mod:`suiji.data.loop_rules`).
The points go to the document's agency (编制单位, as drawn in the sample) and to
its lead author (编制主持人, from the projects directory at import time).
Experts listed as having signed the document off (把关专家) of a document found
严重质量问题 are flagged 把关不严 and get ``credit.lax_review_points``.

Rows are only ever added, each with its import: a later file with a finding for
the same document supersedes the earlier one (the latest import wins), and
``verify`` re-hashes every import from its rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from suiji.data.canonical import canonical_csv, excel_rows, text_records
from suiji.data.errors import InputFileError
from suiji.data.rules import Rules
from suiji.data.schema import RECORD_KINDS
from suiji.data.store import LATEST_OUTPUT_SQL, Store, sha256_hex, utc_now

CONCLUSION_ZH = {"pass": "合格", "general": "一般质量问题", "serious": "严重质量问题"}
FINDINGS_COLUMNS = ["project_id", "period", "reviewed_on", "conclusion", "problems", "points",
                    "agency_uscc", "lead_author", "lead_author_reg", "signed_off", "lax_points"]
# The columns of the file, as the import digest covers them.
FILE_COLUMNS = list(RECORD_KINDS["findings"].column_names)


def format_number(value: float) -> str:
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass(frozen=True)
class SampledDocument:
    project_id: str
    period: str
    agency_uscc: str
    agency_name: str
    name: str


def sampled_documents(store: Store) -> dict[str, SampledDocument]:
    """Every document of a current review sample (any period), by project id; a document
    sampled in two periods is taken from the later one."""
    out: dict[str, SampledDocument] = {}
    for period, output in store.conn.execute(
            f"SELECT d.period, {LATEST_OUTPUT_SQL} FROM draws d WHERE d.scope = 'reviews' "
            f"AND d.status = 'current' ORDER BY d.period"):
        for item in json.loads(output)["items"]:
            out[item["project_id"]] = SampledDocument(
                item["project_id"], period, item.get("agency_uscc", ""),
                item.get("agency_name", ""), item.get("name", ""))
    return out


def _split(text: str) -> list[str]:
    return [p for p in str(text).split(";") if p]


def record_findings(store: Store, frame: pd.DataFrame, *, file_name: str = "",
                    file_sha256: str = "", rules: Rules) -> dict[str, Any]:
    """Record a canonical ``RECORD_KINDS["findings"]`` frame; all rows or none.

    Refused, with the row as Excel shows it: a document in no drawn review
    sample; a problem item the rules do not list; 合格 with problem items; a
    problem conclusion without any; 一般质量问题 with a serious item; 严重质量问题
    without one; a signing-off expert not in the expert library.
    """
    from suiji.data.scores import log_state_changes, points_frame, standings

    kind = RECORD_KINDS["findings"]
    credit = rules.credit
    rows = excel_rows(frame)
    frame = frame.reindex(columns=FILE_COLUMNS, fill_value="").fillna("").astype(str)
    sampled = sampled_documents(store)
    experts = set(store.read("experts")["expert_id"])
    projects = store.read("projects").set_index("project_id")
    known_items = "; ".join([*credit.general, *credit.serious])
    problems: list[str] = []
    records = []
    for i, r in zip(rows, text_records(frame), strict=True):
        doc = sampled.get(r.project_id)
        if doc is None:
            problems.append(f"row {i}, column project_id: document {r.project_id} is in no "
                            f"drawn review sample; findings are recorded for sampled "
                            f"documents only")
            continue
        items = _split(r.problems)
        levels = []
        points = 0.0
        for item in items:
            found = credit.item_points(item)
            if found is None:
                problems.append(f"row {i}, column problems: {item!r} is not a problem item of "
                                f"the rules ([credit.general] / [credit.serious]); use one of: "
                                f"{known_items}")
                continue
            levels.append(found[0])
            points += found[1]
        if r.conclusion == "pass" and items:
            problems.append(f"row {i}, column conclusion: 合格 but problem items are listed; "
                            f"write 一般质量问题 or 严重质量问题, or remove the items")
        if r.conclusion != "pass" and not items:
            problems.append(f"row {i}, column problems: {CONCLUSION_ZH[r.conclusion]} needs "
                            f"the problem items found (separated by 、 or ;)")
        if r.conclusion == "general" and "serious" in levels:
            problems.append(f"row {i}, column conclusion: a 严重质量问题 item is listed, so the "
                            f"conclusion is 严重质量问题, not 一般质量问题")
        if r.conclusion == "serious" and levels and "serious" not in levels:
            problems.append(f"row {i}, column conclusion: 严重质量问题 needs at least one item "
                            f"of [credit.serious]; the items listed are all 一般质量问题")
        signed = _split(r.signed_off)
        for expert in signed:
            if expert not in experts:
                problems.append(f"row {i}, column signed_off: expert {expert} is not in the "
                                f"expert library")
        author, reg = "", ""
        if r.project_id in projects.index:
            p = projects.loc[r.project_id]
            author = str(p.get("lead_author", "")) if "lead_author" in p else ""
            reg = str(p.get("lead_author_reg", "")) if "lead_author_reg" in p else ""
        lax = credit.lax_review_points if r.conclusion == "serious" and signed else 0.0
        records.append((r, doc, format_number(points), author, reg, format_number(lax)))
    if problems:
        raise InputFileError(f"{file_name or 'The findings file'}: rejected, "
                             f"{len(problems)} problem(s).", problems)
    digest = sha256_hex(canonical_csv(kind, frame))
    years = sorted({int(r.reviewed_on[:4]) for r, *_ in records})
    with store.transaction():
        before = {y: standings(points_frame(store), y, rules.review) for y in years}
        version = store.current_version("findings") + 1
        cur = store.conn.execute(
            "INSERT INTO imports (kind, version, file_name, file_sha256, encoding, rows, "
            "inserted, updated, removed, warnings, digest, imported_at) "
            "VALUES ('findings', ?, ?, ?, '', ?, ?, ?, 0, '[]', ?, ?)",
            (version, file_name, file_sha256, len(records), 0, 0, digest, utc_now()))
        import_id = int(cur.lastrowid or 0)
        earlier = {p for (p,) in store.conn.execute("SELECT DISTINCT project_id FROM findings")}
        now = utc_now()
        lax_experts: list[dict[str, Any]] = []
        for r, doc, doc_points, author, reg, lax in records:
            store.conn.execute(
                "INSERT INTO findings (import_id, project_id, period, conclusion, problems, "
                "reviewed_on, signed_off, note, points, agency_uscc, lead_author, "
                "lead_author_reg, lax_points, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (import_id, r.project_id, doc.period, r.conclusion, r.problems, r.reviewed_on,
                 r.signed_off, r.note, doc_points, doc.agency_uscc, author, reg, lax, now))
            if float(lax):
                lax_experts.extend({"expert_id": e, "project_id": r.project_id,
                                    "reviewed_on": r.reviewed_on, "points": float(lax)}
                                   for e in _split(r.signed_off))
        updated = sum(1 for r, *_ in records if r.project_id in earlier)
        store.conn.execute("UPDATE imports SET inserted = ?, updated = ? WHERE id = ?",
                           (len(records) - updated, updated, import_id))
        store.append_log("import", details={"kind": "findings", "version": version,
                                            "file": file_name, "rows": len(records),
                                            "inserted": len(records) - updated,
                                            "updated": updated, "removed": 0},
                         digests={"file": file_sha256, "data": digest})
        for lax_row in lax_experts:
            store.append_log("expert_lax", details=lax_row)
        changes = log_state_changes(store, before, rules)
    summary = {c: 0 for c in CONCLUSION_ZH}
    for r, *_ in records:
        summary[r.conclusion] += 1
    return {"kind": "findings", "version": version, "import_id": import_id,
            "rows": len(records), "inserted": len(records) - updated, "updated": updated,
            "digest": digest, "conclusions": summary,
            "points": sum(float(p) for _, _, p, *_ in records),
            "lax": lax_experts, "changes": changes, "warnings": []}


# --- reading --------------------------------------------------------------------------------


def current_findings(store: Store) -> pd.DataFrame:
    """The latest finding of each document (``FINDINGS_COLUMNS``), sorted by project id."""
    rows = store.conn.execute(
        "SELECT project_id, period, reviewed_on, conclusion, problems, points, agency_uscc, "
        "lead_author, lead_author_reg, signed_off, lax_points FROM findings f "
        "WHERE import_id = (SELECT MAX(import_id) FROM findings g "
        "WHERE g.project_id = f.project_id) ORDER BY project_id").fetchall()
    return pd.DataFrame(rows, columns=FINDINGS_COLUMNS, dtype=object)


def lax_points(store: Store) -> dict[tuple[str, str], float]:
    """(expert id, year) -> 把关不严 deduction points, from the current findings."""
    out: dict[tuple[str, str], float] = {}
    for r in _lax_rows(current_findings(store)):
        key = (r["expert_id"], r["reviewed_on"][:4])
        out[key] = out.get(key, 0.0) + r["points"]
    return out


def lax_reviews(store: Store) -> list[dict[str, Any]]:
    """Every expert flagged 把关不严: expert, document, review date, points."""
    return list(_lax_rows(current_findings(store)))


def _lax_rows(findings: pd.DataFrame) -> Iterator[dict[str, Any]]:
    for r in text_records(findings):
        if r.conclusion == "serious" and float(r.lax_points):
            for expert in _split(r.signed_off):
                yield {"expert_id": expert, "project_id": r.project_id,
                       "reviewed_on": r.reviewed_on, "period": r.period,
                       "points": float(r.lax_points)}


# Record kinds whose rows are only ever added with their import: verify re-hashes them.
ROW_TABLES = {"findings": "findings", "responses": "responses"}


def import_rows_digest(store: Store, kind: str, import_id: int) -> str:
    """The digest of a findings or responses import recomputed from its stored rows."""
    k = RECORD_KINDS[kind]
    cols = ", ".join(k.column_names)
    rows = store.conn.execute(f"SELECT {cols} FROM {ROW_TABLES[kind]} WHERE import_id = ? "
                              f"ORDER BY id", (import_id,)).fetchall()
    frame = pd.DataFrame(rows, columns=list(k.column_names), dtype=object)
    return sha256_hex(canonical_csv(k, frame))


__all__ = ["record_findings", "current_findings", "lax_points", "lax_reviews",
           "sampled_documents"]
