"""The draw protocol (issue #10) through the workbench: commitments, normalised and weak
seeds, the log head, the anchor download and published heads on the verify page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.commitments import latest_commitment
from suiji.data.store import Store
from tests.fixtures.web import (
    INSPECTION_SEED,
    ORDER,
    PERIOD,
    PLAN_DAY,
    City,
    Clock,
    client_for,
    make_city,
    post_job,
    token,
    upload,
)

DICE = {"period": PERIOD, "scope": "inspections", "source_kind": "dice",
        "source_on": PLAN_DAY.isoformat(), "place": "江州市生态环境局三楼会议室"}
# The seed as a clerk types it: full-width digits, spaces and dashes.
TYPED_SEED = "８０４１ 7263-9501 8374 6251"


def _commitment(city: City) -> str:
    store = Store.open(city.db)
    try:
        latest = latest_commitment(store, PERIOD, "inspections")
        assert latest is not None
        return latest.commitment_digest
    finally:
        store.close()


def _head(city: City) -> str:
    store = Store.open(city.db)
    try:
        return str(store.head())
    finally:
        store.close()


@pytest.fixture(scope="module")
def protocol(tmp_path_factory: pytest.TempPathFactory) -> tuple[City, dict[str, Any]]:
    city = make_city(tmp_path_factory.mktemp("protocol"))
    client = client_for(city, Clock(PLAN_DAY))
    seen: dict[str, Any] = {"client": client}
    for kind in ORDER[:6]:
        assert "已导入" in upload(client, kind, city.files[kind]).text
    seen["freeze_page"] = client.get(f"/freeze?p={PERIOD}").text
    seen["one_witness"] = post_job(client, "/freeze", {**DICE, "witness": ["张三", ""]}).text
    seen["first"] = post_job(client, "/freeze", {**DICE, "witness": ["张三", "李四"]}).text
    seen["d1"] = _commitment(city)
    seen["no_reason"] = post_job(client, "/freeze", {**DICE, "witness": ["张三", "李四"]}).text
    seen["second"] = post_job(client, "/freeze", {
        "period": PERIOD, "scope": "inspections", "source_kind": "event",
        "source_on": PLAN_DAY.isoformat(), "event": "中国福利彩票双色球第2026112期开奖号码",
        "reason": "正面清单有误，已更正"}).text
    seen["d2"] = _commitment(city)
    seen["screen"] = client.get(f"/draw/inspections?p={PERIOD}").text
    draw = {"period": PERIOD, "seed_source": "user", "seed": TYPED_SEED}
    seen["missing"] = post_job(client, "/draw/inspections", draw).text
    seen["stale"] = post_job(client, "/draw/inspections", {**draw, "commitment": seen["d1"]}).text
    seen["weak_refused"] = post_job(client, "/draw/inspections", {
        **draw, "seed": "123456", "commitment": seen["d2"]}).text
    seen["record"] = post_job(client, "/draw/inspections",
                              {**draw, "commitment": seen["d2"]}).text
    seen["head_after_draw"] = _head(city)
    seen["weak_record"] = post_job(client, "/draw/inspections", {
        **draw, "seed": "123456", "commitment": seen["d2"], "weak_seed": "1",
        "redraw": "1", "reason": "见证人未到场，重新抽取"}).text
    seen["home"] = client.get(f"/?p={PERIOD}").text
    seen["log"] = client.get(f"/log?p={PERIOD}").text
    seen["anchor"] = client.get("/anchor")
    seen["head"] = _head(city)
    return city, seen


def test_the_freeze_page_declares_the_seed_source(protocol: tuple[City, dict[str, Any]]
                                                  ) -> None:
    _, seen = protocol
    page = seen["freeze_page"]
    for text in ("公开掷骰", "指定的未来公开随机事件", 'name="witness"', 'name="event"',
                 'name="source_on"', "理由"):
        assert text in page


def test_the_librarys_refusals_are_shown(protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    assert "未能完成" in seen["one_witness"] and "at least two witnesses" in seen["one_witness"]
    refused = seen["no_reason"]
    assert "未能完成" in refused and "needs a reason" in refused and seen["d1"] in refused


def test_the_commitment_page_shows_the_text_to_publish(
        protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    first, second = seen["first"], seen["second"]
    assert seen["d1"] != seen["d2"]
    assert f'id="commitment-digest">{seen["d1"]}<' in first
    assert "suiji 抽取承诺 commitment" in first and "江州市生态环境局三楼会议室" in first
    assert "张三、李四" in first and "--seed-source dice" in first
    assert f"Draw with: --commitment {seen['d1']}" in first
    assert f'id="commitment-digest">{seen["d2"]}<' in second
    assert f"supersedes 取代承诺 {seen['d1']}" in second and "正面清单有误" in second
    assert "本期该范围的全部冻结" in second  # both freezes listed with their digests


def test_the_draw_screen_shows_the_latest_commitment(
        protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    screen = seen["screen"]
    assert 'name="commitment"' in screen and 'name="weak_seed"' in screen
    assert f'id="latest-commitment">{seen["d2"]}<' in screen and seen["d1"] not in screen


def test_a_draw_must_name_the_latest_commitment(protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    assert "未能完成" in seen["missing"] and f"--commitment {seen['d2']}" in seen["missing"]
    stale = seen["stale"]
    assert "未能完成" in stale and seen["d1"] in stale and seen["d2"] in stale
    assert "superseded" in stale
    weak = seen["weak_refused"]
    assert "未能完成" in weak and "--weak-seed" in weak


def test_the_record_shows_the_normalised_seed_the_commitment_and_the_head(
        protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    record = seen["record"]
    assert "抽取记录" in record
    assert f'<strong class="seed-shown">{INSPECTION_SEED}</strong>' in record
    assert f"由输入「{TYPED_SEED}」规范化" in record
    assert f'id="fulfils">{seen["d2"]}<' in record
    assert "中国福利彩票双色球第2026112期开奖号码" in record  # the declared source beside it
    assert f'id="record-head">{seen["head_after_draw"]}<' in record
    assert f"--commitment {seen['d2']}" in record and "弱种子" not in record
    weak = seen["weak_record"]
    assert '<strong class="seed-shown">123456</strong>' in weak and "弱种子" in weak
    assert "--weak-seed" in weak


def test_home_and_log_show_the_head_and_the_anchor_downloads(
        protocol: tuple[City, dict[str, Any]]) -> None:
    _, seen = protocol
    for page in (seen["home"], seen["log"]):
        assert f'id="log-head">{seen["head"]}<' in page and 'href="/anchor"' in page
    anchor = seen["anchor"]
    assert anchor.status_code == 200 and "attachment" in anchor.headers["content-disposition"]
    assert f"head {seen['head']}\n" in anchor.content.decode("utf-8")


def test_verify_shows_which_published_heads_are_on_the_chain(
        protocol: tuple[City, dict[str, Any]], tmp_path: Any) -> None:
    city, seen = protocol
    client = seen["client"]
    anchor_text = seen["anchor"].content.decode("utf-8")
    page = post_job(client, "/verify", {"period": PERIOD, "heads": anchor_text}).text
    assert "核验通过" in page and "在链上" in page and "不在链上" not in page
    assert f"--head {seen['head']}" in page
    missing = f"9999:{'ab' * 32}"
    page = post_job(client, "/verify", {"period": PERIOD,
                                        "heads": f"{seen['head_after_draw']}\n{missing}"}).text
    assert "处不一致" in page and "不在链上" in page and "entry" in page
    assert page.count('<span class="ok">在链上</span>') == 1
    bad = client.post("/verify", data={"csrf": token(client), "period": PERIOD,
                                       "heads": "12:abc"})
    assert bad.status_code == 400 and "不是日志链头" in bad.text
    # The browser's draws verify with the command line, against the downloaded anchor too.
    path = tmp_path / "日志链头.txt"
    path.write_text(anchor_text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(city.db), "--rules", str(city.rules),
                                      "verify", "--period", PERIOD, "--head", str(path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"]
