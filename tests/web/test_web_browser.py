"""The whole quarter in Debian's Chromium, driven by Selenium through the workbench's pages.

One server (uvicorn in a thread on an ephemeral 127.0.0.1 port) and one
browser for the module. The system chromedriver and chromium are named
explicitly, so Selenium Manager never looks for (or downloads) anything. A
screenshot of each page goes to ``test-artifacts/web/``; every page is
checked for horizontal overflow at 1,366 pixels.

Under CI (``CI=true``) a missing browser fails these tests instead of
skipping them: CI installs it (``.ci/run``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suiji.data.store import Store
from tests.fixtures.web import (
    INSPECTION_SEED,
    MEETING,
    ORDER,
    PANEL_SEED,
    PERIOD,
    PLAN_DAY,
    REVIEW_SEED,
    TODAY,
    City,
    Clock,
    csv_bytes,
    make_city,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
WIDTH, HEIGHT = 1366, 900

_missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
if _missing and os.environ.get("CI", "").lower() == "true":
    pytest.fail(f"CI must run the browser tests, but {', '.join(_missing)} is missing: install "
                f"Debian's chromium and chromium-driver (.ci/run does).", pytrace=False)
pytestmark = pytest.mark.skipif(
    bool(_missing), reason=f"no {', '.join(_missing)}: apt-get install chromium chromium-driver")


class Server:
    """uvicorn serving the workbench in a thread, on a port the OS picks."""

    def __init__(self, city: City) -> None:
        import uvicorn

        self.clock = Clock(PLAN_DAY)
        from suiji.web.app import create_app
        from suiji.web.core import WebConfig

        app = create_app(WebConfig(db=city.db, rules_path=str(city.rules), work_dir=city.work,
                                   today=self.clock))
        self.bench = app.state.workbench
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0,
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        end = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("the workbench server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return make_city(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def server(city: City) -> Iterator[Server]:
    with Server(city) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", "--lang=zh-CN"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


class Walk:
    """The browser on the workbench: open pages, fill forms, wait for jobs, take screenshots."""

    def __init__(self, driver: Any, base: str) -> None:
        self.d = driver
        self.base = base
        self.shots: list[str] = []

    def open(self, path: str) -> None:
        self.d.get(self.base + path)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.d.find_element(By.CSS_SELECTOR, css)

    def act(self, css: str, action: str, *args: Any) -> Any:
        """``find(css).action(*args)``, again if the element was replaced under us (a page
        that was still settling after a window resize or a reload)."""
        from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

        for attempt in range(5):
            try:
                return getattr(self.find(css), action)(*args)
            except (StaleElementReferenceException, WebDriverException) as exc:
                if attempt == 4 or ("stale" not in str(exc) and "belong to the document"
                                    not in str(exc)):
                    raise
                time.sleep(0.2)
        return None

    def wait_text(self, text: str, timeout: float = 90) -> None:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.d, timeout, poll_frequency=0.1,
                      ignored_exceptions=(StaleElementReferenceException,
                                          NoSuchElementException)).until(
            lambda d: text in d.find_element(By.TAG_NAME, "body").text,
            message=f"{text!r} never appeared")

    def shot(self, name: str) -> None:
        """Screenshot the page, after checking that nothing overflows 1,366 pixels."""
        width = self.d.execute_script("return document.documentElement.scrollWidth")
        inner = self.d.execute_script("return window.innerWidth")
        assert width <= inner, f"{name}: the page is {width} px wide in a {inner} px window"
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(WIDTH, min(max(height + 140, HEIGHT), 4000))
        self.d.save_screenshot(str(ARTIFACTS / f"{len(self.shots) + 1:02d}-{name}.png"))
        self.d.set_window_size(WIDTH, HEIGHT)
        self.shots.append(name)

    def submit(self, css: str = "main form button") -> None:
        self.act(css, "click")

    def upload(self, kind: str, path: Path, period: str = "") -> None:
        from selenium.webdriver.support.ui import Select

        self.open(f"/import?p={PERIOD}")
        Select(self.find("select[name=kind]")).select_by_value(kind)
        if period:
            field = self.find("input[name=period]")
            field.clear()
            field.send_keys(period)
        self.act("input[type=file]", "send_keys", str(path))
        self.submit()
        self.wait_text("已导入")


def _plan_items(city: City) -> list[dict[str, Any]]:
    from suiji.reports.notice import plan_view

    store = Store.open(city.db)
    try:
        return plan_view(store, PERIOD).items
    finally:
        store.close()


def test_a_whole_quarter_in_the_browser(browser: Any, server: Server, city: City) -> None:
    from selenium.webdriver.common.by import By

    w = Walk(browser, server.url)
    w.open("/")
    assert "导入检查对象和执法人员名录" in browser.page_source
    w.shot("home-empty")
    for kind in ORDER[:6]:  # the inspection side, before the quarter
        w.upload(kind, city.files[kind])
    w.shot("import-done")
    w.open(f"/import?p={PERIOD}")
    w.shot("import")
    lines = city.files["companies"].read_bytes().decode("gb18030").splitlines(keepends=True)
    broken = city.root / "企业名录（有误）.csv"
    broken.write_bytes("".join([lines[0], lines[1].replace(",", ",,", 1), *lines[2:-5],
                                lines[3]]).encode("gb18030"))
    w.act("input[type=file]", "send_keys", str(broken))
    w.submit()
    w.wait_text("未能完成")
    assert browser.find_elements(By.CSS_SELECTOR, "table.problems tbody tr")
    w.shot("import-error")
    shorter = city.root / "企业名录（少五家）.csv"
    shorter.write_bytes("".join(lines[:-5]).encode("gb18030"))
    w.open(f"/import?p={PERIOD}")
    w.act("input[type=file]", "send_keys", str(shorter))
    w.submit()
    w.wait_text("确认删除")
    w.shot("import-confirm")
    w.act("button[value=no]", "click")
    w.wait_text("名录导入")

    w.open(f"/freeze?p={PERIOD}")
    w.shot("freeze")
    w.submit(".card form button")
    w.wait_text("请公布以下文本")
    digest = w.find("#commitment").get_attribute("value").split("SHA-256：\n")[1][:64]
    w.shot("commitment")

    w.open(f"/draw/inspections?p={PERIOD}")
    assert w.find("#published-digest").text == digest
    w.act("#seed", "send_keys", INSPECTION_SEED)
    assert "20 位" in w.find("#seed-count").text
    w.shot("draw-screen")
    w.act("#draw-button", "click")
    w.wait_text("抽取记录")
    assert INSPECTION_SEED in browser.page_source and digest in browser.page_source
    w.shot("draw-record")
    server.clock.day = TODAY  # the quarter under way: some inspections done, others sealed

    w.open(f"/plan?p={PERIOD}")
    w.wait_text("检查计划")
    assert browser.find_elements(By.CSS_SELECTOR, "tr.sealed")
    w.shot("plan")
    items = _plan_items(city)
    pending = sorted((i for i in items if i["date"] >= TODAY.isoformat()), key=lambda i: i["date"])
    badge = pending[0]["inspectors"][0]
    w.open(f"/plan?p={PERIOD}&inspector={badge}")
    w.shot("plan-filtered")
    w.act("input[name=badge]", "send_keys", badge)
    w.act("input[name=reason]", "send_keys", "病假")
    w.act("form[action='/substitute'] button", "click")
    w.wait_text("补抽完成")
    assert f"自 {TODAY.isoformat()} 起" in browser.page_source  # the workbench's today
    w.shot("substitution")

    results = city.root / "结果.csv"
    results.write_bytes(csv_bytes(["统一社会信用代码", "检查结果", "检查日期", "未检查原因"],
                                  [[i["uscc"], "发现问题", i["date"], ""]
                                   for i in items if i["date"] < TODAY.isoformat()]))
    w.upload("results", results, period=PERIOD)
    w.shot("results")

    w.open(f"/notice?p={PERIOD}")
    w.act("input[name=authority]", "send_keys", "江州市生态环境局")
    w.shot("notice")
    w.act("form[action='/export/plan'] button", "click")
    notice = browser.downloads / f"公示-plan-{PERIOD}.html"
    end = time.monotonic() + 20
    while not notice.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert notice.exists() and "江州市生态环境局" in notice.read_text("utf-8")

    for kind in ORDER[6:]:  # the review side: the projects approved by today
        w.upload(kind, city.files[kind])
    w.open(f"/freeze?p={PERIOD}")
    browser.find_elements(By.CSS_SELECTOR, ".card form button")[1].click()
    w.wait_text("请公布以下文本")
    w.open(f"/draw/reviews?p={PERIOD}")
    w.act("#seed", "send_keys", REVIEW_SEED)
    w.act("input[name=before_close]", "click")  # the quarter has not ended yet
    w.act("#draw-button", "click")
    w.wait_text("抽取记录")
    w.shot("sample-record")
    w.open(f"/draw/panels?p={PERIOD}")
    browser.execute_script("document.querySelector('input[name=meeting]').value = arguments[0]",
                           MEETING)
    w.act("#seed", "send_keys", PANEL_SEED)
    w.shot("panel-screen")
    w.act("#draw-button", "click")
    w.wait_text("抽取记录")
    w.shot("panel-record")

    w.open(f"/reviews?p={PERIOD}")
    w.shot("reviews")
    w.act("form[action='/decline'] input[name=reason]", "send_keys", "出差")
    w.act("form[action='/decline'] button", "click")
    w.wait_text("谢绝")
    w.shot("decline")
    w.open(f"/experts?p={PERIOD}")
    w.shot("experts")

    w.open(f"/verify?p={PERIOD}")
    w.submit("main form button")
    w.wait_text("核验通过")
    w.shot("verify")
    show_progress(w, server, city)
    w.open(f"/bundle?p={PERIOD}")
    w.submit("main form button")
    w.wait_text("审计材料已生成")
    w.shot("bundle")
    for path, name in ((f"/log?p={PERIOD}", "log"), (f"/rules?p={PERIOD}", "rules"),
                       (f"/report?p={PERIOD}", "report"), (f"/?p={PERIOD}", "home-after")):
        w.open(path)
        w.shot(name)
    assert "核验全部记录" in browser.page_source
    assert len(list(ARTIFACTS.glob("*.png"))) >= len(w.shots)


def show_progress(w: Walk, server: Server, city: City) -> None:
    """A long job as the page shows it: the bar moves (polling), the page turns when it ends."""
    from suiji.data.verify import verify_store
    from suiji.scheduler.algorithms import REGISTRY

    release = threading.Event()

    def work(job: Any) -> Any:
        job.update("核验 checking draw 1 (2026Q4 inspections)", 1_234, 5_000)
        release.wait(30)
        store = Store.open(city.db)
        try:
            return verify_store(store, REGISTRY, PERIOD)
        finally:
            store.close()

    job = server.bench.jobs.start("verify", f"核验 {PERIOD}", PERIOD, work)
    try:
        w.open(f"/jobs/{job.id}")
        w.wait_text("1,234 / 5,000")
        assert w.find(".progress > div").get_attribute("style").startswith("width: 24%")
        w.shot("progress")
    finally:
        release.set()
    w.wait_text("核验通过", timeout=30)  # the script saw the end and reloaded the page
