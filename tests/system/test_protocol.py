"""No one can steer a draw, not even with the database in hand (issue #10).

Each test is one attack an insider with write access to ``suiji.db`` tried, and the
command that now refuses or detects it: published commitments before the seed, seeds
that cannot be shopped, an anchored trail, verification of everything recorded, and
events that cannot be ground.
"""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from suiji.cli import main as cli_main
from suiji.cli.main import cli
from suiji.data.draws import current_draw, latest_output, record_draw, record_event
from suiji.data.scores import panel_members, record_scores
from suiji.data.seeds import normalize_seed
from suiji.data.snapshot import latest_snapshot
from suiji.data.store import LogEntry, Store, canonical_json
from suiji.data.verify import verify_store
from suiji.scheduler import plan as plan_module
from suiji.scheduler.algorithms import REGISTRY
from suiji.scheduler.panels import draw_panels
from tests.fixtures.audit_world import (
    PANEL_SEED,
    REVIEW_SEED,
    RULES,
    SEED,
    P,
    companies_frame,
    inspectors_frame,
    review_frames,
)
from tests.fixtures.clock import Clock, fixed_clock
from tests.fixtures.real_world import build_real

TODAY = date(2026, 10, 1)
PANEL_DAY = date(2026, 10, 14)  # within review.max_lead_days (7) of the meetings of 20, 21 Oct
OTHER_SEED = "11223344556677889900"
DICE = ("--seed-source", "dice", "--on", TODAY.isoformat(), "--place", "江州市生态环境局三楼会议室",
        "--witness", "纪检组 王敏", "--witness", "公证处 刘洋")
HEAD = re.compile(r"log head (\d+):([0-9a-f]{64})")


# --- a small city, driven through the command line ------------------------------------

@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Today is 2026-10-01 for the command line, and the record is written then."""
    monkeypatch.setattr(cli_main, "today", lambda: TODAY)
    with fixed_clock(f"{TODAY.isoformat()}T01:00:00") as c:
        yield c


@pytest.fixture
def db(tmp_path: Path, clock: Clock) -> str:
    store = Store.init(tmp_path / "city.db")
    store.replace("companies", companies_frame())
    store.replace("inspectors", inspectors_frame())
    for kind, frame in review_frames().items():
        store.replace(kind, frame)
    store.close()
    return str(tmp_path / "city.db")


def run(db: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--db", db, *args])
    assert result.exit_code == code, result.output
    return result


def commitment_of(result: Result) -> str:
    match = re.search(r"Draw with: --commitment ([0-9a-f]{64})", result.stdout)
    assert match, result.output
    return match[1]


def head_of(result: Result) -> str:
    match = HEAD.search(result.stderr)
    assert match, result.output
    return f"{match[1]}:{match[2]}"


def publish(db: str, monkeypatch: pytest.MonkeyPatch, as_of: str = "2027-01-05") -> str:
    """The public HTML notice of the plan as of ``as_of`` (the command line's today then)."""
    monkeypatch.setattr(cli_main, "today", lambda: date.fromisoformat(as_of))
    page = Path(db).with_name(f"notice-{as_of}.html")
    run(db, "export", "plan", "-p", "2026Q4", "--format", "html", "--public", "--as-of", as_of,
        "-o", str(page))
    return page.read_text("utf-8")


def copy_db(source: str | Path, target: str | Path) -> None:
    """Copy a database file as it stands (with what its write-ahead log holds)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def verify(db: str, *heads: str) -> Result:
    args = [a for h in heads for a in ("--head", h)]
    return CliRunner().invoke(cli, ["--db", db, "verify", *args])


# --- 1. commitment before the seed ----------------------------------------------------------

def test_refreeze_after_the_seed_supersedes_the_commitment_on_record(db: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(db, "freeze", "-p", "2026Q4", *DICE)
    c1 = commitment_of(first)
    assert "snapshot digest" in first.stdout and "seed source" in first.stdout
    assert "log head" in first.stdout and "江州市生态环境局三楼会议室" in first.stdout
    d1 = latest_snapshot(Store.open(db), P, "inspections").digest
    # the insider learns the seed, puts a firm on the positive list, freezes again
    store = Store.open(db)
    store.replace("positive-list", pd.DataFrame([{"uscc": companies_frame()["uscc"][2],
                                                  "start": "2026-01-01", "end": "2027-12-31"}]))
    store.close()
    assert "published commitment" in run(db, "freeze", "-p", "2026Q4", code=2).output
    assert "needs a reason" in run(db, "freeze", "-p", "2026Q4", *DICE, code=2).output
    second = run(db, "freeze", "-p", "2026Q4", *DICE, "--reason", "正面清单更新")
    c2 = commitment_of(second)
    assert f"supersedes 取代承诺 {c1}" in second.stdout
    d2 = latest_snapshot(Store.open(db), P, "inspections").digest
    # a draw naming the published (first) commitment is refused, quoting both digests
    refused = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED, "--commitment", c1,
                  code=1)
    assert c1 in refused.output and c2 in refused.output and "superseded" in refused.output
    # without naming one, or with an OS seed: refused
    assert c2 in run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED, code=2).output
    assert "give that seed with --seed" in run(db, "draw", "inspections", "-p", "2026Q4",
                                               "--commitment", c2, code=2).output
    drawn = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED, "--commitment", c2)
    assert f"fulfils   commitment {c2}" in drawn.stdout
    # the public notice lists both freezes, the superseded commitment and the reason
    text = publish(db, monkeypatch)
    for digest in (d1, d2, c1, c2):
        assert digest in text
    assert "正面清单更新" in text and "取代承诺" in text
    assert verify(db).exit_code == 0


def test_a_commitment_needs_a_future_public_source(db: str) -> None:
    past = ("--seed-source", "dice", "--on", "2026-09-30", "--place", "会议室", "--witness", "甲",
            "--witness", "乙")
    assert "before today" in run(db, "freeze", "-p", "2026Q4", *past, code=2).output
    one = ("--seed-source", "dice", "--on", "2026-10-02", "--place", "会议室", "--witness", "甲")
    assert "two witnesses" in run(db, "freeze", "-p", "2026Q4", *one, code=2).output
    assert "--event" in run(db, "freeze", "-p", "2026Q4", "--seed-source", "event", "--on",
                            "2026-10-02", code=2).output
    event = run(db, "freeze", "-p", "2026Q4", "--seed-source", "event", "--on", "2026-10-02",
                "--event", "中国福利彩票双色球第2026114期开奖号码")
    assert "双色球第2026114期" in event.stdout
    # naming a commitment where none was published is refused
    run(db, "freeze", "-p", "2026Q4", "--scope", "reviews")
    assert "no published commitment" in run(
        db, "draw", "reviews", "-p", "2026Q4", "--seed", SEED, "--commitment", "ab" * 32,
        "--before-close", code=1).output


# --- 2. seeds that cannot be shopped --------------------------------------------------------

def test_a_short_seed_is_refused_and_a_weak_one_is_marked(db: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run(db, "freeze", "-p", "2026Q4")
    out = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", "13", code=1).output
    assert "2 decimal digit(s); at least 20" in out and "--weak-seed" in out
    drawn = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", "13", "--weak-seed")
    assert "WEAK SEED" in drawn.stdout
    text = publish(db, monkeypatch)
    assert "弱种子" in text and "抽取前未公布承诺" in text


def test_seeds_are_normalised_before_they_are_used_and_recorded(db: str, tmp_path: Path
                                                                ) -> None:
    typed = "８０４１ ７２６３-９５０１，8374 6251\u3000"
    assert normalize_seed(typed) == SEED
    assert normalize_seed("80417263950183746251") == SEED  # the demo's seeds are normal
    c = commitment_of(run(db, "freeze", "-p", "2026Q4", *DICE))
    drawn = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", typed, "--commitment", c)
    assert f"seed      {SEED}  (public dice ceremony" in drawn.stdout
    assert "normalised from" in drawn.stdout
    store = Store.open(db)
    record = current_draw(store, "2026Q4", "inspections")
    assert record is not None and record.seed == SEED
    assert "witnesses 见证人 纪检组 王敏、公证处 刘洋" in record.seed_source
    entry = [e for e in store.log_entries() if e.action == "draw"][-1]
    assert entry.details["seed_given"] == typed.strip() and entry.details["commitment"] == c
    # the same draw as with the ASCII digits, byte for byte
    other = REGISTRY.draw(record.algorithm)(latest_snapshot(store, P, "inspections"), SEED,
                                            dict(record.params))
    assert record.output == json.loads(canonical_json(other))
    # the bundle shows the declared source beside the seed
    run(db, "audit-bundle", "-p", "2026Q4", "-o", str(tmp_path / "bundle"))
    seeds = (tmp_path / "bundle" / "seeds.csv").read_text("utf-8-sig")
    assert SEED in seeds and "公开掷骰" in seeds


def test_an_os_seed_is_marked_not_publicly_verifiable(db: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run(db, "freeze", "-p", "2026Q4")
    assert "not publicly verifiable" in run(db, "draw", "inspections", "-p", "2026Q4").stdout
    assert "公众无法核验" in publish(db, monkeypatch)


# --- 3. the anchored trail -------------------------------------------------------------------

def test_quiet_redraw_after_deleting_the_draw_loses_the_published_head(db: str) -> None:
    c = commitment_of(run(db, "freeze", "-p", "2026Q4", *DICE))
    published = head_of(run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED,
                            "--commitment", c))
    seq = int(published.split(":")[0])
    conn = sqlite3.connect(db)  # the insider: delete the draw and its log entry
    conn.execute("DELETE FROM draws")
    conn.execute("DELETE FROM log WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    run(db, "draw", "inspections", "-p", "2026Q4", "--seed", OTHER_SEED, "--commitment", c)
    assert verify(db).exit_code == 0  # the record is self-consistent again ...
    caught = verify(db, published)  # ... but the published head is no longer on it
    assert caught.exit_code == 1
    assert f"entry {seq} now hashes to" in caught.output and "not on today's chain" in caught.output


def test_a_restored_older_file_or_a_truncated_log_names_the_first_missing_entry(
        db: str, tmp_path: Path) -> None:
    run(db, "freeze", "-p", "2026Q4")
    backup = tmp_path / "before.db"
    copy_db(db, backup)
    drawn = run(db, "draw", "inspections", "-p", "2026Q4")  # an OS seed, re-rolled below
    anchor = tmp_path / "anchor.txt"
    wrote = run(db, "anchor", "-o", str(anchor))
    assert "head " in anchor.read_text("utf-8") and head_of(drawn).split(":")[1] in wrote.stdout
    seq = int(head_of(drawn).split(":")[0])
    assert verify(db, str(anchor)).exit_code == 0
    copy_db(backup, db)  # restore the copy taken before the draw
    caught = verify(db, str(anchor))
    assert caught.exit_code == 1 and f"entry {seq} is the first missing one" in caught.output
    # the same after cutting the log's last entries with sqlite3
    copy_db(backup, db)
    run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)
    later = head_of(run(db, "draw", "inspections", "-p", "2026Q4", "--seed", OTHER_SEED,
                        "--redraw", "--reason", "测试"))
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM log WHERE seq >= ?", (seq,))
    conn.commit()
    conn.close()
    caught = verify(db, later)
    assert caught.exit_code == 1 and f"entry {seq} is the first missing one" in caught.output


def test_a_rehashed_chain_loses_every_published_head(db: str) -> None:
    first = head_of(run(db, "freeze", "-p", "2026Q4"))
    second = head_of(run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED))
    store = Store.open(db)  # rewrite entry 2 and re-hash everything after it consistently
    entries = store.log_entries()
    prev = entries[0].hash
    with store.transaction():
        for e in entries[1:]:
            details = dict(e.details, file="改过.xlsx") if e.seq == 2 else e.details
            h = LogEntry.compute_hash(e.seq, e.at, e.action, e.period, details, e.digests, prev)
            store.conn.execute("UPDATE log SET details = ?, prev = ?, hash = ? WHERE seq = ?",
                               (canonical_json(details), prev, h, e.seq))
            prev = h
    store.close()
    caught = verify(db, first, second)
    assert caught.exit_code == 1
    assert caught.output.count("is not on today's chain") == 2
    assert "at or after entry 1" in caught.output


def test_every_change_prints_the_head_and_notices_and_reports_carry_it(db: str, tmp_path: Path
                                                                        ) -> None:
    heads = [head_of(run(db, "freeze", "-p", "2026Q4")),
             head_of(run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED))]
    assert HEAD.search(run(db, "--db", str(tmp_path / "new.db"), "init").stderr)
    assert not HEAD.search(run(db, "log").stderr)  # reading changes nothing, prints nothing
    page = tmp_path / "n.html"
    head = head_of(run(db, "export", "plan", "-p", "2026Q4", "--format", "html", "--public",
                       "-o", str(page)))
    assert heads[-1] in page.read_text("utf-8")  # the head when it was published
    report = run(db, "report", "-p", "2026Q4", "-o", str(tmp_path / "report"))
    assert head in (tmp_path / "report" / "report.html").read_text("utf-8")
    assert verify(db, *heads, head_of(report)).exit_code == 0
    bad = CliRunner().invoke(cli, ["--db", db, "verify", "--head", "12:abc"])
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.output


# --- 4. verify covers everything recorded ---------------------------------------------------

@pytest.fixture
def real(store: Store) -> Store:
    """The real draws (plan, substitution, sample, panels, decline), results and scores."""
    build_real(store)
    with fixed_clock("2026-12-11T01:00:00"):
        panels = current_draw(store, str(P), "panels", "2026-12-10")
        assert panels is not None
        rows = [{"expert_id": e, "project_id": p, "meeting": "2026-12-10", "score": "80",
                 "deduction": "2", "note": ""}
                for e, p in panel_members(latest_output(store, panels))]
        record_scores(store, pd.DataFrame(rows), file_name="评分.xlsx", file_sha256="0" * 64,
                      rules=RULES)
    return store


EDITS = {
    "results edited": ("UPDATE results SET outcome = 'case_opened' WHERE id = "
                       "(SELECT MIN(id) FROM results)", "outcome is \"case_opened\""),
    "results deleted": ("DELETE FROM results WHERE id = (SELECT MIN(id) FROM results)",
                        "missing from the database (deleted)"),
    "scores edited": ("UPDATE scores SET deduction = 0 WHERE id = (SELECT MIN(id) FROM scores)",
                      "deduction is 0"),
    "scores deleted": ("DELETE FROM scores WHERE id = (SELECT MIN(id) FROM scores)",
                       "score of expert"),
    "decline deleted": ("DELETE FROM draw_events WHERE kind = 'decline'",
                        "decline event 2 on draw 3"),
    "substitution deleted": ("DELETE FROM draw_events WHERE kind = 'substitution'",
                             "output silently reverts"),
    "draw reason": ("UPDATE draws SET reason = '事后补记' WHERE scope = 'reviews'",
                    "reason is \"事后补记\""),
    "draw seed source": ("UPDATE draws SET seed_source = 'dice' WHERE scope = 'inspections'",
                         "seed_source is \"dice\""),
    "draw time": ("UPDATE draws SET created_at = '2026-09-01T08:00:00.000000Z' "
                  "WHERE scope = 'panels'", "created_at is \"2026-09-01"),
    "event reason": ("UPDATE draw_events SET reason = '另有安排' WHERE kind = 'decline'",
                     "reason is \"另有安排\""),
    "import file name": ("UPDATE imports SET file_name = '其他.xlsx' WHERE kind = 'scores'",
                         "file_name is \"其他.xlsx\""),
    "import file digest": ("UPDATE imports SET file_sha256 = 'ff' WHERE kind = 'results'",
                           "file_sha256 is \"ff\""),
    "freeze time": ("UPDATE snapshots SET created_at = '2026-01-01T00:00:00.000000Z'",
                    "created_at is 2026-01-01"),
    "draw status": ("UPDATE draws SET status = 'superseded' WHERE scope = 'reviews'",
                    "status is 'superseded'"),
    "directory row hidden": ("UPDATE dir_companies SET _to = 99 WHERE rowid = 1",
                             "valid up to version 99"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_each_edit_with_sqlite3_makes_verify_exit_1_naming_it(real: Store, edit: str) -> None:
    assert verify_store(real, REGISTRY).ok
    sql, expected = EDITS[edit]
    real.conn.execute(sql)
    result = CliRunner().invoke(cli, ["--db", real.path, "verify"])
    assert result.exit_code == 1, result.output
    assert expected in result.output, result.output


def test_deleting_the_last_entries_is_caught_by_the_published_head(real: Store) -> None:
    head = real.head()
    real.conn.execute("DELETE FROM log WHERE seq > ?", (head.seq - 3,))
    result = verify(real.path, str(head))
    assert result.exit_code == 1 and f"entry {head.seq - 2} is the first missing" in result.output


def test_the_draw_refuses_a_frozen_blob_edited_before_it(db: str) -> None:
    c = commitment_of(run(db, "freeze", "-p", "2026Q4", *DICE))
    conn = sqlite3.connect(db)
    (data,) = conn.execute("SELECT data FROM snapshot_files WHERE name = 'companies.csv'"
                           ).fetchone()
    text = zlib.decompress(data).decode("utf-8")
    first_firm = text.splitlines()[1]
    edited = text.replace(first_firm + "\n", "")  # a firm removed from the frozen directory
    conn.execute("UPDATE snapshot_files SET data = ? WHERE name = 'companies.csv'",
                 (zlib.compress(edited.encode("utf-8")),))
    conn.commit()
    conn.close()
    out = run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED, "--commitment", c,
              code=1).output
    assert "frozen file companies.csv was edited" in out and "Nothing was drawn" in out
    assert Store.open(db).conn.execute("SELECT COUNT(*) FROM draws").fetchone()[0] == 0


# --- 5. events that cannot be ground ---------------------------------------------------------

def test_the_substitute_does_not_depend_on_the_from_date_or_the_request_order(
        db: str) -> None:
    run(db, "freeze", "-p", "2026Q4")
    run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)
    store = Store.open(db)
    draw = current_draw(store, "2026Q4", "inspections")
    assert draw is not None
    snap = latest_snapshot(store, P, "inspections")
    items = draw.output["items"]
    badge = items[0]["inspectors"][0]
    first = min(i["date"] for i in items if badge in i["inspectors"])
    v2 = plan_module.SUBSTITUTION_ALGORITHM
    outputs = {canonical_json(plan_module.compute_substitution_v2(
        snap, draw.seed, draw.output, {"badge": badge, "from": start, "n": n, "algorithm": v2}))
        for start in ("2026-10-01", first) for n in (1, 7)}
    assert len(outputs) == 1  # eleven --from values no longer give eleven replacement sets
    # --from before today is refused: an inspection already due is never re-teamed
    out = run(db, "substitute", "-p", "2026Q4", "--inspector", badge, "--reason", "病假",
              "--from", "2026-09-30", code=1).output
    assert "before today" in out and "never re-teamed" in out
    done = json.loads(run(db, "substitute", "-p", "2026Q4", "--inspector", badge, "--reason",
                          "病假", "--json").stdout)
    assert done["from"] == TODAY.isoformat()
    assert verify(db).exit_code == 0


def test_old_substitutions_verify_under_their_own_algorithm_and_a_backdated_one_is_caught(
        db: str, clock: Clock) -> None:
    run(db, "freeze", "-p", "2026Q4")
    run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED)
    store = Store.open(db)
    draw = current_draw(store, "2026Q4", "inspections")
    assert draw is not None
    snap = latest_snapshot(store, P, "inspections")
    badge = draw.output["items"][0]["inspectors"][0]
    legacy = {"badge": badge, "from": "2026-10-01", "n": 1}  # suiji-substitution/1, as recorded
    record_event(store, draw, "substitution", legacy,
                 plan_module.compute_substitution(snap, draw.seed, draw.output, legacy), "病假")
    assert verify_store(store, REGISTRY).ok
    # a /2 substitution recorded in December "from October" (a past --from) is caught
    clock.at("2026-12-01T02:00:00")
    before = latest_output(store, draw)
    badge2 = before["items"][-1]["inspectors"][0]
    params = {"badge": badge2, "from": "2026-10-01", "n": 2,
              "algorithm": plan_module.SUBSTITUTION_ALGORITHM}
    record_event(store, draw, "substitution", params,
                 plan_module.compute_substitution_v2(snap, draw.seed, before, params), "病假")
    findings = verify_store(store, REGISTRY).findings
    assert [f.problem for f in findings] == [
        f"from is 2026-10-01, before the day log entry {store.head().seq} was written "
        f"(2026-12-01)"]


def to_panel_day(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Move the command line's today and the record's clock to PANEL_DAY."""
    monkeypatch.setattr(cli_main, "today", lambda: PANEL_DAY)
    clock.at(f"{PANEL_DAY.isoformat()}T01:00:00")


@pytest.fixture
def sampled(db: str, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> str:
    """The review sample drawn on TODAY (before the close), then PANEL_DAY."""
    c = commitment_of(run(db, "freeze", "-p", "2026Q4", "--scope", "reviews", *DICE))
    run(db, "draw", "reviews", "-p", "2026Q4", "--seed", REVIEW_SEED, "--commitment", c,
        "--before-close")
    to_panel_day(monkeypatch, clock)
    return c


def test_a_document_with_a_panel_gets_another_only_with_redraw_and_reason(db: str, sampled: str
                                                                          ) -> None:
    base = ("draw", "panels", "-p", "2026Q4", "--seed", PANEL_SEED, "--commitment", sampled)
    first = json.loads(run(db, *base, "--meeting", "2026-10-20", "--json").stdout)
    doc = first["items"][0]["project_id"]
    out = run(db, *base, "--meeting", "2026-10-21", "--documents", doc, code=1).output
    assert f"Already paneled: {doc} (meeting of 2026-10-20)" in out
    assert "--redraw --reason" in out
    again = json.loads(run(db, *base, "--meeting", "2026-10-21", "--documents", doc,
                           "--redraw", "--reason", "会议改期", "--json").stdout)
    assert [i["project_id"] for i in again["items"]] == [doc]
    assert again["drawn_on"] == PANEL_DAY.isoformat()


def test_the_hidden_today_is_gone(db: str, sampled: str) -> None:
    base = ("draw", "panels", "-p", "2026Q4", "--seed", PANEL_SEED, "--commitment", sampled,
            "--meeting", "2026-10-20")
    assert "No such option" in run(db, *base, "--today", "2026-09-01", code=2).output
    result = CliRunner().invoke(cli, ["--db", db, *base, "--json"],
                                env={"SUIJI_TODAY": "2026-09-01"})
    assert result.exit_code == 0
    assert json.loads(result.stdout)["drawn_on"] == PANEL_DAY.isoformat()


def _commands(command: click.Command, path: tuple[str, ...] = ()
              ) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


def test_no_command_has_an_option_or_a_variable_that_sets_today() -> None:
    """No hidden option and no environment variable on any command (draw, substitute,
    experts status, export, import, agencies status, ...) changes "today": the only
    variables are the database and the rules file, and nothing is hidden."""
    found = []
    for path, command in _commands(cli):
        for param in command.params:
            opts = {*param.opts, *param.secondary_opts}
            envvar = getattr(param, "envvar", None)
            if "--today" in opts or getattr(param, "hidden", False) \
                    or envvar not in (None, "SUIJI_DB", "SUIJI_RULES"):
                found.append((" ".join(path), sorted(opts), envvar))
    assert found == []


def test_a_backdated_drawn_on_is_caught_by_verify(store: Store) -> None:
    build_real(store)
    with fixed_clock("2026-12-08T01:00:00"):  # a redraw on 8 December that claims 3 December
        draw_panels(store, P, RULES, date(2026, 12, 10), date(2026, 12, 3), seed=OTHER_SEED,
                    redraw=True, reason="会议改期")
    problems = [f.problem for f in verify_store(store, REGISTRY).findings]
    assert any(p.startswith("drawn_on is 2026-12-03, before the day log entry") for p in problems)


def test_declines_are_limited_per_meeting_and_published_with_reasons(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    rules = tmp_path / "rules.toml"
    text = (Path(__file__).resolve().parents[2] / "data" / "presets" / "default.toml").read_text(
        "utf-8")
    rules.write_text(text.replace("[review]\n", "[review]\nmax_declines_per_meeting = 1\n", 1),
                     "utf-8")
    runner = CliRunner()

    def go(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["--db", db, "--rules", str(rules), *args])
        assert result.exit_code == code, result.output
        return result

    c = commitment_of(go("freeze", "-p", "2026Q4", "--scope", "reviews", *DICE))
    go("draw", "reviews", "-p", "2026Q4", "--seed", REVIEW_SEED, "--commitment", c,
       "--before-close")
    to_panel_day(monkeypatch, clock)
    panel = json.loads(go("draw", "panels", "-p", "2026Q4", "--meeting", "2026-10-20",
                          "--seed", PANEL_SEED, "--commitment", c, "--json").stdout)
    first, second = panel["items"][0]["experts"][:2]
    go("decline", "--meeting", "2026-10-20", "--expert", first, "--reason", "出差")
    out = go("decline", "--meeting", "2026-10-20", "--expert", second, "--reason", "生病",
             code=1).output
    assert "max_declines_per_meeting (1)" in out
    sealed = tmp_path / "sealed.html"
    monkeypatch.setattr(cli_main, "today", lambda: date(2026, 10, 20))
    go("export", "reviews", "-p", "2026Q4", "--public", "--format", "html", "--as-of",
       "2026-10-20", "-o", str(sealed))
    assert "谢绝" not in sealed.read_text("utf-8")  # not before the meeting is held
    public = tmp_path / "public.html"
    monkeypatch.setattr(cli_main, "today", lambda: date(2026, 10, 21))
    go("export", "reviews", "-p", "2026Q4", "--public", "--format", "html", "--as-of",
       "2026-10-21", "-o", str(public))
    text = public.read_text("utf-8")
    assert f"专家 {first} 谢绝（理由：出差）" in text


def test_unsealed_substitutions_appear_in_the_public_notice_with_their_reason(db: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    run(db, "freeze", "-p", "2026Q4")
    plan = json.loads(run(db, "draw", "inspections", "-p", "2026Q4", "--seed", SEED,
                          "--json").stdout)
    assert plan["inspections"]
    store = Store.open(db)
    draw = current_draw(store, "2026Q4", "inspections")
    assert draw is not None
    badge = draw.output["items"][0]["inspectors"][0]
    run(db, "substitute", "-p", "2026Q4", "--inspector", badge, "--reason", "回避：近亲属任职")
    assert "回避：近亲属任职" not in publish(db, monkeypatch, "2026-10-01")  # nothing done yet
    text = publish(db, monkeypatch)
    assert "人员替换记录" in text and "回避：近亲属任职" in text


def test_a_draw_recorded_around_the_commitment_is_caught_by_verify(db: str) -> None:
    c = commitment_of(run(db, "freeze", "-p", "2026Q4", *DICE))
    store = Store.open(db)  # a draw written by other code, not through run_draw
    snap = latest_snapshot(store, P, "inspections")
    with store.transaction():
        record_draw(store, scope="inspections", snapshot=snap, seed=SEED, seed_source="user",
                    algorithm=plan_module.ALGORITHM,
                    output=plan_module.compute_plan(snap, SEED, {}))
    problems = [str(f) for f in verify_store(store, REGISTRY).findings]
    assert problems == [f"[commitment] draw 1 (2026Q4 inspections): log entry "
                        f"{store.head().seq} names commitment none, but the latest published "
                        f"commitment of its inspections inputs was {c[:16]}…"]
