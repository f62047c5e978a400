"""The writers' two filters: personal-identifier scrubbing and formula neutralisation."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suiji.reports.writers import (
    Column,
    Table,
    find_personal,
    html_table,
    id_check_char,
    neutralise,
    scrub_personal,
    scrub_value,
    to_csv,
    to_json,
)
from suiji.sample.generate import uscc_check_char


def test_id_check_character_of_the_standard_example() -> None:
    # GB 11643-1999's worked example: 11010519491231002 -> X
    assert id_check_char("11010519491231002") == "X"


@pytest.mark.parametrize("text, found", [
    ("身份证110105194912310021X", []),  # 19 characters: not an ID
    ("身份证11010519491231002X号", ["11010519491231002X"]),
    ("身份证11010519491231002x", ["11010519491231002x"]),
    ("身份证110105194912310023", []),  # wrong check digit
    ("代码913299006181028771", []),  # check digit fits, but no birth date: a USCC
    ("旧证号110105491231002", ["110105491231002"]),
    ("编号110105491331002", []),  # month 13: not a birth date
    ("电话13812345678", ["13812345678"]),
    ("手机 +86 138-1234-5678。", ["+86 138-1234-5678"]),
    ("手机１３８１２３４５６７８", ["１３８１２３４５６７８"]),
    ("座机(0571)87654321转", ["(0571)87654321"]),
    ("座机 010-62345678", ["010-62345678"]),
    ("日期 2026-10-08，金额 12345678 元", []),
    ("代码 91350100M000100Y43", []),
    ("12813812345678", []),  # a longer number, not a mobile
    # Identifiers touching Latin letters or split by separators (issue 12).
    ("ID320102199001011232", ["320102199001011232"]),
    ("Tel13812345678", ["13812345678"]),
    ("手机138.1234.5678号", ["138.1234.5678"]),
    ("身份证 320102 19900101 1232", ["320102 19900101 1232"]),
    ("身份证320102-1990-0101-1232", ["320102-1990-0101-1232"]),
    ("No.110105491231002x", ["110105491231002"]),
    ("320102 19900101 1233", []),  # wrong check digit, split or not
    ("版本 1.2.3，金额 138.12 元", []),
    # a published digest is not a number, whatever its digits look like
    ("摘要 5e59e5e3c5be6ed2c6b0abfc0edd14d21f0236392068e0697e792955ec9ff25b", []),
    ("log head 7:13812345678e0697e792955ec9ff25b5e59e5e3c5be6ed2c6b0abfc0edd14d2", []),
    ("电话13812345678abcdef", ["13812345678"]),  # hex letters after it, but no digest
])
def test_find_personal(text: str, found: list[str]) -> None:
    assert find_personal(text) == found


def test_allowed_values_are_not_reported() -> None:
    assert find_personal("A 11010519491231002X", allowed={"11010519491231002X"}) == []


def test_scrub_masks_and_keeps_the_rest() -> None:
    assert scrub_personal("张三 13812345678，010-62345678") == "张三 ***，***"
    assert scrub_personal("ID320102199001011232 Tel13812345678") == "ID*** Tel***"
    assert scrub_personal("138.1234.5678 / 320102 19900101 1232") == "*** / ***"
    assert scrub_personal("江州化工有限公司") == "江州化工有限公司"


def test_valid_uscc_is_kept_in_its_column_only() -> None:
    body = "91329900000000123"
    code = body + uscc_check_char(body)
    assert scrub_value(code, "uscc") == code
    id_number = "11010519491231002X"
    assert scrub_value(id_number, "uscc") == "***"  # not a USCC: scrubbed
    assert scrub_value(["a 13812345678", 3], "text") == ["a ***", 3]


_digits = st.text(alphabet="0123456789Xx-+(). ", min_size=0, max_size=30)
_mixed = st.lists(st.one_of(_digits, st.sampled_from(["张三", "电话", "，", "A", "身份证", "ID",
                                                     "Tel", "320102199001011232",
                                                     "13812345678"])),
                  max_size=8).map("".join)


@given(_mixed)
def test_scrubbed_text_has_no_identifier_left(text: str) -> None:
    assert find_personal(scrub_personal(text)) == []


@given(st.text(max_size=20))
def test_neutralised_text_never_starts_a_formula(text: str) -> None:
    out = neutralise(text)
    assert not out.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert out.endswith(text)


def _table(rows: list[dict[str, object]]) -> Table:
    return Table("t", "表", "Table", (Column("a", "甲", "A"), Column("n", "数", "N", "int")),
                 tuple(rows))


def test_csv_numbers_stay_numbers_and_text_is_neutralised() -> None:
    data = to_csv(_table([{"a": "-1", "n": -1}, {"a": "@x", "n": 2}]), "en")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["A", "N"], ["'-1", "-1"], ["'@x", "2"]]


def test_html_escapes_and_json_keeps_order() -> None:
    html = html_table(_table([{"a": "<script>", "n": 1}]))
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert 'data-rows="1"' in html
    assert to_json([{"b": 1, "a": "中"}]).decode() == '[\n  {\n    "b": 1,\n    "a": "中"\n  }\n]\n'
