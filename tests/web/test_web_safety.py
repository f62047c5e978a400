"""The workbench is safe by construction: CSRF, size caps, server-named uploads, escaping.

Each refusal is checked to leave the record exactly as it was (the log does
not grow), the way the CLI's hostile-input tests check the database.
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.store import Store
from tests.fixtures.web import (
    INSPECTION_SEED,
    PERIOD,
    City,
    client_for,
    csrf_of,
    make_city,
    post_job,
    token,
    upload,
)

PAYLOADS = ('=HYPERLINK("http://evil.example","点我")', "<script>alert(1)</script>",
            '"><img src=x onerror=alert(2)>', "{{ 7*7 }}", "&amp;&lt;")
INSPECTION_KINDS = ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
                    "positive-list")


def log_length(city: City) -> int:
    store = Store.open(city.db)
    try:
        return len(store.log_entries())
    finally:
        store.close()


@pytest.fixture
def city(tmp_path: Path) -> City:
    return make_city(tmp_path, firms=300)


def test_state_changes_need_the_csrf_token(city: City) -> None:
    client = client_for(city)
    before = log_length(city)
    for url, data in (("/freeze", {"period": PERIOD, "scope": "inspections"}),
                      ("/draw/inspections", {"period": PERIOD, "seed": INSPECTION_SEED}),
                      ("/verify", {"period": PERIOD}),
                      ("/export/plan", {"period": PERIOD, "format": "csv"})):
        for sent in ({}, {"csrf": "forged"}):
            response = client.post(url, data={**data, **sent}, follow_redirects=False)
            assert response.status_code == 403, (url, response.text[:500])
            assert "安全校验" in response.text
    with city.files["companies"].open("rb") as f:
        response = client.post("/import", data={"kind": "companies", "csrf": "x"},
                               files={"file": ("c.csv", f.read(), "text/csv")})
    assert response.status_code == 403
    assert log_length(city) == before
    assert list((city.work / "uploads").iterdir()) == []
    other = client_for(city)  # another browser's token is not this one's
    response = client.post("/freeze", data={"csrf": token(other), "period": PERIOD})
    assert response.status_code == 403


def test_a_bad_form_value_is_refused_with_a_page(city: City) -> None:
    client = client_for(city)
    before = log_length(city)
    for url, data in (("/freeze", {"period": "2026Q5"}), ("/verify", {}),
                      ("/decline", {"period": PERIOD, "meeting": "明天", "expert": "ZJ0001",
                                    "reason": "出差"}),
                      ("/draw/inspections", {"period": PERIOD, "seed": ""})):
        response = client.post(url, data={"csrf": token(client), **data})
        assert response.status_code == 400, (url, response.text[-800:])
        assert "未能完成" in response.text
    assert log_length(city) == before


def test_kinds_the_workbench_does_not_import_say_what_to_run(city: City) -> None:
    client = client_for(city)
    assert 'value="responses"' not in client.get("/import").text
    assert 'value="findings"' in client.get("/import").text
    response = client.post("/import", data={"kind": "responses", "csrf": token(client)},
                           files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv")})
    assert response.status_code == 400 and "suiji import responses" in response.text
    assert list((city.work / "uploads").iterdir()) == []


def test_reads_are_gets_and_changes_are_posts(city: City) -> None:
    client = client_for(city)
    assert client.get("/freeze?p=2026Q4").status_code == 200
    for url in ("/import/confirm", "/substitute", "/decline", "/export/plan",
                "/report/download"):
        assert client.get(url).status_code == 405, url


def test_only_loopback_host_names_are_served(city: City) -> None:
    client = client_for(city)
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8000"}).status_code == 200


def test_serve_refuses_a_host_other_than_loopback(city: City) -> None:
    result = CliRunner().invoke(cli, ["--db", str(city.db), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "loopback" in result.output
    result = CliRunner().invoke(cli, ["--db", str(city.root / "none.db"), "serve"])
    assert result.exit_code == 1 and "suiji init" in result.output


def test_uploads_are_capped_and_named_by_the_server(city: City) -> None:
    client = client_for(city, upload_limit=4096)
    before = log_length(city)
    big = b"x" * 10_000
    response = client.post("/import", data={"kind": "companies", "csrf": token(client)},
                           files={"file": ("big.csv", big, "text/csv")})
    assert response.status_code == 413 and "上限" in response.text
    assert list((city.work / "uploads").iterdir()) == []
    assert log_length(city) == before

    client = client_for(city)
    evil = "../../../../etc/passwd.csv"
    page = upload(client, "companies", city.files["companies"], name=evil)
    assert "已导入" in page.text
    assert not (city.root / "etc").exists()
    assert list((city.work / "uploads").iterdir()) == []  # removed once imported
    store = Store.open(city.db)
    try:
        assert store.versions("companies")[-1]["file_name"] == "passwd.csv"
    finally:
        store.close()


def test_an_upload_name_is_only_text() -> None:
    from suiji.web.actions import display_name

    assert display_name("C:\\Users\\张三\\企业名录.xlsx") == "企业名录.xlsx"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("名录\x00\r\n.csv") == "名录.csv"
    assert display_name("") == display_name("/") == "上传文件"
    assert len(display_name("长" * 500)) == 120


def test_a_rejected_file_shows_its_rows_and_writes_nothing(city: City) -> None:
    client = client_for(city)
    lines = city.files["companies"].read_bytes().decode("gb18030").splitlines(keepends=True)
    rows = list(csv.reader(lines))
    rows[3][0] = "91320000ABCDEFGHIJ"  # a bad USCC on Excel row 4
    rows[6][4] = "重要"  # not a category, row 7
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    bad = city.root / "坏名录.csv"
    bad.write_bytes(buf.getvalue().encode("gb18030"))
    before = log_length(city)
    page = upload_failing(client, "companies", bad)
    assert "坏名录.csv" in page and "upload-" not in page
    assert "读取 reading 坏名录.csv" in page  # the importer's own progress step, renamed
    assert '<td class="num">4</td>' in page and '<td class="num">7</td>' in page
    assert "整个文件未写入" in page
    assert log_length(city) == before
    assert list((city.work / "uploads").iterdir()) == []


def upload_failing(client: object, kind: str, path: Path) -> str:
    from starlette.testclient import TestClient

    assert isinstance(client, TestClient)
    page = post_job(client, "/import", {"kind": kind},
                    files={"file": (path.name, path.read_bytes(), "text/csv")})
    assert "未能完成" in page.text
    return page.text


def test_removals_wait_for_a_confirmation(city: City) -> None:
    client = client_for(city)
    upload(client, "companies", city.files["companies"])
    lines = city.files["companies"].read_bytes().decode("gb18030").splitlines(keepends=True)
    fewer = city.root / "少了三家.csv"
    fewer.write_bytes("".join(lines[:-3]).encode("gb18030"))
    before = log_length(city)
    page = post_job(client, "/import", {"kind": "companies"},
                    files={"file": (fewer.name, fewer.read_bytes(), "text/csv")})
    assert "确认删除" in page.text and "<strong>3</strong>" in page.text
    assert log_length(city) == before
    confirm_token = page.text.split('name="token" value="')[1].split('"')[0]
    no = client.post("/import/confirm", data={"csrf": csrf_of(page.text), "token": confirm_token,
                                              "answer": "no"}, follow_redirects=False)
    assert no.status_code == 303 and log_length(city) == before
    assert list((city.work / "uploads").iterdir()) == []
    page = post_job(client, "/import", {"kind": "companies"},
                    files={"file": (fewer.name, fewer.read_bytes(), "text/csv")})
    confirm_token = page.text.split('name="token" value="')[1].split('"')[0]
    done = post_job(client, "/import/confirm", {"token": confirm_token, "answer": "yes"})
    assert "已导入" in done.text and log_length(city) == before + 1
    store = Store.open(city.db)
    try:
        assert store.versions("companies")[-1]["removed"] == 3
    finally:
        store.close()


def test_a_second_job_waits_for_the_first(city: City) -> None:
    client = client_for(city)
    bench = client.app.state.workbench  # type: ignore[attr-defined]
    release = threading.Event()
    blocking = bench.jobs.start("verify", "一项很长的操作", PERIOD, lambda job: release.wait(30))
    try:
        response = client.post("/freeze", data={"csrf": token(client), "period": PERIOD,
                                                "scope": "inspections"})
        assert response.status_code == 409
        assert "正在进行" in response.text and f"/jobs/{blocking.id}" in response.text
        progress = client.get(f"/jobs/{blocking.id}.json").json()
        assert progress["state"] == "running" and progress["label"] == "一项很长的操作"
        page = client.get(f"/jobs/{blocking.id}")
        assert 'data-job="' in page.text and 'http-equiv="refresh"' in page.text
        with city.files["companies"].open("rb") as f:
            refused = client.post("/import", data={"kind": "companies", "csrf": token(client)},
                                  files={"file": ("c.csv", f.read(), "text/csv")})
        assert refused.status_code == 409
        assert list((city.work / "uploads").iterdir()) == []  # the refused upload is gone
    finally:
        release.set()
        bench.jobs.wait(blocking)
    assert client.get(f"/jobs/{blocking.id}.json").json()["state"] == "done"


def test_a_draw_shows_its_progress_steps(city: City) -> None:
    client = client_for(city)
    for kind in INSPECTION_KINDS:
        upload(client, kind, city.files[kind])
    post_job(client, "/freeze", {"period": PERIOD, "scope": "inspections"})
    bench = client.app.state.workbench  # type: ignore[attr-defined]
    page = post_job(client, "/draw/inspections", {"period": PERIOD, "seed": INSPECTION_SEED})
    assert "抽取记录" in page.text
    job = next(j for j in bench.jobs._jobs.values() if j.kind == "draw")
    assert any("排班" in s for s in job.steps), job.steps  # the scheduler's own Progress steps
    again = post_job(client, "/draw/inspections", {"period": PERIOD, "seed": "1234567890"})
    assert "already drawn" in again.text and "--redraw" in again.text


def test_a_seed_from_the_os_is_recorded_shown_and_verifies(city: City) -> None:
    client = client_for(city)
    for kind in INSPECTION_KINDS:
        upload(client, kind, city.files[kind])
    post_job(client, "/freeze", {"period": PERIOD, "scope": "inspections"})
    page = post_job(client, "/draw/inspections", {"period": PERIOD, "seed_source": "os",
                                                  "seed": INSPECTION_SEED}).text
    assert "操作系统安全随机源生成" in page and INSPECTION_SEED not in page
    store = Store.open(city.db)
    try:
        (seed, source), = store.conn.execute("SELECT seed, seed_source FROM draws").fetchall()
    finally:
        store.close()
    assert source == "os" and len(seed) == 20 and seed.isdigit() and seed in page
    result = CliRunner().invoke(cli, ["--db", str(city.db), "--rules", str(city.rules),
                                      "verify", "--period", PERIOD])
    assert result.exit_code == 0, result.output


def hostile_companies(source: Path, target: Path) -> Path:
    lines = source.read_bytes().decode("gb18030").splitlines(keepends=True)
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = next(csv.reader([line]))
        cells[1] = PAYLOADS[i % len(PAYLOADS)] + cells[1]
        cells[2] = PAYLOADS[(i + 2) % len(PAYLOADS)]  # the district, shown in filters too
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(cells)
        out.append(buf.getvalue())
    target.write_bytes("".join(out).encode("gb18030"))
    return target


def test_hostile_names_are_escaped_in_every_page(city: City) -> None:
    client = client_for(city)
    companies = hostile_companies(city.files["companies"], city.root / "hostile.csv")
    upload(client, "companies", companies, name="<img src=x onerror=alert(3)>恶意.csv")
    for kind in INSPECTION_KINDS[1:]:
        upload(client, kind, city.files[kind])
    post_job(client, "/freeze", {"period": PERIOD, "scope": "inspections"})
    post_job(client, "/draw/inspections", {"period": PERIOD, "seed": INSPECTION_SEED})
    pages = {url: client.get(url).text for url in (
        "/", "/import", "/plan?p=2026Q4", "/plan?p=2026Q4&page=2", "/log", "/notice",
        "/notice/document.html?p=2026Q4", "/report/document.html?p=2026Q4")}
    plan = pages["/plan?p=2026Q4"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in plan
    shown = plan + pages["/plan?p=2026Q4&page=2"]
    assert "{{ 7*7 }}" in shown  # data is never a template
    assert "&amp;amp;&amp;lt;" in shown  # an entity in a name is shown as typed
    for url, html in pages.items():
        assert "<script>alert(1)" not in html, url
        assert "<img src=x" not in html, url
        assert "onerror=alert(3)>" not in html, url
    assert "&lt;img src=x onerror=alert(3)&gt;恶意.csv" in pages["/"]
    filtered = client.get("/plan", params={"p": PERIOD, "district": PAYLOADS[1]})
    assert filtered.status_code == 200 and "<script>alert(1)" not in filtered.text
    reflected = client.get("/plan", params={"p": PERIOD, "inspector": '"><script>x()</script>'})
    assert "<script>x()" not in reflected.text


def test_documents_cannot_run_scripts(city: City) -> None:
    client = client_for(city)
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
    assert 'src="/static/app.js"' in page.text and "<script>" not in page.text
    assert "samesite=strict" in page.headers["set-cookie"].lower()
