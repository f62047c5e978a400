"""The demo city generator: determinism, sizes, encodings, headers and valid USCCs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suiji.data.schema import KINDS, Column
from suiji.data.uscc import is_valid_uscc
from suiji.sample.generate import (
    DISTRICTS,
    USCC_ALPHABET,
    generate_city,
    make_uscc,
    org_code_check_char,
    uscc_check_char,
)

REAL_USCCS = ("91350100M000100Y43", "91110000802100433B")
SMALL = {"firms": 600, "inspectors": 40, "projects": 50, "agencies": 8, "experts": 30}
Q4_START = dt.date(2026, 10, 1)
Q4_END = dt.date(2026, 12, 31)


def read(path: Path) -> list[dict[str, str]]:
    encoding = "gb18030" if path.stem == "companies" else "utf-8-sig"
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def header(path: Path) -> list[str]:
    encoding = "gb18030" if path.stem == "companies" else "utf-8-sig"
    with path.open(encoding=encoding, newline="") as f:
        return next(csv.reader(f))


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_city(tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def rows(city: dict[str, Path]) -> dict[str, list[dict[str, str]]]:
    return {kind: read(path) for kind, path in city.items()}


# --- check characters ------------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_USCCS)
def test_check_chars_accept_real_uscc(code: str) -> None:
    assert uscc_check_char(code[:17]) == code[17]
    assert org_code_check_char(code[8:16]) == code[16]
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", REAL_USCCS)
def test_any_one_character_change_is_rejected(code: str) -> None:
    for position in range(18):
        for char in USCC_ALPHABET:
            if char == code[position]:
                continue
            changed = code[:position] + char + code[position + 1:]
            assert not is_valid_uscc(changed, check_org_code=False), changed
            if position < 17:
                assert uscc_check_char(changed[:17]) != code[17]


def test_org_code_check_char_by_hand() -> None:
    # 8*3 + 0*7 + 2*9 + 1*10 + 0*5 + 0*8 + 4*4 + 3*2 = 74; 11 - 74 % 11 = 3
    assert org_code_check_char("80210043") == "3"
    # M=22: 22*3 + 1*5 + 34*2 = 139; 11 - 139 % 11 = 4
    assert org_code_check_char("M000100Y") == "4"
    assert org_code_check_char("00000000") == "0"  # 11 -> 0
    assert org_code_check_char("00000001") == "9"
    assert org_code_check_char("00000005") == "1"
    assert org_code_check_char("40000000") == "X"  # 4*3 = 12: 11 - 1 = 10 -> X
    assert org_code_check_char("00000600") == "7"  # 6*8 = 48: 11 - 4 = 7


def test_org_code_one_digit_change_is_rejected() -> None:
    body = "80210043"
    for position in range(8):
        for digit in "0123456789":
            if digit != body[position]:
                changed = body[:position] + digit + body[position + 1:]
                assert org_code_check_char(changed) != "3", changed


def test_check_chars_reject_malformed_input() -> None:
    with pytest.raises(ValueError, match="17"):
        uscc_check_char("9135010")
    with pytest.raises(ValueError, match="cannot contain"):
        uscc_check_char("91350100M000100I4")  # I is not in the alphabet
    with pytest.raises(ValueError, match="cannot contain"):
        uscc_check_char("91350100m000100y4")  # lower case
    with pytest.raises(ValueError, match="8"):
        org_code_check_char("802100")
    with pytest.raises(ValueError, match="upper-case"):
        org_code_check_char("8021004a")
    assert not is_valid_uscc("91350100M000100Y4")
    assert not is_valid_uscc("91350100M000100Y43X")
    assert not is_valid_uscc("91350100m000100y43")
    # a correct final check character over a wrong organisation-code check character
    first17 = "91350100M000100Y5"
    code = first17 + uscc_check_char(first17)
    assert not is_valid_uscc(code)
    assert is_valid_uscc(code, check_org_code=False)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), division=st.from_regex(r"[0-9]{6}", fullmatch=True))
def test_make_uscc_is_valid(seed: int, division: str) -> None:
    code = make_uscc(np.random.default_rng(seed), division)
    assert len(code) == 18
    assert code.startswith("91" + division)
    assert is_valid_uscc(code)


def test_make_uscc_rejects_bad_arguments() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="6-digit"):
        make_uscc(rng, "32010")
    with pytest.raises(ValueError, match="prefix"):
        make_uscc(rng, "320102", prefix="9I")


# --- determinism -----------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_city(tmp_path / "a", seed=11, **SMALL)
    b = generate_city(tmp_path / "b", seed=11, **SMALL)
    c = generate_city(tmp_path / "c", seed=12, **SMALL)
    assert list(a) == list(KINDS)
    for kind in KINDS:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    assert a["companies"].read_bytes() != c["companies"].read_bytes()
    assert sum(a[k].read_bytes() != c[k].read_bytes() for k in KINDS) >= len(KINDS) - 1


def test_xlsx_is_deterministic_and_readable(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    small = {**SMALL, "firms": 120}
    a = generate_city(tmp_path / "a", seed=3, fmt="xlsx", **small)
    b = generate_city(tmp_path / "b", seed=3, fmt="xlsx", **small)
    csv_paths = generate_city(tmp_path / "c", seed=3, **small)
    for kind in KINDS:
        assert a[kind].name == f"{kind}.xlsx"
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
        workbook = load_workbook(a[kind])
        sheet = workbook.active
        assert sheet is not None and sheet.title == KINDS[kind].zh
        numeric = [c.type in ("int", "float") for c in base_columns(kind)]
        assert [c.value for c in sheet[1]] == [c.zh for c in base_columns(kind)]
        values = [[v if v is None or not number else float(v)
                   for v, number in zip(row, numeric, strict=True)]
                  for row in sheet.iter_rows(min_row=2, max_col=len(numeric),
                                             values_only=True)]
        workbook.close()
        expected = [[None if v == "" else float(v) if number else v
                     for v, number in zip(row.values(), numeric, strict=True)]
                    for row in read(csv_paths[kind])]
        assert values == expected, kind


def base_columns(kind: str) -> list[Column]:
    """The columns the generator writes: late ones (lead authors, phones) are in the
    review loop's own files, so the base files stay as they were."""
    return [c for c in KINDS[kind].columns if not c.late]


# --- files, headers, encodings ---------------------------------------------------------


def test_file_names_and_chinese_headers(city: dict[str, Path]) -> None:
    assert list(city) == list(KINDS)
    for kind, path in city.items():
        assert path.name == f"{kind}.csv"
        assert header(path) == [c.zh for c in base_columns(kind)], kind


def test_companies_file_is_gb18030_not_utf8(city: dict[str, Path]) -> None:
    raw = city["companies"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert "江州市" in text
    text.encode("gbk")  # every character is in GBK, as Excel on Chinese Windows needs


def test_other_files_are_utf8_with_bom(city: dict[str, Path]) -> None:
    for kind, path in city.items():
        if kind != "companies":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf"), kind
            raw.decode("utf-8")


def test_enum_values_are_chinese_schema_spellings(rows: dict[str, list[dict[str, str]]]
                                                  ) -> None:
    for kind, table in rows.items():
        for column in base_columns(kind):
            if column.type in ("enum", "bool"):
                accepted = {spelling for spelling, _ in column.choices
                            if re.search(r"[\u4e00-\u9fff]", spelling)}
                values = {row[column.zh] for row in table}
                assert values <= accepted | {""}, (kind, column.name, values - accepted)


def test_keys_are_unique(rows: dict[str, list[dict[str, str]]]) -> None:
    for kind, table in rows.items():
        zh = [KINDS[kind].column(k).zh for k in KINDS[kind].key]
        keys = Counter(tuple(row[h] for h in zh) for row in table)
        assert max(keys.values(), default=1) == 1, kind


def test_required_cells_are_filled_and_dates_iso(rows: dict[str, list[dict[str, str]]]
                                                 ) -> None:
    for kind, table in rows.items():
        for column in base_columns(kind):
            cells = [row[column.zh] for row in table]
            if column.required:
                assert all(cells), (kind, column.name)
            if column.type == "date":
                assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", c) for c in cells if c)


# --- content ---------------------------------------------------------------------------


def test_sizes_meet_the_minimums(rows: dict[str, list[dict[str, str]]]) -> None:
    assert len(rows["companies"]) >= 10_000
    assert len({r["区县"] for r in rows["companies"]}) == 13
    assert len(rows["inspectors"]) >= 150
    assert len(rows["agencies"]) >= 40
    assert len(rows["projects"]) >= 400
    assert len(rows["experts"]) >= 200
    assert 30 <= len(rows["inspector-leave"]) <= 50
    persons = Counter(r["人员编号"][:2] for r in rows["conflicts"])
    assert persons["JZ"] >= 55 and persons["ZJ"] >= 35
    assert 0.02 <= len(rows["positive-list"]) / len(rows["companies"]) <= 0.04


def test_usccs_are_valid_and_unique(rows: dict[str, list[dict[str, str]]]) -> None:
    codes = [r["统一社会信用代码"] for r in rows["companies"] + rows["agencies"]]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert is_valid_uscc(code), code
        assert org_code_check_char(code[8:16]) == code[16]
        assert uscc_check_char(code[:17]) == code[17]
    divisions = {d.division for d in DISTRICTS} | {"329900"}
    assert all(r["统一社会信用代码"][2:8] in divisions for r in rows["companies"])


def test_company_mix(rows: dict[str, list[dict[str, str]]]) -> None:
    companies = rows["companies"]
    n = len(companies)
    category = Counter(r["监管类别"] for r in companies)
    assert 0.09 <= category["重点"] / n <= 0.15
    assert 0.03 <= category["特殊"] / n <= 0.07
    status = Counter(r["状态"] for r in companies)
    assert status["正常"] / n > 0.85
    assert all(status[s] > 0 for s in ("停产", "关闭", "注销", "迁出"))
    assert {r["城市"] for r in companies} == {"江州市"}
    risks = [float(r["风险分"]) for r in companies if r["风险分"]]
    assert 0.3 * n < len(risks) < n
    assert all(0 <= x <= 100 for x in risks)
    names = [r["企业名称"] for r in companies]
    assert len(set(names)) == n
    assert all(re.search(r"(有限公司|有限责任公司|专业合作社)$", name) for name in names)
    assert sum(name.startswith("江州") for name in names) > n / 2


def test_inspectors(rows: dict[str, list[dict[str, str]]]) -> None:
    inspectors = rows["inspectors"]
    assert all(re.fullmatch(r"JZ\d{8}", r["执法证号"]) for r in inspectors)
    per_district = Counter(r["区县"] for r in inspectors)
    assert 15 <= per_district.pop("全市") <= 25
    assert set(per_district) == {d.name for d in DISTRICTS}
    assert all(8 <= c <= 14 for c in per_district.values())
    for r in inspectors:
        expected = ("江州市生态环境综合行政执法支队" if r["区县"] == "全市"
                    else f"江州市生态环境局{r['区县']}分局")
        assert r["所属单位"] == expected
        assert 20 <= int(r["季度上限"]) <= 40 and r["每日上限"] in ("2", "3")
    active = Counter(r["在岗"] for r in inspectors)
    assert active["是"] > 0.85 * len(inspectors) and active["否"] > 0


def test_leave_inside_the_quarter(rows: dict[str, list[dict[str, str]]]) -> None:
    badges = {r["执法证号"] for r in rows["inspectors"]}
    for r in rows["inspector-leave"]:
        assert r["执法证号"] in badges
        assert Q4_START <= day(r["开始日期"]) <= day(r["结束日期"]) <= Q4_END


def test_history_is_this_years_past_working_days(rows: dict[str, list[dict[str, str]]]
                                                 ) -> None:
    companies = {r["统一社会信用代码"]: r for r in rows["companies"]}
    history = rows["inspections"]
    kinds = Counter(r["检查类型"] for r in history)
    assert kinds["双随机"] > 0 and kinds["信访"] > 0 and kinds["案件"] > 0
    for r in history:
        when = day(r["检查日期"])
        assert r["统一社会信用代码"] in companies
        assert dt.date(2026, 1, 1) <= when < Q4_START and when.weekday() < 5
    random = Counter(r["统一社会信用代码"] for r in history if r["检查类型"] == "双随机")
    assert max(random.values()) == 1  # the annual cap
    keys = [c for c, r in companies.items() if r["监管类别"] == "重点"]
    per_quarter = Counter((day(r["检查日期"]).month - 1) // 3 for r in history
                          if r["检查类型"] == "双随机"
                          and companies[r["统一社会信用代码"]]["监管类别"] == "重点")
    for quarter in range(3):
        assert 0.18 * len(keys) <= per_quarter[quarter] <= 0.3 * len(keys)


def test_positive_list_windows(rows: dict[str, list[dict[str, str]]]) -> None:
    usccs = {r["统一社会信用代码"] for r in rows["companies"]}
    listed = rows["positive-list"]
    covering = expired = 0
    for r in listed:
        assert r["统一社会信用代码"] in usccs
        start, end = day(r["开始日期"]), day(r["结束日期"])
        assert start < end
        covering += start <= Q4_START <= end
        expired += end < Q4_START
    assert covering > 0.75 * len(listed)
    assert expired > 0


def test_projects(rows: dict[str, list[dict[str, str]]]) -> None:
    agencies = {r["统一社会信用代码"] for r in rows["agencies"]}
    names = {r["企业名称"] for r in rows["companies"]}
    projects = rows["projects"]
    assert all(re.fullmatch(r"JZHP-2026-\d{4}", r["项目编号"]) for r in projects)
    assert all(Q4_START <= day(r["审批日期"]) <= Q4_END for r in projects)
    assert all(r["编制单位"] in agencies for r in projects)
    share = sum(r["文件类型"] == "报告书" for r in projects) / len(projects)
    assert 0.2 <= share <= 0.3
    output = Counter(r["编制单位"] for r in projects).most_common()
    assert output[0][1] >= 4 * len(projects) / len(agencies)  # a few agencies write a lot
    assert sum(r["建设单位"] in names for r in projects) > 0.5 * len(projects)
    assert all(r["项目名称"].startswith(r["建设单位"]) for r in projects)
    watch = Counter(r["重点监督"] for r in rows["agencies"])
    assert 0.05 <= watch["是"] / len(rows["agencies"]) <= 0.15


def test_experts_and_their_history(rows: dict[str, list[dict[str, str]]]) -> None:
    experts = rows["experts"]
    agency_names = {r["单位名称"] for r in rows["agencies"]}
    assert all(re.fullmatch(r"ZJ\d{4}", r["专家编号"]) for r in experts)
    assert all(1 <= len(r["专业"].split("、")) <= 3 for r in experts)
    births = [int(r["出生年份"]) for r in experts]
    assert min(births) >= 1955 and max(births) <= 1990
    assert any(b < 2026 - 65 for b in births)
    assert any(r["工作单位"] in agency_names for r in experts)
    assert Counter(r["在库"] for r in experts)["是"] > 0.85 * len(experts)

    ids = {r["专家编号"] for r in experts}
    history = rows["employment-history"]
    assert {r["专家编号"] for r in history} == ids
    past = Counter(r["专家编号"] for r in history if r["结束日期"])
    assert all(1 <= past[i] <= 3 for i in ids)
    recent_agency = [r for r in history if r["结束日期"] and r["工作单位"] in agency_names
                     and day(r["结束日期"]) >= dt.date(2023, 10, 1)]
    assert len(recent_agency) >= 5
    for r in history:
        if r["结束日期"]:
            assert day(r["开始日期"]) <= day(r["结束日期"]) < Q4_START


def test_conflicts_point_at_known_people(rows: dict[str, list[dict[str, str]]]) -> None:
    badges = {r["执法证号"] for r in rows["inspectors"]}
    experts = {r["专家编号"] for r in rows["experts"]}
    usccs = {r["统一社会信用代码"] for r in rows["companies"]}
    agencies = {r["统一社会信用代码"] for r in rows["agencies"]}
    developers = {r["建设单位"] for r in rows["projects"]}
    for r in rows["conflicts"]:
        if r["人员编号"] in badges:
            assert r["对象"] in usccs
        else:
            assert r["人员编号"] in experts
            assert r["对象"] in agencies | developers
    assert any(r["截止日期"] for r in rows["conflicts"] if r["人员编号"] in experts)


def test_first_quarter_has_no_history(tmp_path: Path) -> None:
    paths = generate_city(tmp_path, quarter=1, **SMALL)
    assert read(paths["inspections"]) == []
    assert header(paths["inspections"]) == ["统一社会信用代码", "检查日期", "检查类型"]
    assert all(dt.date(2026, 1, 1) <= day(r["审批日期"]) <= dt.date(2026, 3, 31)
               for r in read(paths["projects"]))


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt"):
        generate_city(tmp_path, fmt="json")
    with pytest.raises(ValueError, match="quarter"):
        generate_city(tmp_path, quarter=5)
    with pytest.raises(ValueError, match="inspectors"):
        generate_city(tmp_path, **{**SMALL, "inspectors": 10})


def test_csv_round_trips_through_the_csv_module(city: dict[str, Path]) -> None:
    raw = city["projects"].read_bytes().decode("utf-8-sig")
    assert raw.endswith("\r\n")
    assert len(list(csv.reader(io.StringIO(raw)))) == len(read(city["projects"])) + 1
