"""Small canonical inputs for the review-sample, panel and score tests (no tests here).

Built directly as canonical frames and stored with ``Store.replace``, so the
tests depend neither on the importers nor on the sample-data generator.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from suiji.data.period import Period
from suiji.data.rules import Rules, parse_rules, preset_text
from suiji.data.schema import KINDS
from suiji.data.snapshot import Snapshot, freeze
from suiji.data.store import Store

PERIOD = Period(2026, 4)


def uscc(prefix: str, i: int) -> str:
    return f"91{prefix:>4}{i:012d}"[:18].replace(" ", "0")


def frame(kind: str, rows: Sequence[dict[str, str]]) -> pd.DataFrame:
    cols = list(KINDS[kind].column_names)
    return pd.DataFrame([{c: str(r.get(c, "")) for c in cols} for r in rows], columns=cols,
                        dtype=object)


def rules(extra: str = "") -> Rules:
    """The default rules with ``extra`` ``key = value`` lines set in the [review] table."""
    text = preset_text("default")
    head, body = text.split("[review]\n", 1)
    table, rest = body.split("\n[", 1)
    for line in extra.strip().splitlines():
        key = line.split("=", 1)[0].strip()
        pattern = re.compile(rf"^{re.escape(key)}\s*=.*$", re.MULTILINE)
        table = pattern.sub(line.strip(), table) if pattern.search(table) else (
            table + "\n" + line.strip())
    return parse_rules(head + "[review]\n" + table + "\n[" + rest, "test rules")


@dataclass
class Inputs:
    agencies: list[dict[str, str]] = field(default_factory=list)
    projects: list[dict[str, str]] = field(default_factory=list)
    experts: list[dict[str, str]] = field(default_factory=list)
    history: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[dict[str, str]] = field(default_factory=list)

    def store(self, path: Path | str) -> Store:
        store = Store.init(path)
        self.write(store)
        return store

    def write(self, store: Store) -> None:
        store.replace("agencies", frame("agencies", self.agencies))
        store.replace("projects", frame("projects", self.projects))
        store.replace("experts", frame("experts", self.experts))
        store.replace("employment-history", frame("employment-history", self.history))
        store.replace("conflicts", frame("conflicts", self.conflicts))


def sample_inputs(agency_docs: Sequence[int] = (5, 3, 1, 6, 2), watch: Sequence[int] = (3,),
                  reports_every: int = 3, high_risk_every: int = 4,
                  outside_period: int = 2) -> Inputs:
    """Agencies A0..; agency i has ``agency_docs[i]`` documents approved in 2026Q4."""
    inputs = Inputs()
    n = 0
    for a, count in enumerate(agency_docs):
        code = uscc("AG", a)
        inputs.agencies.append({"uscc": code, "name": f"江州第{a}环评咨询有限公司",
                                "watch": "yes" if a in watch else "no"})
        for _ in range(count):
            n += 1
            inputs.projects.append({
                "project_id": f"P{n:03d}", "name": f"项目{n}",
                "doc_type": "report" if n % reports_every == 0 else "form",
                "approved_on": f"2026-{10 + n % 3}-{1 + n % 28:02d}", "agency_uscc": code,
                "developer": f"建设单位{n}有限公司",
                "industry": "化工" if n % high_risk_every == 0 else "食品加工",
                "district": "江城区"})
    for k in range(outside_period):
        inputs.projects.append({
            "project_id": f"Q{k:03d}", "name": f"上季度项目{k}", "doc_type": "report",
            "approved_on": "2026-09-30", "agency_uscc": uscc("AG", 0),
            "developer": "别的建设单位", "industry": "化工", "district": "江城区"})
    return inputs


def frozen(tmp_path: Path, inputs: Inputs, rules_obj: Rules | None = None,
           name: str = "t.db") -> tuple[Store, Snapshot, Rules]:
    r = rules_obj or rules()
    store = inputs.store(tmp_path / name)
    snap = freeze(store, PERIOD, "reviews", r)
    return store, snap, r


SPECIALTIES = ("化工", "环境工程", "水环境", "大气", "生态")


def panel_inputs(n_experts: int = 24, agency_docs: Sequence[int] = (4, 3, 2, 3),
                 watch: Sequence[int] = (1,)) -> Inputs:
    """``sample_inputs`` plus an expert library.

    Expert ZJ00k: specialties cycle over ``SPECIALTIES`` (k and k+1), born 1970 + k % 20,
    employed by 江州环境研究院; ZJ0001 works at agency 0 (recusal), ZJ0002 worked at
    agency 1 until 2025 (recusal within 3 years), ZJ0006 has a declared conflict with
    agency 2's USCC, ZJ0004 is inactive, ZJ0005 was born in 1950 (over 65). ZJ0001, 2
    and 6 hold specialties every document accepts, so only the recusal keeps them out.
    """
    inputs = sample_inputs(agency_docs=agency_docs, watch=watch)
    for k in range(1, n_experts + 1):
        eid = f"ZJ{k:04d}"
        specs = [SPECIALTIES[k % len(SPECIALTIES)], SPECIALTIES[(k + 1) % len(SPECIALTIES)]]
        inputs.experts.append({
            "expert_id": eid, "name": f"专家{k}", "specialties": "、".join(specs),
            "employer": "江州环境研究院", "birth_year": str(1970 + k % 20),
            "active": "no" if k == 4 else "yes"})
        inputs.history.append({"expert_id": eid, "employer": "江州环境研究院",
                               "start": "2010-01-01", "end": ""})
    inputs.experts[0]["employer"] = inputs.agencies[0]["name"]
    if len(inputs.agencies) > 1:
        inputs.history.append({"expert_id": "ZJ0002",
                               "employer": " " + inputs.agencies[1]["name"],
                               "start": "2020-01-01", "end": "2025-06-30"})
    if len(inputs.agencies) > 2:
        inputs.conflicts.append({"person": "ZJ0006", "counterpart": inputs.agencies[2]["uscc"],
                                 "reason": "亲属", "until": ""})
    inputs.experts[4]["birth_year"] = "1950"
    return inputs
