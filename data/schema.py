"""The input kinds of DOMAIN.md §5: columns, Chinese and English headers, types, keys.

This table is the single description of every directory the store keeps. The
importers parse files against it, the store creates one versioned table per
kind from it, and snapshots serialise each kind in its canonical column order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["text", "uscc", "date", "enum", "bool", "int", "float", "list"]


@dataclass(frozen=True)
class Column:
    name: str  # canonical English name, also the SQL column
    zh: str  # the Chinese header
    type: ColumnType = "text"
    required: bool = False
    default: str | None = None  # canonical value used when the cell is empty
    choices: tuple[tuple[str, str], ...] = ()  # (accepted spelling, canonical value)
    aliases: tuple[str, ...] = ()  # further accepted headers
    # A column added after a kind's first release: the canonical form leaves it out
    # while every row has it empty, so data from before it hashes as it always did.
    late: bool = False
    # Personal data kept in the store but never frozen, bundled or published
    # (an expert's phone number, DOMAIN.md §3 rule 8).
    sealed: bool = False

    def __post_init__(self) -> None:
        if self.type == "enum" and not self.choices:
            raise ValueError(f"enum column {self.name} needs choices")
        if (self.late or self.sealed) and (self.required or self.default):
            raise ValueError(f"late or sealed column {self.name} must be optional, no default")

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, self.zh, *self.aliases)

    @property
    def canonical_values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value for _, value in self.choices))


@dataclass(frozen=True)
class Kind:
    name: str  # as typed on the command line: companies, inspector-leave, ...
    zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that identify a row; duplicates reject the file
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return "dir_" + self.name.replace("-", "_")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def canonical_columns(self, frame_columns: object, empty: set[str]) -> list[str]:
        """The columns of the canonical form, in schema order: those of the frame, less
        late ones empty in every row (``empty`` names the frame's all-empty columns)."""
        present = set(frame_columns)  # type: ignore[call-overload]
        return [c.name for c in self.columns if c.name in present
                and not (c.late and c.name in empty)]

    @property
    def sealed_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.sealed)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _enum(*pairs: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(pairs)


YES_NO = _enum(("是", "yes"), ("否", "no"), ("yes", "yes"), ("no", "no"), ("y", "yes"),
               ("n", "no"), ("true", "yes"), ("false", "no"), ("1", "yes"), ("0", "no"),
               ("在岗", "yes"), ("在库", "yes"), ("离岗", "no"))

CATEGORY = _enum(("重点", "key"), ("重点排污单位", "key"), ("一般", "general"),
                 ("一般排污单位", "general"), ("特殊", "special"), ("特殊监管对象", "special"),
                 ("key", "key"), ("general", "general"), ("special", "special"))

STATUS = _enum(("正常", "active"), ("在产", "active"), ("停产", "stopped"), ("关闭", "closed"),
               ("注销", "deregistered"), ("迁出", "moved"), ("破产", "bankrupt"),
               ("active", "active"), ("stopped", "stopped"), ("closed", "closed"),
               ("deregistered", "deregistered"), ("moved", "moved"), ("bankrupt", "bankrupt"))

INSPECTION_KIND = _enum(("双随机", "random"), ("信访", "complaint"), ("专项", "campaign"),
                        ("案件", "case"), ("random", "random"), ("complaint", "complaint"),
                        ("campaign", "campaign"), ("case", "case"),
                        ("地方专项", "local_campaign"), ("local_campaign", "local_campaign"),
                        ("国家专项", "national_campaign"),
                        ("national_campaign", "national_campaign"))

DOC_TYPE = _enum(("报告书", "report"), ("报告表", "form"), ("report", "report"),
                 ("form", "form"))

KINDS: dict[str, Kind] = {}


def _kind(kind: Kind) -> None:
    for k in kind.key:
        kind.column(k)  # raises on a typo
    KINDS[kind.name] = kind


_kind(Kind("companies", "检查对象名录", (
    Column("uscc", "统一社会信用代码", "uscc", required=True),
    Column("name", "企业名称", required=True, aliases=("单位名称",)),
    Column("district", "区县", required=True),
    Column("city", "城市"),
    Column("category", "监管类别", "enum", required=True, choices=CATEGORY),
    Column("industry", "行业"),
    Column("status", "状态", "enum", default="active", choices=STATUS),
    Column("risk", "风险分", "float"),
), key=("uscc",)))

_kind(Kind("inspectors", "执法检查人员名录", (
    Column("badge", "执法证号", required=True),
    Column("name", "姓名", required=True),
    Column("unit", "所属单位", required=True),
    Column("district", "区县", required=True),  # a district, or 全市/all
    Column("city", "城市"),
    Column("active", "在岗", "bool", default="yes", choices=YES_NO),
    Column("capacity", "季度上限", "int"),
    Column("daily_capacity", "每日上限", "int"),
), key=("badge",)))

_kind(Kind("inspector-leave", "执法人员请假", (
    Column("badge", "执法证号", required=True),
    Column("start", "开始日期", "date", required=True),
    Column("end", "结束日期", "date", required=True),
), key=("badge", "start")))

_kind(Kind("conflicts", "回避关系", (
    Column("person", "人员编号", required=True),
    Column("counterpart", "对象", required=True),
    Column("reason", "原因", required=True),
    Column("until", "截止日期", "date"),
), key=("person", "counterpart")))

_kind(Kind("inspections", "检查记录", (
    Column("uscc", "统一社会信用代码", "uscc", required=True),
    Column("date", "检查日期", "date", required=True),
    Column("kind", "检查类型", "enum", required=True, choices=INSPECTION_KIND),
), key=("uscc", "date", "kind")))

_kind(Kind("positive-list", "正面清单", (
    Column("uscc", "统一社会信用代码", "uscc", required=True),
    Column("start", "开始日期", "date", required=True),
    Column("end", "结束日期", "date", required=True),
), key=("uscc", "start")))

_kind(Kind("agencies", "环评编制单位", (
    Column("uscc", "统一社会信用代码", "uscc", required=True),
    Column("name", "单位名称", required=True),
    Column("watch", "重点监督", "bool", default="no", choices=YES_NO),
), key=("uscc",)))

_kind(Kind("projects", "环评审批项目", (
    Column("project_id", "项目编号", required=True),
    Column("name", "项目名称", required=True),
    Column("doc_type", "文件类型", "enum", required=True, choices=DOC_TYPE),
    Column("approved_on", "审批日期", "date", required=True),
    Column("agency_uscc", "编制单位", "uscc", required=True, aliases=("编制单位统一社会信用代码",)),
    Column("developer", "建设单位", required=True),
    Column("industry", "行业", required=True),
    Column("district", "区县"),
    Column("lead_author", "编制主持人", late=True, aliases=("编制主持人姓名",)),
    Column("lead_author_reg", "编制主持人职业资格证书管理号", late=True,
           aliases=("职业资格证书管理号", "主持人证书编号", "lead_author_registration")),
), key=("project_id",)))

_kind(Kind("experts", "评审专家库", (
    Column("expert_id", "专家编号", required=True),
    Column("name", "姓名", required=True),
    Column("specialties", "专业", "list", required=True),
    Column("employer", "工作单位", required=True),
    Column("birth_year", "出生年份", "int"),
    Column("active", "在库", "bool", default="yes", choices=YES_NO),
    Column("phone", "联系电话", late=True, sealed=True, aliases=("手机", "手机号码", "电话")),
), key=("expert_id",)))

_kind(Kind("matters", "随机抽查事项清单", (
    Column("matter_id", "事项编号", required=True, aliases=("编号",)),
    Column("name", "事项名称", required=True, aliases=("抽查事项",)),
    Column("basis", "检查依据", required=True, aliases=("依据", "法律依据")),
    Column("method", "检查方式", required=True, aliases=("抽查方式",)),
    Column("categories", "适用类别", "list", aliases=("监管类别",)),
    Column("industries", "适用行业", "list"),
), key=("matter_id",), description="the list of random-inspection matters: what an "
    "inspection checks and on what legal basis"))

_kind(Kind("employment-history", "专家工作经历", (
    Column("expert_id", "专家编号", required=True),
    Column("employer", "工作单位", required=True),
    Column("start", "开始日期", "date", required=True),
    Column("end", "结束日期", "date"),
), key=("expert_id", "employer", "start")))


# Files that are not directories but records of outcomes, imported against a draw.
# They are parsed like the directories but recorded by their own modules
# (suiji.data.results.record_results, suiji.data.scores.record_scores).
OUTCOME = _enum(("未发现问题", "no_issue"), ("发现问题", "issue_found"),
                ("责令改正", "ordered_to_correct"), ("立案", "case_opened"),
                ("未检查", "not_carried_out"), ("未开展", "not_carried_out"),
                ("no_issue", "no_issue"), ("issue_found", "issue_found"),
                ("ordered_to_correct", "ordered_to_correct"), ("case_opened", "case_opened"),
                ("not_carried_out", "not_carried_out"))

# The four parties that score an expert after a review (沈阳 2023).
PARTY = _enum(("审批部门", "approval"), ("建设单位", "developer"), ("环评单位", "agency"),
              ("编制单位", "agency"), ("技术评估部门", "assessment"), ("技术评估", "assessment"),
              ("approval", "approval"), ("developer", "developer"), ("agency", "agency"),
              ("assessment", "assessment"))
PARTIES = ("approval", "developer", "agency", "assessment")

# The conclusion of a technical review of one document.
CONCLUSION = _enum(("合格", "pass"), ("一般质量问题", "general"), ("严重质量问题", "serious"),
                   ("pass", "pass"), ("general", "general"), ("serious", "serious"))

# An expert's answer to a panel notification (voice/SMS platform).
ANSWER = _enum(("接受", "accept"), ("参加", "accept"), ("拒绝", "decline"), ("不参加", "decline"),
               ("未答复", "no_answer"), ("无应答", "no_answer"), ("accept", "accept"),
               ("decline", "decline"), ("no_answer", "no_answer"))

RECORD_KINDS: dict[str, Kind] = {
    "results": Kind("results", "检查结果", (
        Column("uscc", "统一社会信用代码", "uscc", required=True),
        Column("outcome", "检查结果", "enum", required=True, choices=OUTCOME),
        Column("date", "检查日期", "date"),
        Column("reason", "未检查原因", aliases=("原因", "说明")),
        Column("period", "期次", aliases=("季度",)),
    ), key=("uscc",)),
    # results of task-plan visits (suiji-tasks/1): one row per visit and matter
    "matter-results": Kind("matter-results", "检查结果（按事项）", (
        Column("uscc", "统一社会信用代码", "uscc", required=True),
        Column("matter", "事项编号", required=True, aliases=("matter_id", "检查事项编号")),
        Column("outcome", "检查结果", "enum", required=True, choices=OUTCOME),
        Column("date", "检查日期", "date"),
        Column("reason", "未检查原因", aliases=("原因", "说明")),
        Column("period", "期次", aliases=("季度",)),
    ), key=("uscc", "matter")),
    "scores": Kind("scores", "专家评分", (
        Column("expert_id", "专家编号", required=True),
        Column("project_id", "项目编号", required=True),
        Column("meeting", "会议日期", "date", required=True),
        Column("score", "评分", "float"),
        Column("deduction", "扣分", "float", default="0"),
        Column("note", "说明", aliases=("扣分原因",)),
        Column("party", "打分方", "enum", choices=PARTY, late=True,
               aliases=("评分方", "打分单位")),
    ), key=("expert_id", "project_id", "meeting", "party")),
    "findings": Kind("findings", "技术复核结论", (
        Column("project_id", "项目编号", required=True),
        Column("conclusion", "复核结论", "enum", required=True, choices=CONCLUSION),
        Column("problems", "问题", "list", aliases=("问题项", "质量问题")),
        Column("reviewed_on", "复核日期", "date", required=True),
        Column("signed_off", "把关专家", "list", aliases=("签字专家", "技术评估专家")),
        Column("note", "说明"),
    ), key=("project_id",)),
    "responses": Kind("responses", "专家答复", (
        Column("expert_id", "专家编号", required=True),
        Column("meeting", "会议日期", "date", required=True),
        Column("answer", "答复", "enum", required=True, choices=ANSWER, aliases=("回复",)),
        Column("reason", "原因", aliases=("拒绝原因", "说明")),
        Column("answered_at", "答复时间", aliases=("回复时间",)),
    ), key=("expert_id", "meeting")),
}

ALL_DISTRICTS = ("全市", "all", "全部")
