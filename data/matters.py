"""The list of random-inspection matters (随机抽查事项清单): what an inspection checks.

Each matter has a number (事项编号), a name, its legal basis (检查依据), a method
(检查方式) and, optionally, the supervision categories and industries it applies
to. The list is imported like every directory (``suiji import matters FILE``,
kind ``matters`` of :mod:`suiji.data.schema`); :func:`check_matters` adds the
checks the generic importer cannot make (the categories must be key, general or
special). Tasks of the rules name the matters they inspect; plans, notices and
reports show them, with their basis, from this list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from suiji.data.errors import InputFileError, SuijiError
from suiji.data.schema import CATEGORY

_CATEGORY = {spelling.lower(): value for spelling, value in CATEGORY}


@dataclass(frozen=True)
class Matter:
    """One listed matter; ``categories`` / ``industries`` empty = applies to every firm."""

    matter_id: str
    name: str
    basis: str
    method: str
    categories: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.matter_id or not self.name or not self.basis:
            raise ValueError("a matter needs an id, a name and a basis")
        bad = [c for c in self.categories if c not in ("key", "general", "special")]
        if bad:
            raise ValueError(f"matter {self.matter_id}: unknown categories {bad}")

    def record(self) -> dict[str, str]:
        """What a plan records of the matter (id, name, basis, method)."""
        return {"id": self.matter_id, "name": self.name, "basis": self.basis,
                "method": self.method}


def _split(text: str) -> tuple[str, ...]:
    return tuple(p for p in str(text).split(";") if p)


def check_matters(frame: pd.DataFrame, file_name: str = "The matters list") -> pd.DataFrame:
    """The parsed matters frame with its categories in canonical form (key;general;...).

    Refuses, with the rows Excel shows, a category other than 重点/一般/特殊
    (key/general/special). ``frame``'s index holds the Excel row numbers.
    """
    problems = []
    canonical = []
    for row, text in zip(frame.index.tolist(), frame["categories"].tolist(), strict=True):
        values = []
        for part in _split(text):
            value = _CATEGORY.get(part.strip().lower())
            if value is None:
                problems.append(f"row {row}, column 适用类别/categories: {part!r} is not a "
                                f"supervision category (重点, 一般, 特殊 or key, general, "
                                f"special)")
            else:
                values.append(value)
        canonical.append(";".join(dict.fromkeys(values)))
    if problems:
        raise InputFileError(f"{file_name}: {len(problems)} problem(s).", problems)
    out = frame.copy()
    out["categories"] = pd.Series(canonical, index=frame.index, dtype=object)
    return out


def matters_from_frame(frame: pd.DataFrame) -> dict[str, Matter]:
    """matter id -> :class:`Matter` from a frozen or current ``matters`` frame."""
    out = {}
    for r in frame.itertuples(index=False):
        out[str(r.matter_id)] = Matter(str(r.matter_id), str(r.name), str(r.basis),
                                       str(r.method), _split(str(r.categories)),
                                       _split(str(r.industries)))
    return out


def resolve_matters(listed: Mapping[str, Matter], wanted: Iterable[str], where: str
                    ) -> tuple[Matter, ...]:
    """The matters ``wanted`` by a task, in its order; refuses an id not on the list."""
    wanted = tuple(wanted)
    missing = [m for m in wanted if m not in listed]
    if missing:
        known = ", ".join(sorted(listed)[:12]) or "none: import the list first"
        raise SuijiError(f"{where} names matter(s) {', '.join(missing)} that are not on the "
                         f"list of random-inspection matters (随机抽查事项清单; listed: "
                         f"{known}). Import the list with `suiji import matters FILE`, or "
                         f"fix the task's matters in the rules file.")
    return tuple(listed[m] for m in wanted)
