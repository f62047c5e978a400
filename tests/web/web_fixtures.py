"""A small generated city, an empty database and a workbench app over it, for the web tests."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from suiji.data.generate import generate_city
from suiji.data.rules import preset_text
from suiji.data.store import Store
from suiji.web.app import create_app
from suiji.web.core import WebConfig

PERIOD = "2026Q4"
TODAY = date(2026, 11, 16)  # mid-quarter: some inspections are past, some still sealed
MEETING = "2026-11-30"
INSPECTION_SEED = "80417263950183746251"
REVIEW_SEED = "27182818284590452353"
PANEL_SEED = "31415926535897932384"
ORDER = ("companies", "inspectors", "inspector-leave", "conflicts", "inspections",
         "positive-list", "agencies", "projects", "experts", "employment-history")
SIZES = {"firms": 600, "inspectors": 40, "projects": 60, "agencies": 10, "experts": 60}


@dataclass
class City:
    root: Path
    db: Path
    rules: Path
    files: dict[str, Path]
    work: Path


def make_city(root: Path, **sizes: int) -> City:
    files = generate_city(root / "input", **{**SIZES, **sizes})
    db = root / "suiji.db"
    Store.init(db).close()
    rules = root / "rules.toml"
    rules.write_text(preset_text("default"), encoding="utf-8")
    work = root / "work"
    work.mkdir()
    return City(root, db, rules, files, work)


def client_for(city: City, **config: Any) -> TestClient:
    app = create_app(WebConfig(db=city.db, rules_path=str(city.rules), work_dir=city.work,
                               today=lambda: TODAY, **config))
    return TestClient(app, base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:2000]
    return m[1]


def token(client: TestClient) -> str:
    return csrf_of(client.get("/import").text)


def wait_job(client: TestClient, url: str, timeout: float = 120.0) -> str:
    """Follow a job page until it ends; returns the job id."""
    import time

    job = url.rsplit("/", 1)[-1]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = client.get(f"/jobs/{job}.json").json()["state"]
        if state != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job} still running after {timeout} s")


def post_job(client: TestClient, url: str, data: dict[str, Any],
             files: dict[str, Any] | None = None) -> Any:
    """POST a form that starts a job; wait for it; return the final page (redirects followed)."""
    data = {"csrf": token(client), **data}
    started = client.post(url, data=data, files=files, follow_redirects=False)
    assert started.status_code == 303, started.text[:3000]
    location = started.headers["location"]
    assert location.startswith("/jobs/")
    wait_job(client, location)
    return client.get(location)


def upload(client: TestClient, kind: str, path: Path, name: str | None = None,
           period: str = "") -> Any:
    with path.open("rb") as f:
        return post_job(client, "/import", {"kind": kind, "period": period},
                        files={"file": (name or path.name, f.read(), "text/csv")})


def csv_bytes(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def unzip(data: bytes, into: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert all(not n.startswith("/") and ".." not in n for n in names)
        z.extractall(into)
    return into / names[0].split("/")[0]
