"""A seeded, realistic fictional city for demos, tests and benchmarks: 江州市.

:func:`generate_city` writes one input file per kind of :data:`suiji.data.schema.KINDS`
with the Chinese headers and Chinese enumeration values a bureau would export:
a company directory of 13 districts and counties, inspectors and their leave,
declared conflicts, this year's past inspections, the positive list, EIA
agencies, the quarter's approved EIA documents, the expert library and the
experts' employment history. Everything comes from ``numpy.random.default_rng(seed)``:
the same arguments give byte-identical files, on any machine, at any time.

The files mimic what arrives in practice: CSV in UTF-8 with a BOM, except the
company directory, which is GB18030 as Excel on Chinese Windows exports it;
or, with ``fmt="xlsx"``, one workbook per kind (dates stay ``YYYY-MM-DD`` text).
Inspection and approval dates fall on weekdays that are not statutory holidays
(``chinese_calendar``; plain weekdays for a year it does not know).

The generator sits beside the layers, not in them: it imports only
:mod:`suiji.data` (the kinds it writes and the USCC check characters of
:mod:`suiji.data.uscc`, so generated codes are valid by the importers' own
definition), and nothing in the core imports it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from suiji.data.schema import KINDS
from suiji.data.uscc import ALPHABET as USCC_ALPHABET
from suiji.data.uscc import check_char, org_check_char

Cell = str | int | float | None
Record = dict[str, Cell]

# --------------------------------------------------------------------------------------
# Check characters: GB 32100-2015 (USCC) and GB 11714-1997 (organisation code)
# --------------------------------------------------------------------------------------

# The check functions are the importers' own (suiji.data.uscc), so generated codes
# are valid by the same definition the importers enforce.
uscc_check_char = check_char
org_code_check_char = org_check_char


_BODY_CHARS = np.array(list(USCC_ALPHABET))
_DIGITS = np.array(list("0123456789"))


def make_uscc(rng: np.random.Generator, division: str, prefix: str = "91") -> str:
    """A random valid USCC registered in ``division`` (6-digit administrative code).

    ``prefix`` is the registration authority and category code: ``91`` an
    enterprise, ``92`` an individual business, ``93`` a farmers' cooperative,
    ``12`` a public institution. The organisation code is, as issued since 2015,
    mostly ``MA`` followed by six characters, otherwise an older all-digit code.
    """
    if len(division) != 6 or not division.isdigit():
        raise ValueError(f"division must be a 6-digit administrative code, got {division!r}")
    if len(prefix) != 2 or any(c not in USCC_ALPHABET for c in prefix):
        raise ValueError(f"prefix must be two USCC characters such as '91', got {prefix!r}")
    if rng.random() < 0.7:
        body = "MA" + "".join(rng.choice(_BODY_CHARS, size=6).tolist())
    else:
        body = "".join(rng.choice(_DIGITS, size=8).tolist())
    first17 = prefix + division + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


# --------------------------------------------------------------------------------------
# The city
# --------------------------------------------------------------------------------------

CITY = "江州市"
CITY_DIVISION = "329900"  # fictional: Jiangsu (32) has no prefecture 99
CITY_UNIT = "江州市生态环境综合行政执法支队"


@dataclass(frozen=True)
class District:
    name: str
    division: str
    weight: float  # share of the city's firms
    county: bool


DISTRICTS: tuple[District, ...] = (
    District("江城区", "329902", 0.11, False),
    District("滨江区", "329903", 0.09, False),
    District("东湖区", "329904", 0.06, False),
    District("西山区", "329905", 0.06, False),
    District("新港区", "329906", 0.12, False),
    District("南浦区", "329911", 0.08, False),
    District("临江县", "329921", 0.09, True),
    District("青阳县", "329922", 0.07, True),
    District("白沙县", "329923", 0.06, True),
    District("石门县", "329924", 0.06, True),
    District("安平县", "329925", 0.07, True),
    District("桃源县", "329926", 0.06, True),
    District("丰源县", "329927", 0.07, True),
)


@dataclass(frozen=True)
class Industry:
    name: str
    weight: float  # share of the directory
    key_factor: float  # relative chance of being a key discharger
    words: tuple[str, ...]  # the trade word in a company name
    projects: tuple[str, ...]  # what its EIA projects build; {n}, {n10}, {n100}: a size
    specialty: str  # the matching expert specialty


INDUSTRIES: tuple[Industry, ...] = (
    Industry("化工", 0.075, 3.0, ("化工", "化学", "精细化工", "新材料"),
             ("年产{n}万吨精细化学品", "年产{n}万吨水性涂料", "年产{n10}吨电子化学品",
              "年产{n}万吨表面活性剂"), "化工"),
    Industry("石化", 0.012, 4.5, ("石化", "石油化工", "炼化"),
             ("年产{n}万吨聚丙烯", "年产{n}万吨芳烃", "年产{n}万吨润滑油"), "石化"),
    Industry("医药", 0.03, 2.0, ("医药", "制药", "药业", "生物医药"),
             ("年产{n}吨原料药", "年产{n}吨医药中间体", "年产{n}亿片固体制剂"), "医药"),
    Industry("冶金", 0.03, 2.5, ("钢铁", "冶金", "金属材料", "铸造"),
             ("年产{n}万吨特种钢", "年产{n}万吨铝合金型材", "年产{n}万吨铸件",
              "年产{n}万吨再生铜"), "冶金"),
    Industry("印刷", 0.06, 0.6, ("印刷", "包装印刷", "彩印"),
             ("年产{n}万件包装印刷品", "年产{n}万平方米彩印纸箱", "年产{n}亿张不干胶标签"),
             "印刷"),
    Industry("涂装", 0.07, 0.8, ("机械", "汽车零部件", "家具", "钢结构"),
             ("年产{n}万套汽车零部件", "年产{n}万吨钢结构件", "年产{n}万套办公家具"), "涂装"),
    Industry("建材", 0.08, 1.0, ("建材", "水泥", "新型建材", "混凝土", "陶瓷"),
             ("年产{n}万立方米商品混凝土", "年产{n}万吨干混砂浆", "年产{n}万平方米陶瓷砖",
              "年产{n}亿块新型墙材"), "建材"),
    Industry("食品加工", 0.10, 0.5, ("食品", "粮油", "酿造", "肉食品"),
             ("年产{n}万吨食用油", "年产{n}万吨调味品", "年产{n}万吨肉制品",
              "年产{n}万吨饮料"), "食品"),
    Industry("纺织", 0.08, 0.8, ("纺织", "印染", "服饰"),
             ("年产{n100}万米印染布", "年产{n100}万米化纤面料", "年产{n100}万件服装"), "纺织"),
    Industry("电镀", 0.03, 3.0, ("电镀", "表面处理", "五金"),
             ("年产{n}万平方米电镀件", "年处理{n100}万件五金件表面处理"), "电镀"),
    Industry("造纸", 0.02, 2.5, ("纸业", "造纸"),
             ("年产{n}万吨瓦楞原纸", "年产{n}万吨生活用纸", "年产{n}万吨文化用纸"), "造纸"),
    Industry("危废处置", 0.01, 5.0, ("环保科技", "固废处置", "再生资源"),
             ("年处置{n}万吨危险废物", "年再生利用{n}万吨废矿物油", "年清洗{n}万只废包装桶"),
             "危废"),
    Industry("畜禽养殖", 0.09, 0.6, ("牧业", "农牧", "养殖", "生态农业"),
             ("年出栏{n}万头生猪养殖", "年出栏{n10}万羽肉鸡养殖", "存栏{n}万羽蛋鸡养殖",
              "存栏{n100}头奶牛养殖"), "畜禽养殖"),
    Industry("污水处理", 0.02, 4.0, ("水务", "水处理", "污水处理"),
             ("{n}万吨/日污水处理厂", "{n}万吨/日工业废水集中处理", "污水处理厂提标改造"),
             "水环境"),
    Industry("采掘", 0.015, 1.5, ("矿业", "石材", "砂石"),
             ("年开采{n10}万吨建筑石料矿", "年开采{n10}万吨石灰石矿", "年加工{n10}万吨砂石"),
             "采掘"),
    Industry("水利水电", 0.005, 1.0, ("水电", "水力发电"),
             ("装机{n}兆瓦水电站增效扩容", "库容{n100}万立方米水库除险加固", "河道综合整治"),
             "水利水电"),
    Industry("机械制造", 0.10, 0.4, ("机械", "精密机械", "装备制造"),
             ("年产{n}万台通用设备", "年产{n100}台套专用装备", "年产{n}万件精密零件"),
             "环境工程"),
    Industry("电子", 0.06, 0.5, ("电子", "光电", "电子科技"),
             ("年产{n}万平方米线路板", "年产{n}亿只电子元件", "年产{n}万套光电组件"),
             "环境工程"),
    Industry("热电", 0.01, 4.0, ("热电", "能源"),
             ("{n}万千瓦热电联产", "{n}×75吨/小时燃气锅炉"), "大气"),
)

INDUSTRY_SPECIALTY: dict[str, str] = {i.name: i.specialty for i in INDUSTRIES}
"""Industry (as in companies and projects) -> the expert specialty that covers it."""

SPECIALTIES: tuple[str, ...] = (
    "化工", "石化", "医药", "冶金", "水利水电", "采掘", "危废", "建材", "印刷", "涂装",
    "纺织", "电镀", "造纸", "食品", "畜禽养殖", "生态", "大气", "水环境", "声环境", "土壤",
    "环境工程",
)
# Cross-cutting specialties an expert often holds besides the main one.
_GENERAL_SPECIALTIES = ("生态", "大气", "水环境", "声环境", "土壤", "环境工程")

# Modifiers of the industry mix by district: the chemical park, the port, the countryside.
_DISTRICT_INDUSTRY_BOOST: dict[str, dict[str, float]] = {
    "新港区": {"化工": 4.0, "石化": 6.0, "危废处置": 3.0, "热电": 2.0, "畜禽养殖": 0.1},
    "滨江区": {"医药": 3.0, "电子": 2.0, "畜禽养殖": 0.2},
    "江城区": {"印刷": 2.0, "食品加工": 1.5, "电子": 1.5, "畜禽养殖": 0.05, "采掘": 0.1},
    "东湖区": {"电子": 2.0, "机械制造": 1.5, "畜禽养殖": 0.2},
    "南浦区": {"电镀": 3.0, "涂装": 2.0, "机械制造": 1.5},
    "西山区": {"冶金": 3.0, "建材": 2.0, "采掘": 2.0},
    "石门县": {"采掘": 5.0, "建材": 2.0, "水利水电": 4.0},
    "桃源县": {"畜禽养殖": 2.5, "食品加工": 1.5, "水利水电": 3.0},
    "青阳县": {"纺织": 3.0, "畜禽养殖": 1.5},
    "白沙县": {"造纸": 3.0, "畜禽养殖": 2.0},
}

_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱",
             "胡", "郭", "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯",
             "邓", "曹", "彭", "曾", "肖", "田", "董", "潘", "袁", "蒋", "蔡", "余", "杜", "叶",
             "程", "魏", "苏", "吕", "丁", "任", "沈", "姚", "卢", "钱", "陆", "顾", "缪", "戴")
_SURNAME_WEIGHTS = np.array([1.0 / (1 + i) ** 0.6 for i in range(len(_SURNAMES))])
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
          "涛", "明", "超", "秀", "霞", "平", "刚", "桂", "华", "建", "国", "文", "海", "亮",
          "红", "玲", "峰", "斌", "辉", "鹏", "宇", "浩", "凯", "晨", "雪", "琳", "婷", "欣",
          "志", "俊", "健", "波", "宁", "颖", "倩", "晓", "春", "梅", "林", "云", "飞", "鑫",
          "雯", "佳", "毅", "昊", "瑞", "思", "嘉", "子", "一", "小", "永", "德", "荣", "兰")

_BRAND_FIRST = ("恒", "宏", "华", "金", "鑫", "永", "德", "嘉", "天", "瑞", "国", "中", "盛",
                "昌", "兴", "鼎", "博", "腾", "润", "海", "东", "长", "宝", "荣", "新", "佳",
                "万", "富", "泰", "丰", "江", "明", "光", "正", "远", "广")
_BRAND_SECOND = ("达", "盛", "源", "兴", "润", "丰", "远", "泰", "鑫", "信", "诚", "成", "华",
                 "利", "昌", "发", "隆", "瑞", "通", "宇", "辉", "晟", "康", "安", "和", "祥",
                 "益", "嘉", "锦", "森", "邦", "峰")
_COMPANY_SUFFIXES = ("有限公司", "股份有限公司", "有限责任公司")
_COMPANY_SUFFIX_P = np.array([0.80, 0.12, 0.08])

_CATEGORY_ZH = ("重点", "一般", "特殊")
_STATUS_ZH = ("正常", "停产", "关闭", "注销", "迁出")
_STATUS_P = np.array([0.91, 0.04, 0.025, 0.015, 0.01])

_AGENCY_PLACES: dict[str, tuple[str, ...]] = {
    "江苏": ("320102", "320104", "320105", "320106", "320111", "320115", "320505", "320214"),
    "南京": ("320102", "320105", "320115"),
    "苏州": ("320505", "320506"),
    "上海": ("310104", "310112", "310115"),
    "浙江": ("330106", "330108", "330110"),
    "安徽": ("340104", "340111"),
    "江州": ("329900", "329902", "329906"),
}
_AGENCY_PLACE_P = np.array([0.50, 0.10, 0.06, 0.08, 0.07, 0.05, 0.14])
_AGENCY_FIRST = ("绿", "蓝", "清", "碧", "青", "净", "洁", "环", "润", "天", "科", "博", "嘉",
                 "华", "瑞", "中", "新", "源", "益", "春")
_AGENCY_SECOND = ("源", "天", "洲", "水", "山", "宇", "景", "环", "清", "润", "泽", "境", "和",
                  "禾", "蓝", "恒", "诚", "创")
_AGENCY_WORDS = ("环境科技", "环保科技", "环境工程", "环境咨询", "环保技术", "环境技术咨询",
                 "生态环境科技", "环境规划设计")

_INSTITUTIONS = (
    "江州大学环境与化学工程学院", "江州职业技术学院", "南京大学环境学院", "河海大学环境学院",
    "东南大学能源与环境学院", "南京工业大学环境科学与工程学院", "江苏大学环境与安全工程学院",
    "江苏省环境科学研究院", "江苏省环境监测中心", "江州市环境监测中心站",
    "江州市环境科学研究所", "江州市水利勘测设计研究院", "江州市城市规划设计研究院",
    "江苏省化工设计院有限公司", "中石化南京工程有限公司",
    "中国电建集团华东勘测设计研究院有限公司", "江苏省地质调查研究院", "江州市农业科学院",
    "江苏省建筑科学研究院有限公司", "江州市固体废物管理中心",
)

_INSPECTOR_REASONS = ("亲属任职", "曾任职", "利害关系", "近亲属持股")
_INSPECTOR_REASON_P = np.array([0.45, 0.15, 0.25, 0.15])
_EXPERT_REASONS = ("曾任职", "亲属任职", "参与编制", "利害关系", "近亲属持股")
_EXPERT_REASON_P = np.array([0.35, 0.2, 0.2, 0.15, 0.1])

# Share of each category's eligible firms inspected at random per past quarter.
_RANDOM_RATE = {"重点": 0.23, "一般": 0.03, "特殊": 0.25}


def _quarter_bounds(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    """Monday to Friday in ``[start, end]``, less the statutory holidays when the
    installed ``chinese_calendar`` knows the year (otherwise every weekday)."""
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    weekdays = [d for d in days if d.weekday() < 5]
    try:
        import chinese_calendar

        return [d for d in weekdays if not chinese_calendar.is_holiday(d)]
    except (ImportError, NotImplementedError):
        return weekdays


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _pick(rng: np.random.Generator, items: Sequence[str], p: np.ndarray | None = None) -> str:
    return items[int(rng.choice(len(items), p=p))]


class _Names:
    """Draws Chinese personal names."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()

    def draw(self, n: int) -> list[str]:
        surnames = self.rng.choice(len(_SURNAMES), size=n, p=self.p)
        lengths = self.rng.choice([1, 2], size=n, p=[0.3, 0.7])
        given = self.rng.choice(len(_GIVEN), size=(n, 2))
        return [_SURNAMES[s] + "".join(_GIVEN[g] for g in given[i, :length])
                for i, (s, length) in enumerate(zip(surnames, lengths, strict=True))]


def _unique(draw: Callable[[], str], taken: set[str], what: str) -> str:
    for _ in range(10_000):
        value = draw()
        if value not in taken:
            taken.add(value)
            return value
    raise RuntimeError(f"could not draw a new {what}: the name space is exhausted")


def _company_name(rng: np.random.Generator, district: District, industry: Industry) -> str:
    first = _BRAND_FIRST[int(rng.integers(len(_BRAND_FIRST)))]
    second = _BRAND_SECOND[int(rng.integers(len(_BRAND_SECOND)))]
    if first == second:
        second = "达" if first != "达" else "盛"
    word = industry.words[int(rng.integers(len(industry.words)))]
    style = rng.random()
    if style < 0.35:
        place = CITY
    elif style < 0.60:
        place = CITY + district.name
    elif style < 0.85:
        place = district.name
    else:
        place = CITY.removesuffix("市")
    return place + first + second + word + _pick(rng, _COMPANY_SUFFIXES, _COMPANY_SUFFIX_P)


def _coop_name(rng: np.random.Generator, district: District) -> str:
    village = _BRAND_FIRST[int(rng.integers(len(_BRAND_FIRST)))] + _pick(
        rng, ("家", "庄", "桥", "湾", "岗", "河", "坝", "村", "塘", "圩"))
    trade = _pick(rng, ("畜禽养殖", "生猪养殖", "家禽养殖", "肉牛养殖"))
    return f"{district.name}{village}{trade}专业合作社"


# --------------------------------------------------------------------------------------
# The kinds, one function each
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Firm:
    uscc: str
    name: str
    district: District
    industry: Industry
    category: str
    status: str


def _companies(rng: np.random.Generator, n: int, taken_usccs: set[str]
               ) -> tuple[list[_Firm], list[Record], set[str]]:
    district_p = np.array([d.weight for d in DISTRICTS])
    district_idx = rng.choice(len(DISTRICTS), size=n, p=district_p / district_p.sum())
    base = np.array([i.weight for i in INDUSTRIES])
    factor = np.array([i.key_factor for i in INDUSTRIES])
    p_key = np.minimum(0.12 * factor / float((base / base.sum()) @ factor), 0.85)
    industry_idx = np.empty(n, dtype=np.int64)
    for d, district in enumerate(DISTRICTS):
        members = np.flatnonzero(district_idx == d)
        boost = _DISTRICT_INDUSTRY_BOOST.get(district.name, {})
        w = base * np.array([boost.get(i.name, 1.0) for i in INDUSTRIES])
        if district.county:
            w = w * np.array([2.0 if i.name in ("畜禽养殖", "食品加工") else 1.0
                              for i in INDUSTRIES])
        industry_idx[members] = rng.choice(len(INDUSTRIES), size=len(members), p=w / w.sum())
    u = rng.random(n)
    key_p = p_key[industry_idx]
    category_idx = np.where(u < key_p, 0, np.where(u < key_p + 0.05, 2, 1))
    status_idx = rng.choice(len(_STATUS_ZH), size=n, p=_STATUS_P)
    has_risk = rng.random(n) < 0.65
    risk_mean = np.array([58.0, 34.0, 62.0])[category_idx]
    risk = np.clip(rng.normal(risk_mean, 16.0), 1.0, 100.0).round(1)
    city_registered = rng.random(n) < 0.15
    coop = rng.random(n) < 0.2

    firms: list[_Firm] = []
    records: list[Record] = []
    names: set[str] = set()
    for i in range(n):
        district = DISTRICTS[int(district_idx[i])]
        industry = INDUSTRIES[int(industry_idx[i])]
        division = CITY_DIVISION if city_registered[i] else district.division
        prefix = "91"
        if industry.name == "畜禽养殖" and coop[i]:
            prefix = "93"
            name = _unique(partial(_coop_name, rng, district), names, "cooperative name")
        else:
            name = _unique(partial(_company_name, rng, district, industry), names,
                           "company name")
        uscc = _unique(partial(make_uscc, rng, division, prefix), taken_usccs, "USCC")
        firm = _Firm(uscc, name, district, industry, _CATEGORY_ZH[int(category_idx[i])],
                     _STATUS_ZH[int(status_idx[i])])
        firms.append(firm)
        records.append({"uscc": uscc, "name": name, "district": district.name, "city": CITY,
                        "category": firm.category, "industry": industry.name,
                        "status": firm.status,
                        "risk": float(risk[i]) if has_risk[i] else None})
    return firms, records, names


def _positive_list(rng: np.random.Generator, firms: Sequence[_Firm], period_start: dt.date,
                   period_end: dt.date) -> tuple[list[Record], dict[str, tuple[dt.date, dt.date]]]:
    candidates = [i for i, f in enumerate(firms) if f.status == "正常" and f.category != "特殊"]
    k = min(len(candidates), round(0.03 * len(firms)))
    chosen = sorted(int(i) for i in rng.choice(candidates, size=k, replace=False))
    windows: dict[str, tuple[dt.date, dt.date]] = {}
    records: list[Record] = []
    for i in chosen:
        u = rng.random()
        if u < 0.85:  # listed within the last three years: covers the period's first day
            start = period_start - dt.timedelta(days=int(rng.integers(0, 3 * 365 - 30)))
        elif u < 0.93:  # expired before the period
            start = period_start - dt.timedelta(days=int(rng.integers(3 * 365 + 5, 5 * 365)))
        else:  # listed during the period
            start = period_start + dt.timedelta(
                days=int(rng.integers(1, (period_end - period_start).days)))
        end = _shift_years(start, 3) - dt.timedelta(days=1)
        windows[firms[i].uscc] = (start, end)
        records.append({"uscc": firms[i].uscc, "start": start.isoformat(),
                        "end": end.isoformat()})
    return records, windows


def _inspections(rng: np.random.Generator, firms: Sequence[_Firm], year: int, quarter: int,
                 listed: dict[str, tuple[dt.date, dt.date]]) -> list[Record]:
    if quarter == 1:
        return []
    past_start = dt.date(year, 1, 1)
    past_end = _quarter_bounds(year, quarter - 1)[1]
    all_days = _weekdays(past_start, past_end)
    seen: set[tuple[str, str, str]] = set()
    rows: list[tuple[str, str, str]] = []

    def add(uscc: str, day: dt.date, kind: str) -> None:
        row = (uscc, day.isoformat(), kind)
        if row not in seen:
            seen.add(row)
            rows.append(row)

    # Routine double-random inspections, at most one per firm and year.
    def was_listed(uscc: str) -> bool:
        window = listed.get(uscc)
        return window is not None and window[0] <= past_end and window[1] >= past_start

    eligible = [f for f in firms if f.status in ("正常", "停产") and not was_listed(f.uscc)]
    remaining = {cat: [f.uscc for f in eligible if f.category == cat] for cat in _CATEGORY_ZH}
    sizes = {cat: len(ids) for cat, ids in remaining.items()}
    for q in range(1, quarter):
        days = _weekdays(*_quarter_bounds(year, q))
        for cat in _CATEGORY_ZH:
            pool = remaining[cat]
            k = min(len(pool), round(_RANDOM_RATE[cat] * sizes[cat] * rng.uniform(0.95, 1.08)))
            picked = set(rng.choice(len(pool), size=k, replace=False).tolist())
            for j in sorted(picked):
                add(pool[j], days[int(rng.integers(len(days)))], "双随机")
            remaining[cat] = [u for j, u in enumerate(pool) if j not in picked]

    # Complaint- and case-driven checks, and one campaign on chemicals and hazardous waste.
    live = [f for f in firms if f.status in ("正常", "停产", "关闭")]
    share = (quarter - 1) / 4
    for kind, rate in (("信访", 0.02), ("案件", 0.006)):
        k = min(len(live), round(rate * share * len(firms)))
        for j in sorted(rng.choice(len(live), size=k, replace=False).tolist()):
            add(live[j].uscc, all_days[int(rng.integers(len(all_days)))], kind)
    if quarter > 2:
        campaign_days = _weekdays(dt.date(year, 5, 11), dt.date(year, 6, 5))
        targets = [f for f in live if f.industry.name in ("化工", "石化", "危废处置")]
        k = round(0.15 * len(targets))
        for j in sorted(rng.choice(len(targets), size=k, replace=False).tolist()):
            add(targets[j].uscc, campaign_days[int(rng.integers(len(campaign_days)))], "专项")
    rows.sort(key=lambda r: (r[1], r[0], r[2]))
    return [{"uscc": u, "date": d, "kind": k} for u, d, k in rows]


@dataclass(frozen=True)
class _Inspector:
    badge: str
    district: str  # a district name, or 全市


def _inspectors(rng: np.random.Generator, n: int, firms: Sequence[_Firm]
                ) -> tuple[list[_Inspector], list[Record]]:
    minimum = 2 * (len(DISTRICTS) + 1)
    if n < minimum:
        raise ValueError(f"inspectors must be at least {minimum} (two per district and two "
                         f"city-level), got {n}")
    city_n = max(2, round(0.125 * n))
    rest = n - city_n
    base = min(8, rest // len(DISTRICTS))
    counts = np.full(len(DISTRICTS), base)
    extra = rest - base * len(DISTRICTS)
    per_district = Counter(f.district.name for f in firms)
    firm_share = np.array([per_district[d.name] for d in DISTRICTS], dtype=float)
    firm_share /= firm_share.sum()
    quota = extra * firm_share
    counts += np.floor(quota).astype(np.int64)
    for d in np.argsort(-(quota - np.floor(quota)), kind="stable")[:rest - int(counts.sum())]:
        counts[d] += 1
    plan = [("全市", CITY_UNIT, city_n)] + [
        (d.name, f"{CITY}生态环境局{d.name}分局", int(c)) for d, c in zip(DISTRICTS, counts,
                                                                    strict=True)]
    badges = (rng.choice(90_000_000, size=n, replace=False) + 10_000_000).tolist()
    names = _Names(rng).draw(n)
    active = rng.random(n) < 0.95
    capacity = rng.integers(20, 41, size=n)
    daily = rng.choice([2, 3], size=n, p=[0.7, 0.3])
    inspectors: list[_Inspector] = []
    records: list[Record] = []
    i = 0
    for district, unit, count in plan:
        for _ in range(count):
            badge = f"JZ{badges[i]:08d}"
            inspectors.append(_Inspector(badge, district))
            records.append({"badge": badge, "name": names[i], "unit": unit,
                            "district": district, "city": CITY,
                            "active": "是" if active[i] else "否",
                            "capacity": int(capacity[i]), "daily_capacity": int(daily[i])})
            i += 1
    return inspectors, records


def _leave(rng: np.random.Generator, inspectors: Sequence[_Inspector], period_start: dt.date,
           period_end: dt.date) -> list[Record]:
    n = round(0.25 * len(inspectors))
    length = (period_end - period_start).days + 1
    spells: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for _ in range(20 * n):
        if sum(len(s) for s in spells.values()) >= n:
            break
        badge = inspectors[int(rng.integers(len(inspectors)))].badge
        start = period_start + dt.timedelta(days=int(rng.integers(length)))
        u = rng.random()
        days = int(rng.integers(1, 6) if u < 0.7 else rng.integers(6, 15) if u < 0.95
                   else rng.integers(15, 31))
        end = min(start + dt.timedelta(days=days - 1), period_end)
        if any(s <= end and start <= e for s, e in spells.get(badge, [])):
            continue
        spells.setdefault(badge, []).append((start, end))
    rows = sorted((badge, s, e) for badge, ss in spells.items() for s, e in ss)
    return [{"badge": b, "start": s.isoformat(), "end": e.isoformat()} for b, s, e in rows]


@dataclass(frozen=True)
class _Agency:
    uscc: str
    name: str
    weight: float


def _agencies(rng: np.random.Generator, n: int, taken_usccs: set[str]
              ) -> tuple[list[_Agency], list[Record]]:
    places = tuple(_AGENCY_PLACES)
    names: set[str] = set()

    def name(place: str) -> str:
        first = _AGENCY_FIRST[int(rng.integers(len(_AGENCY_FIRST)))]
        second = _AGENCY_SECOND[int(rng.integers(len(_AGENCY_SECOND)))]
        if first == second:
            second = "源" if first != "源" else "天"
        return (place + first + second + _pick(rng, _AGENCY_WORDS)
                + ("股份有限公司" if rng.random() < 0.08 else "有限公司"))

    agencies: list[_Agency] = []
    weights = rng.lognormal(0.0, 1.1, size=n)
    for i in range(n):
        place = _pick(rng, places, _AGENCY_PLACE_P)
        division = _pick(rng, _AGENCY_PLACES[place])
        agency_name = _unique(partial(name, place), names, "agency name")
        uscc = _unique(partial(make_uscc, rng, division), taken_usccs, "USCC")
        agencies.append(_Agency(uscc, agency_name, float(weights[i])))
    k = max(1, round(0.1 * n))
    w = np.array([a.weight for a in agencies])
    watch = set(rng.choice(n, size=min(k, n), replace=False, p=w / w.sum()).tolist())
    records: list[Record] = [{"uscc": a.uscc, "name": a.name, "watch": "是" if i in watch
                              else "否"} for i, a in enumerate(agencies)]
    return agencies, records


def _projects(rng: np.random.Generator, n: int, year: int, period_start: dt.date,
              period_end: dt.date, firms: Sequence[_Firm], agencies: Sequence[_Agency],
              company_names: set[str]) -> list[Record]:
    weights = np.array([i.weight * i.key_factor ** 0.7 for i in INDUSTRIES])
    industry_idx = rng.choice(len(INDUSTRIES), size=n, p=weights / weights.sum())
    agency_w = np.array([a.weight for a in agencies])
    agency_idx = rng.choice(len(agencies), size=n, p=agency_w / agency_w.sum())
    report_w = np.array([INDUSTRIES[i].key_factor for i in industry_idx])
    reports = set(rng.choice(n, size=round(0.25 * n), replace=False,
                             p=report_w / report_w.sum()).tolist())
    days = _weekdays(period_start, period_end)
    approved = np.sort(rng.integers(len(days), size=n))
    by_industry: dict[str, list[_Firm]] = {}
    for f in firms:
        if f.status == "正常" and not f.name.endswith("合作社"):
            by_industry.setdefault(f.industry.name, []).append(f)
    district_p = np.array([d.weight for d in DISTRICTS])
    district_p = district_p / district_p.sum()
    records: list[Record] = []
    for j in range(n):
        industry = INDUSTRIES[int(industry_idx[j])]
        pool = by_industry.get(industry.name, [])
        if pool and rng.random() < 0.7:
            firm = pool[int(rng.integers(len(pool)))]
            developer, district = firm.name, firm.district
        else:
            district = DISTRICTS[int(rng.choice(len(DISTRICTS), p=district_p))]
            developer = _unique(partial(_company_name, rng, district, industry),
                                company_names, "developer name")
        amount = int(rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30]))
        what = _pick(rng, industry.projects).format(n=amount, n10=10 * amount, n100=100 * amount)
        if industry.name in ("污水处理", "水利水电"):
            title = what + "工程"
        else:
            title = what + _pick(rng, ("", "", "扩建", "技术改造", "迁建")) + "项目"
        records.append({"project_id": f"JZHP-{year}-{j + 1:04d}",
                        "name": developer + title,
                        "doc_type": "报告书" if j in reports else "报告表",
                        "approved_on": days[int(approved[j])].isoformat(),
                        "agency_uscc": agencies[int(agency_idx[j])].uscc,
                        "developer": developer, "industry": industry.name,
                        "district": district.name})
    return records


@dataclass(frozen=True)
class _Expert:
    expert_id: str
    employer: str


def _experts(rng: np.random.Generator, n: int, period_start: dt.date,
             agencies: Sequence[_Agency], firms: Sequence[_Firm]
             ) -> tuple[list[_Expert], list[Record], list[Record]]:
    names = _Names(rng).draw(n)
    birth = rng.integers(period_start.year - 71, period_start.year - 35, size=n)
    active = rng.random(n) < 0.92
    primary = rng.permutation(n) % len(SPECIALTIES)
    n_extra = rng.choice([0, 1, 2], size=n, p=[0.3, 0.45, 0.25])
    agency_w = np.array([a.weight for a in agencies])
    agency_p = agency_w / agency_w.sum()
    key_firms = [f.name for f in firms if f.category == "重点" and f.status == "正常"]
    agency_names = {a.name for a in agencies}

    def employer_of(agency_share: float, firm_share: float) -> str:
        u = rng.random()
        if u < agency_share:
            return agencies[int(rng.choice(len(agencies), p=agency_p))].name
        if u < agency_share + firm_share and key_firms:
            return key_firms[int(rng.integers(len(key_firms)))]
        return _INSTITUTIONS[int(rng.integers(len(_INSTITUTIONS)))]

    experts: list[_Expert] = []
    records: list[Record] = []
    history: list[Record] = []
    for i in range(n):
        expert_id = f"ZJ{i + 1:04d}"
        main = SPECIALTIES[int(primary[i])]
        others = [s for s in _GENERAL_SPECIALTIES if s != main]
        extra = rng.choice(len(others), size=int(n_extra[i]), replace=False).tolist()
        specialties = [main] + [others[k] for k in sorted(extra)]
        employer = employer_of(0.15, 0.05)
        experts.append(_Expert(expert_id, employer))
        records.append({"expert_id": expert_id, "name": names[i],
                        "specialties": "、".join(specialties), "employer": employer,
                        "birth_year": int(birth[i]), "active": "是" if active[i] else "否"})

        # Career: 1-3 past employers, then the current one (open-ended).
        career = dt.date(int(birth[i]) + int(rng.integers(22, 28)), 9, 1)
        recent_agency = employer not in agency_names and rng.random() < 0.15
        latest = (period_start - dt.timedelta(days=30)).toordinal()
        if recent_agency:
            current = period_start - dt.timedelta(days=int(rng.integers(60, 3 * 365 - 30)))
        else:
            low = min(career.toordinal() + 2 * 365, latest)
            current = dt.date.fromordinal(int(rng.integers(low, latest + 1)))
        current = current.replace(day=1)
        k = int(rng.integers(1, 4))
        cuts = sorted({dt.date.fromordinal(int(c)).replace(day=1) for c in rng.integers(
            career.toordinal() + 200, max(current.toordinal() - 200,
                                          career.toordinal() + 201), size=k - 1)})
        starts = [career] + [c for c in cuts if career < c < current]
        past: list[str] = []
        for j in range(len(starts)):
            last = j == len(starts) - 1
            if last and recent_agency:
                candidate = agencies[int(rng.choice(len(agencies), p=agency_p))].name
            else:
                candidate = employer_of(0.0, 0.0) if j == 0 else employer_of(0.25, 0.1)
            for _ in range(10):
                if candidate != employer and (not past or candidate != past[-1]):
                    break
                candidate = _INSTITUTIONS[int(rng.integers(len(_INSTITUTIONS)))]
            past.append(candidate)
        ends = starts[1:] + [current]
        for employer_j, start, nxt in zip(past, starts, ends, strict=True):
            history.append({"expert_id": expert_id, "employer": employer_j,
                            "start": start.isoformat(),
                            "end": (nxt - dt.timedelta(days=1)).isoformat()})
        history.append({"expert_id": expert_id, "employer": employer,
                        "start": current.isoformat(), "end": None})
    return experts, records, history


def _conflicts(rng: np.random.Generator, inspectors: Sequence[_Inspector],
               firms: Sequence[_Firm], experts: Sequence[_Expert],
               agencies: Sequence[_Agency], developers: Sequence[str],
               period_start: dt.date) -> list[Record]:
    rows: dict[tuple[str, str], Record] = {}
    by_district: dict[str, list[_Firm]] = {}
    for f in firms:
        by_district.setdefault(f.district.name, []).append(f)
    everyone = list(firms)

    def until_date(reason: str, share: float) -> str | None:
        if reason != "曾任职" and rng.random() >= share:
            return None
        return (period_start + dt.timedelta(days=int(rng.integers(-200, 3 * 365)))).isoformat()

    target = round(0.375 * len(inspectors))
    for _ in range(20 * target):
        if len(rows) >= target:
            break
        inspector = inspectors[int(rng.integers(len(inspectors)))]
        pool = by_district.get(inspector.district) or everyone
        firm = pool[int(rng.integers(len(pool)))]
        reason = _pick(rng, _INSPECTOR_REASONS, _INSPECTOR_REASON_P)
        rows.setdefault((inspector.badge, firm.uscc), {
            "person": inspector.badge, "counterpart": firm.uscc, "reason": reason,
            "until": until_date(reason, 0.05)})

    target = len(rows) + round(0.18 * len(experts))
    for _ in range(20 * target):
        if len(rows) >= target:
            break
        expert = experts[int(rng.integers(len(experts)))]
        if developers and rng.random() < 0.5:
            counterpart = developers[int(rng.integers(len(developers)))]
        else:
            counterpart = agencies[int(rng.integers(len(agencies)))].uscc
        reason = _pick(rng, _EXPERT_REASONS, _EXPERT_REASON_P)
        rows.setdefault((expert.expert_id, counterpart), {
            "person": expert.expert_id, "counterpart": counterpart, "reason": reason,
            "until": until_date(reason, 0.25)})
    return [rows[k] for k in sorted(rows)]


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

# The sample bureau's list of random-inspection matters (随机抽查事项清单): fixed, not drawn.
_MATTERS: tuple[Record, ...] = tuple(
    {"matter_id": m, "name": n, "basis": b, "method": w, "categories": c, "industries": i}
    for m, n, b, w, c, i in (
        ("HB-01", "排污许可制度执行情况", "《排污许可管理条例》第十七条至第二十二条",
         "现场检查、查阅台账", "重点、一般", ""),
        ("HB-02", "污染防治设施运行情况", "《中华人民共和国环境保护法》第四十二条",
         "现场检查", "", ""),
        ("HB-03", "自动监测设施运行及数据传输情况", "《排污许可管理条例》第二十条",
         "现场检查、核查数据", "重点", ""),
        ("HB-04", "危险废物规范化环境管理情况",
         "《中华人民共和国固体废物污染环境防治法》第七十七条至第八十一条",
         "现场检查、查阅转移联单", "", ""),
        ("HB-05", "建设项目环境保护“三同时”落实情况",
         "《建设项目环境保护管理条例》第十五条至第十九条",
         "现场检查、查阅验收材料", "", ""),
        ("HB-06", "挥发性有机物污染防治情况",
         "《中华人民共和国大气污染防治法》第四十五条至第四十八条",
         "现场检查、快速检测", "", "化工、石化、印刷、涂装、医药"),
        ("HB-07", "突发环境事件风险防控及应急预案落实情况",
         "《突发环境事件应急管理办法》第六条至第十条",
         "现场检查、查阅预案", "重点、特殊", ""),
        ("HB-08", "特殊监管要求及问题整改落实情况", "《中华人民共和国环境保护法》第二十四条",
         "现场检查、核查整改材料", "特殊", ""),
    ))

_ENCODINGS = {"companies": "gb18030"}  # as Excel exports on Chinese Windows


def _rows(kind: str, records: Iterable[Record]) -> tuple[list[str], list[list[Cell]]]:
    # late columns (lead authors, phones) only in the review loop's own files
    columns = [c for c in KINDS[kind].columns if not c.late]
    return ([c.zh for c in columns],
            [[record.get(c.name) for c in columns] for record in records])


def _write_csv(path: Path, header: list[str], rows: list[list[Cell]], encoding: str) -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def _write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list[Cell]],
                stamp: dt.datetime) -> None:
    from openpyxl import Workbook
    from openpyxl.xml.functions import tostring

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    # openpyxl stamps the save time into docProps/core.xml and every zip entry: pin both.
    wb.properties.creator = "suiji"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    core = tostring(wb.properties.to_tree())
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    path.write_bytes(out.getvalue())


def generate_city(out_dir: Path, seed: int = 2026, year: int = 2026, quarter: int = 4,
                  firms: int = 10_000, inspectors: int = 160, projects: int = 420,
                  agencies: int = 45, experts: int = 220, fmt: str = "csv") -> dict[str, Path]:
    """Write the input files of the fictional city 江州市 for ``year`` Q``quarter``.

    Returns kind name -> written file (``<kind>.csv`` or ``<kind>.xlsx``), in the
    order of :data:`~suiji.data.schema.KINDS`. The same arguments always give
    byte-identical files. ``out_dir`` is created if missing; existing files of
    the same names are overwritten.

    Example::

        paths = generate_city(Path("demo"), seed=7)
        paths["companies"]  # demo/companies.csv, GB18030, 10,000 firms
    """
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"fmt must be 'csv' or 'xlsx', got {fmt!r}")
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1, 2, 3 or 4, got {quarter}")
    if not 1990 <= year <= 2100:
        raise ValueError(f"year must be between 1990 and 2100, got {year}")
    for what, value in (("firms", firms), ("projects", projects), ("agencies", agencies),
                        ("experts", experts)):
        if value < 1:
            raise ValueError(f"{what} must be at least 1, got {value}")

    rng = np.random.default_rng(seed)
    period_start, period_end = _quarter_bounds(year, quarter)
    usccs: set[str] = set()
    firm_list, company_records, company_names = _companies(rng, firms, usccs)
    positive, listed = _positive_list(rng, firm_list, period_start, period_end)
    history = _inspections(rng, firm_list, year, quarter, listed)
    inspector_list, inspector_records = _inspectors(rng, inspectors, firm_list)
    leave = _leave(rng, inspector_list, period_start, period_end)
    agency_list, agency_records = _agencies(rng, agencies, usccs)
    project_records = _projects(rng, projects, year, period_start, period_end, firm_list,
                                agency_list, company_names)
    expert_list, expert_records, employment = _experts(rng, experts, period_start,
                                                       agency_list, firm_list)
    developers = sorted({str(p["developer"]) for p in project_records})
    conflicts = _conflicts(rng, inspector_list, firm_list, expert_list, agency_list,
                           developers, period_start)

    tables: dict[str, list[Record]] = {
        "companies": company_records, "inspectors": inspector_records,
        "inspector-leave": leave, "conflicts": conflicts, "inspections": history,
        "positive-list": positive, "agencies": agency_records, "projects": project_records,
        "experts": expert_records, "employment-history": employment,
        "matters": list(_MATTERS),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.combine(period_start, dt.time())
    written: dict[str, Path] = {}
    for kind in KINDS:
        header, rows = _rows(kind, tables[kind])
        path = out_dir / f"{kind}.{fmt}"
        if fmt == "csv":
            _write_csv(path, header, rows, _ENCODINGS.get(kind, "utf-8-sig"))
        else:
            _write_xlsx(path, KINDS[kind].zh, header, rows, stamp)
        written[kind] = path
    return written
