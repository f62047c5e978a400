"""The review loop's sample files: new files only, deterministic, importable."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

from suiji.data.importers import read_kind
from suiji.sample.generate import generate_city
from suiji.sample.loop import findings_rows, generate_loop

SMALL = {"firms": 300, "inspectors": 30, "projects": 60, "agencies": 8, "experts": 30}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_loop_files_are_new_deterministic_and_importable(tmp_path: Path) -> None:
    base = generate_city(tmp_path / "city", seed=5, **SMALL)
    before = {k: p.read_bytes() for k, p in base.items()}
    a = generate_loop(tmp_path / "a", base, projects=20)
    b = generate_loop(tmp_path / "b", base, projects=20)
    assert {k: p.read_bytes() for k, p in base.items()} == before  # base files untouched
    assert all(a[k].read_bytes() == b[k].read_bytes() for k in a)
    projects = read_kind("projects", a["projects"]).frame
    assert len(projects) == 60 + 20 and (projects["lead_author_reg"] != "").all()
    new = projects[projects["approved_on"] >= "2027-01-01"]
    assert len(new) == 20 and (new["approved_on"] <= "2027-03-31").all()
    base_ids = {r["项目编号"] for r in _rows(base["projects"])}
    assert base_ids <= set(projects["project_id"])
    # the agency with the most base documents has a single registered author (高产出)
    counts = Counter(r["编制单位"] for r in _rows(base["projects"]))
    busiest = max(sorted(counts), key=lambda x: counts[x])
    assert projects.loc[projects["agency_uscc"] == busiest, "lead_author_reg"].nunique() == 1
    authors = read_kind("projects", a["authors"]).frame
    assert set(authors["project_id"]) == base_ids and len(authors) == 60
    merged = projects.set_index("project_id").loc[authors["project_id"], "lead_author_reg"]
    assert merged.tolist() == authors["lead_author_reg"].tolist()
    experts = read_kind("experts", a["experts"]).frame
    assert len(experts) == 30 and 0 < (experts["phone"] != "").sum() < 30


def test_findings_rows_follow_the_default_rules(tmp_path: Path) -> None:
    from suiji.data.loop_rules import CreditRules

    items = [{"project_id": f"P{i:03d}"} for i in range(60)]
    header, rows = findings_rows(items, ["ZJ0001", "ZJ0002", "ZJ0003"], "2026-12-28")
    assert rows == findings_rows(items, ["ZJ0001", "ZJ0002", "ZJ0003"], "2026-12-28")[1]
    assert header[:4] == ["项目编号", "复核结论", "问题", "复核日期"]
    credit = CreditRules()
    seen = Counter(r[1] for r in rows)
    assert set(seen) == {"合格", "一般质量问题", "严重质量问题"}
    for _, conclusion, problems, _, signed in rows:
        levels = {(credit.item_points(p) or ("?",))[0] for p in problems.split("、") if p}
        assert (conclusion == "合格") == (not levels)
        assert ("serious" in levels) == (conclusion == "严重质量问题") == bool(signed)
