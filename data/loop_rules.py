"""Rules of the EIA review loop: credit points, problem items, four-party expert scoring.

Two optional tables of the rules file (DOMAIN.md §10), with the defaults below
when a table or key is absent, so rules files written before the loop keep
their meaning and their bytes:

``[credit]``
    ``rectify_points`` (限期整改, default 10) and ``blacklist_points`` (黑名单,
    default 20): the points in a scoring year at which an agency or a lead author
    is put on the list; ``high_output_per_author`` (高产出, default 20):
    approved documents per registered lead author in the four quarters before a
    period above which an agency is watched; ``lax_review_points`` (把关不严,
    default 5): deduction points for each expert who signed off a document found
    严重质量问题; ``[credit.general]`` and ``[credit.serious]``: the problem
    items of 一般质量问题 and 严重质量问题 with their points.
``[scoring]``
    ``[scoring.weights]``: how the four parties' scores of an expert combine
    (a weighted mean over the parties that gave a score); ``deduct``: the
    parties that may give deduction points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from suiji.data.errors import RulesError
from suiji.data.schema import PARTIES

PARTY_ZH = {"approval": "审批部门", "developer": "建设单位", "agency": "环评单位",
            "assessment": "技术评估部门"}

DEFAULT_GENERAL: dict[str, float] = {
    "建设项目概况描述不全或错误": 2,
    "环境现状调查与评价不全": 2,
    "环境影响因素识别不全": 2,
    "评价标准引用错误": 1,
    "污染防治措施论证不充分": 2,
    "附图附件不全": 1,
}
DEFAULT_SERIOUS: dict[str, float] = {
    "环评文件类别判定错误": 5,
    "遗漏环境敏感目标": 5,
    "主要环境影响预测结论错误": 8,
    "数据弄虚作假": 10,
    "抄袭其他环评文件": 10,
}
DEFAULT_WEIGHTS: dict[str, float] = {"approval": 0.4, "developer": 0.1, "agency": 0.1,
                                     "assessment": 0.4}
DEFAULT_DEDUCT: tuple[str, ...] = ("approval", "assessment")


@dataclass(frozen=True)
class CreditRules:
    rectify_points: float = 10
    blacklist_points: float = 20
    high_output_per_author: float = 20
    lax_review_points: float = 5
    general: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_GENERAL))
    serious: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SERIOUS))
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    deduct: tuple[str, ...] = DEFAULT_DEDUCT

    def __post_init__(self) -> None:
        if not 0 < self.rectify_points < self.blacklist_points:
            raise RulesError("credit.rectify_points must be above 0 and below "
                             "credit.blacklist_points")
        if self.high_output_per_author <= 0 or self.lax_review_points < 0:
            raise RulesError("credit.high_output_per_author must be above 0 and "
                             "credit.lax_review_points not negative")
        for where, items in (("credit.general", self.general), ("credit.serious", self.serious)):
            for item, points in items.items():
                if points < 0:
                    raise RulesError(f"{where}.{item} = {points}: points must not be negative")
        both = sorted(set(self.general) & set(self.serious))
        if both:
            raise RulesError(f"problem item {both[0]!r} is in both credit.general and "
                             f"credit.serious; list it once")
        for party, w in self.weights.items():
            if party not in PARTIES:
                raise RulesError(f"scoring.weights.{party}: not a party; use "
                                 f"{', '.join(PARTIES)}")
            if w < 0:
                raise RulesError(f"scoring.weights.{party} must not be negative")
        if not any(self.weights.get(p, 0) > 0 for p in PARTIES):
            raise RulesError("scoring.weights: at least one party needs a weight above 0")
        for party in self.deduct:
            if party not in PARTIES:
                raise RulesError(f"scoring.deduct: {party!r} is not a party; use "
                                 f"{', '.join(PARTIES)}")

    def item_points(self, item: str) -> tuple[str, float] | None:
        """(level, points) of a problem item, level ``general`` or ``serious``."""
        if item in self.serious:
            return "serious", float(self.serious[item])
        if item in self.general:
            return "general", float(self.general[item])
        return None

    def state(self, points: float, previous_points: float) -> str:
        """ok / rectify (限期整改) / blacklist (黑名单) for a scoring year.

        The worse of this year's state and last year's: a list lasts out the
        scoring year it was reached in and the whole next one.
        """
        worst = max(points, previous_points)
        if worst >= self.blacklist_points:
            return "blacklist"
        if worst >= self.rectify_points:
            return "rectify"
        return "ok"

    def combined_score(self, scores: dict[str, float]) -> float | None:
        """The weighted mean of the parties' scores (parties with weight 0 left out)."""
        total = sum((Fraction(repr(float(self.weights.get(p, 0)))) for p in scores
                     if self.weights.get(p, 0) > 0), Fraction(0))
        if not total:
            return None
        value = sum((Fraction(repr(float(self.weights.get(p, 0)))) * Fraction(repr(s))
                     for p, s in scores.items() if self.weights.get(p, 0) > 0), Fraction(0))
        return round(float(value / total), 4)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RulesError(f"{where} = {value!r} must be a number")
    return float(value)


def _items(table: Any, where: str) -> dict[str, float]:
    if not isinstance(table, dict):
        raise RulesError(f"[{where}] must be a table of problem item = points")
    return {str(k): _number(v, f"{where}.{k}") for k, v in table.items()}


def parse_loop_rules(credit: Any, scoring: Any) -> CreditRules:
    """The ``[credit]`` and ``[scoring]`` tables (either may be None)."""
    values: dict[str, Any] = {}
    credit = {} if credit is None else credit
    scoring = {} if scoring is None else scoring
    if not isinstance(credit, dict) or not isinstance(scoring, dict):
        raise RulesError("[credit] and [scoring] must be tables")
    known = ("rectify_points", "blacklist_points", "high_output_per_author",
             "lax_review_points", "general", "serious")
    for key, value in credit.items():
        if key not in known:
            raise RulesError(f"Unknown key credit.{key} in the rules file. Known keys: "
                             f"{', '.join(known)}.")
        if key in ("general", "serious"):
            values[key] = _items(value, f"credit.{key}")
        else:
            values[key] = _number(value, f"credit.{key}")
    for key, value in scoring.items():
        if key == "weights":
            if not isinstance(value, dict):
                raise RulesError("[scoring.weights] must be a table of party = weight")
            values["weights"] = {str(k): _number(v, f"scoring.weights.{k}")
                                 for k, v in value.items()}
        elif key == "deduct":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RulesError("scoring.deduct must be a list of parties, e.g. "
                                 "[\"approval\", \"assessment\"]")
            values["deduct"] = tuple(value)
        else:
            raise RulesError(f"Unknown key scoring.{key} in the rules file. Known keys: "
                             f"weights, deduct.")
    return CreditRules(**values)


def credit_toml(rules: CreditRules | None = None) -> str:
    """The ``[credit]`` and ``[scoring]`` tables as rules-file text (the 沈阳 preset)."""
    r = rules or CreditRules()

    def num(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    lines = [
        "",
        "# 环评复核闭环 (EIA review loop): 失信记分, 重点监督, 四方打分",
        "[credit]",
        f"rectify_points = {num(r.rectify_points)}          # 年度记分达到即列入限期整改名单",
        f"blacklist_points = {num(r.blacklist_points)}        # 年度记分达到即列入黑名单",
        f"high_output_per_author = {num(r.high_output_per_author)}  "
        f"# 高产出: 前四个季度每名编制主持人审批文件数超过即重点监督",
        f"lax_review_points = {num(r.lax_review_points)}        "
        f"# 把关不严: 签字专家的文件被认定严重质量问题时扣分",
        "",
        "[credit.general]              # 一般质量问题: 问题项 = 记分",
        *[f'"{k}" = {num(v)}' for k, v in r.general.items()],
        "",
        "[credit.serious]              # 严重质量问题: 问题项 = 记分",
        *[f'"{k}" = {num(v)}' for k, v in r.serious.items()],
        "",
        "# 专家四方打分: 审批部门 approval, 建设单位 developer, 环评单位 agency, "
        "技术评估部门 assessment",
        "[scoring]",
        "deduct = [" + ", ".join(f'"{p}"' for p in r.deduct) + "]   # 可扣分的打分方",
        "",
        "[scoring.weights]             # 综合得分 = 各方得分的加权平均",
        *[f"{p} = {num(w)}" for p, w in r.weights.items()],
        "",
    ]
    return "\n".join(lines)
