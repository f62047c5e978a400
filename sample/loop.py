"""Sample files for the EIA review loop, beside the city of :mod:`suiji.sample.generate`.

The base city's files stay exactly as they were (so the demo's first quarter
draws the same bytes); the loop adds new files only:

``projects-authors.csv``
    the projects of the base file, each with its lead author (编制主持人) and
    registration number; every agency has one to three registered authors, and
    the agency with the most documents has one, so it shows as 高产出.
``projects-<next period>.csv``
    the same plus the next quarter's approvals, with their lead authors.
``experts-phones.csv``
    the expert library with phone numbers (联系电话) for most experts.

:func:`findings_rows` writes the review conclusions of a drawn sample, for
the demo. Everything comes from ``numpy.random.default_rng(seed)``: the same
arguments give byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from suiji.data.loop_rules import DEFAULT_GENERAL, DEFAULT_SERIOUS
from suiji.data.schema import KINDS
from suiji.sample.generate import _GIVEN, _SURNAMES, _quarter_bounds, _weekdays, _write_csv


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _person(rng: np.random.Generator) -> str:
    return str(rng.choice(_SURNAMES)) + "".join(
        str(rng.choice(_GIVEN)) for _ in range(int(rng.integers(1, 3))))


def generate_loop(out_dir: Path, base: dict[str, Path], seed: int = 2027, year: int = 2027,
                  quarter: int = 1, projects: int = 140) -> dict[str, Path]:
    """Write the loop's files for the quarter ``year`` Q``quarter`` after the base city's.

    ``base`` is what :func:`suiji.sample.generate.generate_city` returned (CSV), as
    imported (a demo may have left out later approvals). Returns ``{"authors": path,
    "projects": path, "experts": path}``.
    """
    rng = np.random.default_rng(seed)
    _, base_projects = _read(base["projects"])
    _, agencies = _read(base["agencies"])
    _, experts = _read(base["experts"])
    kind = KINDS["projects"]
    zh = {c.name: c.zh for c in kind.columns}
    counts: dict[str, int] = {}
    for p in base_projects:
        counts[p[zh["agency_uscc"]]] = counts.get(p[zh["agency_uscc"]], 0) + 1
    busiest = max(sorted(counts), key=lambda a: counts[a])
    taken: set[str] = set()
    authors: dict[str, list[tuple[str, str]]] = {}
    for a in agencies:
        uscc = a["统一社会信用代码"]
        n = 1 if uscc == busiest else int(rng.integers(1, 4))
        people = []
        for _ in range(n):
            reg = f"HP{int(rng.integers(10**7, 10**8))}"
            while reg in taken:
                reg = f"HP{int(rng.integers(10**7, 10**8))}"
            taken.add(reg)
            people.append((_person(rng), reg))
        authors[uscc] = people
    start, end = _quarter_bounds(year, quarter)
    days = _weekdays(start, end)
    weights = np.array([counts.get(a["统一社会信用代码"], 0) + 1 for a in agencies], float)
    rows: list[dict[str, str]] = [dict(p) for p in base_projects]
    approved = np.sort(rng.integers(len(days), size=projects))
    for j in range(projects):
        template = base_projects[int(rng.integers(len(base_projects)))]
        agency = agencies[int(rng.choice(len(agencies), p=weights / weights.sum()))]
        row = dict(template)
        row[zh["project_id"]] = f"JZHP-{year}-{j + 1:04d}"
        row[zh["name"]] = template[zh["name"]].replace("项目", "二期项目", 1) \
            if template[zh["name"]].endswith("项目") else template[zh["name"]] + "（二期）"
        row[zh["approved_on"]] = days[int(approved[j])].isoformat()
        row[zh["agency_uscc"]] = agency["统一社会信用代码"]
        rows.append(row)
    for row in rows:
        people = authors[row[zh["agency_uscc"]]]
        name, reg = people[int(rng.integers(len(people)))]
        row[zh["lead_author"]] = name
        row[zh["lead_author_reg"]] = reg
    out_dir.mkdir(parents=True, exist_ok=True)
    header = [c.zh for c in kind.columns]
    authors_path = out_dir / "projects-authors.csv"
    _write_csv(authors_path, header,
               [[r.get(h, "") for h in header] for r in rows[:len(base_projects)]], "utf-8-sig")
    projects_path = out_dir / f"projects-{year}Q{quarter}.csv"
    _write_csv(projects_path, header, [[r.get(h, "") for h in header] for r in rows],
               "utf-8-sig")
    expert_kind = KINDS["experts"]
    expert_header = [c.zh for c in expert_kind.columns]
    phone = next(c.zh for c in expert_kind.columns if c.name == "phone")
    expert_rows = []
    for e in experts:
        row = dict(e)
        row[phone] = (f"1{int(rng.choice([35, 38, 39, 58, 86])):02d}"
                      f"{int(rng.integers(10**7, 10**8))}" if rng.random() < 0.85 else "")
        expert_rows.append([row.get(h, "") for h in expert_header])
    experts_path = out_dir / "experts-phones.csv"
    _write_csv(experts_path, expert_header, expert_rows, "utf-8-sig")
    return {"authors": authors_path, "projects": projects_path, "experts": experts_path}


def findings_rows(items: Sequence[dict[str, Any]], experts: Sequence[str], reviewed_on: str,
                  seed: int = 2027) -> tuple[list[str], list[list[str]]]:
    """A findings file (header, rows) for the sampled ``items``: about 55% 合格, 30%
    一般质量问题, 15% 严重质量问题 with problem items of the default rules; each serious
    finding names one or two of ``experts`` as having signed the document off."""
    rng = np.random.default_rng(seed)
    general, serious = sorted(DEFAULT_GENERAL), sorted(DEFAULT_SERIOUS)
    rows = []
    for item in sorted(items, key=lambda i: str(i["project_id"])):
        u = rng.random()
        problems: list[str] = []
        signed: list[str] = []
        if u < 0.55:
            conclusion = "合格"
        elif u < 0.85:
            conclusion = "一般质量问题"
            problems = sorted(rng.choice(general, size=int(rng.integers(1, 3)), replace=False))
        else:
            conclusion = "严重质量问题"
            problems = [str(rng.choice(serious))]
            if rng.random() < 0.5:
                problems.append(str(rng.choice(general)))
            signed = sorted(rng.choice(list(experts), size=int(rng.integers(1, 3)),
                                       replace=False))
        rows.append([str(item["project_id"]), conclusion, "、".join(problems), reviewed_on,
                     "、".join(signed)])
    return ["项目编号", "复核结论", "问题", "复核日期", "把关专家"], rows
