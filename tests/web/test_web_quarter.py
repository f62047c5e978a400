"""A whole quarter through the workbench's routes (Starlette's TestClient), then verified.

Every step is a form post the pages offer; the record it leaves is checked
with the same commands an auditor runs: ``suiji verify`` on the database and
``suiji verify --bundle`` on the bundle downloaded from the browser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.store import Store
from suiji.reports.notice import plan_view
from tests.fixtures.web import (
    INSPECTION_SEED,
    MEETING,
    ORDER,
    PANEL_SEED,
    PERIOD,
    PLAN_DAY,
    REVIEW_SEED,
    SCORE_DAY,
    TODAY,
    City,
    Clock,
    client_for,
    csv_bytes,
    make_city,
    post_job,
    token,
    unzip,
    upload,
)


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> tuple[City, dict[str, object]]:
    """The quarter, run once through the routes; the pages seen on the way."""
    city = make_city(tmp_path_factory.mktemp("quarter"))
    clock = Clock(PLAN_DAY)
    client = client_for(city, clock)
    seen: dict[str, object] = {}
    for kind in ORDER[:6]:  # the inspection side, before the quarter
        page = upload(client, kind, city.files[kind], name=f"{kind}名录.csv")
        assert "已导入" in page.text, page.text[:3000]
    seen["home_before"] = client.get(f"/?p={PERIOD}").text
    page = post_job(client, "/freeze", {"period": PERIOD, "scope": "inspections"})
    seen["commitment"] = page.text
    seen["draw_screen"] = client.get(f"/draw/inspections?p={PERIOD}").text
    page = post_job(client, "/draw/inspections",
                    {"period": PERIOD, "seed_source": "user", "seed": INSPECTION_SEED})
    seen["record"] = page.text
    clock.day = TODAY  # the quarter under way: some inspections done, others sealed
    seen["plan"] = client.get(f"/plan?p={PERIOD}").text
    with _open(city) as store:
        view = plan_view(store, PERIOD)
    pending = sorted((i for i in view.items if i["date"] >= TODAY.isoformat()),
                     key=lambda i: i["date"])
    badge = pending[0]["inspectors"][0]
    page = post_job(client, "/substitute", {"period": PERIOD, "badge": badge, "reason": "病假",
                                            "from": TODAY.isoformat()})
    seen["substitution"] = page.text
    done = [i for i in view.items if i["date"] < TODAY.isoformat()]
    results = city.root / "results.csv"
    results.write_bytes(csv_bytes(["统一社会信用代码", "检查结果", "检查日期", "未检查原因"],
                                  [[i["uscc"], "未发现问题", i["date"], ""] for i in done]))
    seen["results"] = upload(client, "results", results, period=PERIOD).text
    notice = client.post("/export/plan", data={"csrf": token(client), "period": PERIOD,
                                               "public": "1", "format": "html",
                                               "authority": "江州市生态环境局"})
    seen["notice_file"] = notice
    seen["notice_preview"] = client.get(
        f"/notice/document.html?p={PERIOD}&authority=江州市生态环境局").text
    for kind in ORDER[6:]:  # the review side: the projects approved by today
        page = upload(client, kind, city.files[kind], name=f"{kind}名录.csv")
        assert "已导入" in page.text, page.text[:3000]
    post_job(client, "/freeze", {"period": PERIOD, "scope": "reviews"})
    seen["sample_screen"] = client.get(f"/draw/reviews?p={PERIOD}").text
    seen["sample_record"] = post_job(client, "/draw/reviews", {
        "period": PERIOD, "seed_source": "user", "seed": REVIEW_SEED, "before_close": "1"}).text
    seen["panel_screen"] = client.get(f"/draw/panels?p={PERIOD}").text
    seen["panel_record"] = post_job(client, "/draw/panels", {
        "period": PERIOD, "seed_source": "user", "seed": PANEL_SEED, "meeting": MEETING}).text
    seen["reviews"] = client.get(f"/reviews?p={PERIOD}").text
    with _open(city) as store:
        from suiji.data.scores import current_panel_outputs

        (_, _, panel), = current_panel_outputs(store, PERIOD)
    first = panel["items"][0]["experts"][0]
    seen["decline"] = post_job(client, "/decline", {"period": PERIOD, "meeting": MEETING,
                                                    "expert": first, "reason": "出差"}).text
    with _open(city) as store:
        (_, _, panel), = current_panel_outputs(store, PERIOD)
    clock.day = SCORE_DAY  # after the meeting
    scores = city.root / "评分.csv"
    scores.write_bytes(csv_bytes(["专家编号", "项目编号", "会议日期", "评分", "扣分", "说明"],
                                 [[e, item["project_id"], MEETING, 80, 12 if n == 0 else 0, ""]
                                  for n, item in enumerate(panel["items"][:2])
                                  for e in item["experts"]]))
    seen["scores"] = upload(client, "scores", scores).text
    seen["experts"] = client.get(f"/experts?p={PERIOD}&brief=1").text
    seen["verify"] = post_job(client, "/verify", {"period": PERIOD}).text
    page = post_job(client, "/bundle", {"period": PERIOD})
    seen["bundle_page"] = page.text
    job = page.url.path.rsplit("/", 1)[-1]
    seen["bundle_zip"] = client.get(f"/jobs/{job}/file").content
    seen["report_zip"] = client.post("/report/download", data={"csrf": token(client),
                                                               "period": PERIOD}).content
    seen["log"] = client.get(f"/log?p={PERIOD}").text
    seen["report"] = client.get(f"/report/document.html?p={PERIOD}").text
    seen["home_after"] = client.get(f"/?p={PERIOD}").text
    for step, page in seen.items():
        if isinstance(page, str):
            assert "未能完成" not in page and "程序错误" not in page, (step, page[-3000:])
    return city, seen


class _open:  # noqa: N801 - a tiny context manager over Store, closing it
    def __init__(self, city: City) -> None:
        self.store = Store.open(city.db)

    def __enter__(self) -> Store:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def test_the_browser_draw_verifies_with_the_cli(quarter: tuple[City, dict[str, object]]) -> None:
    city, _ = quarter
    result = CliRunner().invoke(cli, ["--db", str(city.db), "--rules", str(city.rules),
                                      "verify", "--period", PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"], report
    assert (report["checked"]["draws"], report["checked"]["events"]) == (3, 2), report


def test_verify_shows_what_differs_after_a_tamper(quarter: tuple[City, dict[str, object]],
                                                  tmp_path: Path) -> None:
    import shutil
    import sqlite3

    city, _ = quarter
    copy = City(city.root, tmp_path / "tampered.db", city.rules, city.files, tmp_path)
    (tmp_path / "uploads").mkdir(exist_ok=True)
    shutil.copyfile(city.db, copy.db)
    conn = sqlite3.connect(copy.db)
    conn.execute("UPDATE draws SET seed = '11111111111111111111' WHERE scope = 'inspections'")
    conn.commit()
    conn.close()
    page = post_job(client_for(copy), "/verify", {"period": PERIOD}).text
    assert "处不一致" in page and "核验通过" not in page
    assert "draw 1" in page and "difference(s)" in page


def test_the_downloaded_bundle_verifies(quarter: tuple[City, dict[str, object]],
                                        tmp_path: Path) -> None:
    _, seen = quarter
    data = seen["bundle_zip"]
    assert isinstance(data, bytes) and data[:2] == b"PK"
    folder = unzip(data, tmp_path)
    result = CliRunner().invoke(cli, ["verify", "--bundle", str(folder)])
    assert result.exit_code == 0, result.output
    assert "All good" in result.output


def test_the_trail_holds_every_browser_action_as_the_cli_would(
        quarter: tuple[City, dict[str, object]]) -> None:
    city, _ = quarter
    with _open(city) as store:
        actions = [e.action for e in store.log_entries()]
        files = [e.details.get("file") for e in store.log_entries() if e.action == "import"]
    assert actions.count("import") == len(ORDER) + 1  # and the scores
    assert actions.count("freeze") == 2 and actions.count("draw") == 3
    assert "substitution" in actions and "decline" in actions and "results" in actions
    assert actions.count("publish") == 1  # the notice
    assert actions.count("export") == 2  # the bundle and the report
    assert files == [*(f"{kind}名录.csv" for kind in ORDER), "评分.csv"]  # not the temp name
    with _open(city) as store:
        named = [e.details["file"] for e in store.log_entries()
                 if e.action in ("export", "publish")]
    assert named == ["workbench:公示-plan-2026Q4.html", "workbench:审计材料-2026Q4.zip",
                     "workbench:报告-2026Q4.zip"]


def test_the_report_download_holds_what_its_entry_commits_to(
        quarter: tuple[City, dict[str, object]], tmp_path: Path) -> None:
    import hashlib

    city, seen = quarter
    data = seen["report_zip"]
    assert isinstance(data, bytes)
    folder = unzip(data, tmp_path)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert set(files) == {"report.html", "report.xlsx"}
    with _open(city) as store:
        entry = [e for e in store.log_entries() if e.details.get("what") == "report"][-1]
    assert {k: v for k, v in entry.digests.items() if k != "file"} == files


def test_pages_show_the_quarter(quarter: tuple[City, dict[str, object]]) -> None:
    city, seen = quarter
    with _open(city) as store:
        view = plan_view(store, PERIOD)
        snapshot_digest = view.snapshot_digest
    assert "冻结本期检查输入" in str(seen["home_before"])
    commitment = str(seen["commitment"])
    assert snapshot_digest in commitment and "抽取前公布" in commitment
    assert snapshot_digest in str(seen["draw_screen"])
    record = str(seen["record"])
    for text in ("抽取记录", INSPECTION_SEED, "现场给定", snapshot_digest, "见证人（签字）",
                 view.draw.output_sha256):
        assert text in record
    plan = str(seen["plan"])
    assert f"共 {len(view.items):,} 项检查" in plan and 'class="sealed"' in plan
    assert "补抽完成" in str(seen["substitution"])
    assert "已导入" in str(seen["results"])
    notice = seen["notice_file"]
    assert notice.status_code == 200  # type: ignore[attr-defined]
    assert "attachment" in notice.headers["content-disposition"]  # type: ignore[attr-defined]
    assert "江州市生态环境局" in notice.content.decode("utf-8")  # type: ignore[attr-defined]
    assert "江州市生态环境局" in str(seen["notice_preview"])
    sample_record = str(seen["sample_record"])
    assert "复核抽查" in sample_record and REVIEW_SEED in sample_record
    assert 'name="before_close"' in str(seen["sample_screen"])  # the quarter is not over
    assert "已导入：专家评分" in str(seen["scores"])
    assert "警示" in str(seen["experts"])  # 12 deduction points: past the warning line
    assert "会前保密" in str(seen["reviews"])
    assert "谢绝" in str(seen["decline"])
    assert "核验通过" in str(seen["verify"]) and "All good" in str(seen["verify"])
    assert "审计材料已生成" in str(seen["bundle_page"])
    assert "哈希链" in str(seen["log"])
    assert "核验全部记录" in str(seen["home_after"])
