"""The public notice in a real headless browser: it renders, and its rows are the plan's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from suiji.data.store import Store
from suiji.reports.exports import export_plan
from suiji.reports.notice import plan_view
from suiji.reports.writers import find_personal
from tests.fixtures.audit_world import World, build_world, install_fake_algorithms


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM = _chromium()
if CHROMIUM is None and os.environ.get("CI", "").lower() == "true":
    pytest.fail("CI must run the notice render test, but no headless Chromium is installed "
                "(.ci/run installs Debian's chromium).", pytrace=False)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no headless browser: install Debian's chromium "
                             "(apt-get install -y chromium) to run the notice render test")


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def world(store: Store, monkeypatch: pytest.MonkeyPatch) -> World:
    install_fake_algorithms(monkeypatch)
    return build_world(store, reviews=False)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_notice_renders_with_one_row_per_planned_inspection(world: World, tmp_path: Path,
                                                            lang: str) -> None:
    from datetime import date

    as_of = date(2027, 1, 5)
    page = tmp_path / "notice.html"
    export_plan(world.store, "2026Q4", "html", page, public=True, as_of=as_of, lang=lang)
    done = _browser(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    body = re.search(r'<table id="rows"[^>]*>.*?<tbody>(.*?)</tbody>', dom, re.S)
    assert body is not None, dom[:2000]
    rows = re.findall(r"<tr>", body.group(1))
    assert len(rows) == len(plan_view(world.store, "2026Q4").items) == 6
    assert ("抽查计划及结果公示" if lang == "zh" else "plan and results") in dom
    assert find_personal(re.sub(r"<[^>]+>", " ", dom)) == []
    shot = tmp_path / "notice.png"
    done = _browser(tmp_path, "--window-size=1200,1200", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0 and shot.stat().st_size > 10_000
