"""Synthetic inspection-plan instances, built in memory with numpy (benchmarks and tests).

Ids are unique strings shaped like the real ones but not valid USCCs (the
bench does not need check characters). Every city has ``districts`` districts;
a quarter of its inspectors belong to the city-level unit (``全市``), the rest
are spread over the districts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

CATEGORY_SHARE = (("key", 0.08), ("general", 0.87), ("special", 0.05))


@dataclass(frozen=True)
class Instance:
    companies: pd.DataFrame  # uscc, name, district, city, category, industry, status, risk
    inspectors: pd.DataFrame  # badge, name, unit, district, city, active, capacity, daily
    leave: pd.DataFrame
    conflicts: pd.DataFrame
    positive_list: pd.DataFrame
    history: pd.DataFrame
    working_days: list[date]


def quarter_weekdays(year: int = 2026, quarter: int = 4) -> list[date]:
    """Monday-Friday of a quarter minus the first week of October (a stand-in for holidays)."""
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    days = [start + timedelta(k) for k in range((end - start).days)]
    return [d for d in days if d.weekday() < 5 and not (d.month == 10 and d.day <= 8)]


def synthetic(n_firms: int, n_inspectors: int, n_cities: int, districts: int = 8,
              seed: int = 0, leave_share: float = 0.1, conflict_share: float = 0.0005
              ) -> Instance:
    rng = np.random.default_rng(seed)
    city_of_firm = np.sort(rng.integers(0, n_cities, n_firms))
    district_of_firm = rng.integers(0, districts, n_firms)
    ids = np.char.add("91", np.char.zfill(np.arange(n_firms).astype(str), 16))
    cats = rng.choice([c for c, _ in CATEGORY_SHARE], size=n_firms,
                      p=[p for _, p in CATEGORY_SHARE])
    cities = np.char.add("市", np.arange(n_cities).astype(str))
    dnames = np.char.add("区", np.arange(districts).astype(str))
    companies = pd.DataFrame({
        "uscc": ids.astype(object),
        "name": np.char.add("企业", np.arange(n_firms).astype(str)).astype(object),
        "district": dnames[district_of_firm].astype(object),
        "city": cities[city_of_firm].astype(object),
        "category": cats.astype(object),
        "industry": "化工",
        "status": np.where(rng.random(n_firms) < 0.03, "closed", "active").astype(object),
        "risk": "",
    })
    city_of_insp = np.sort(np.arange(n_inspectors) % n_cities)
    city_level = rng.random(n_inspectors) < 0.25
    idistrict = np.where(city_level, "全市", dnames[rng.integers(0, districts, n_inspectors)])
    badges = np.char.add("B", np.char.zfill(np.arange(n_inspectors).astype(str), 7))
    inspectors = pd.DataFrame({
        "badge": badges.astype(object),
        "name": np.char.add("执法", np.arange(n_inspectors).astype(str)).astype(object),
        "unit": np.where(city_level, "支队", "大队").astype(object),
        "district": idistrict.astype(object),
        "city": cities[city_of_insp].astype(object),
        "active": np.where(rng.random(n_inspectors) < 0.97, "yes", "no").astype(object),
        "capacity": "", "daily_capacity": "",
    })
    days = quarter_weekdays()
    n_leave = int(n_inspectors * leave_share)
    who = rng.choice(n_inspectors, n_leave, replace=False) if n_leave else np.zeros(0, int)
    first = rng.integers(0, len(days) - 5, n_leave)
    length = rng.integers(1, 8, n_leave)
    leave = pd.DataFrame({
        "badge": badges[who].astype(object),
        "start": [days[k].isoformat() for k in first],
        "end": [(days[k] + timedelta(int(n))).isoformat() for k, n in zip(first, length,
                                                                         strict=True)],
    }, columns=["badge", "start", "end"])
    n_conf = int(n_firms * conflict_share)
    conflicts = pd.DataFrame({
        "person": badges[rng.integers(0, n_inspectors, n_conf)].astype(object),
        "counterpart": ids[rng.integers(0, n_firms, n_conf)].astype(object),
        "reason": "亲属", "until": "",
    }, columns=["person", "counterpart", "reason", "until"]).drop_duplicates(
        ["person", "counterpart"])
    empty = pd.DataFrame({"uscc": [], "start": [], "end": []}, dtype=object)
    history = pd.DataFrame({"uscc": [], "date": [], "kind": [], "source": []}, dtype=object)
    return Instance(companies, inspectors, leave, conflicts, empty, history, days)


def drawn_sample(inst: Instance, share: float, seed: int = 1) -> pd.DataFrame:
    """A stand-in for the firm draw: ``share`` of the active firms at random (for tests)."""
    rng = np.random.default_rng(seed)
    active = inst.companies[inst.companies["status"] == "active"]
    pick = rng.random(len(active)) < share
    return active.loc[pick, ["uscc", "name", "district", "city"]].reset_index(drop=True)
