"""The public notice says 已实施 only for inspections with a recorded result; the others
whose date has passed are 待录入结果 (issue 12: a date is not proof of a visit)."""

from __future__ import annotations

from click.testing import CliRunner

from suiji.cli.main import cli
from suiji.data.draws import current_draw, latest_output
from tests.fixtures.clock import Calendar


def test_carried_out_only_with_a_result(world: object, calendar: Calendar) -> None:
    store = world.store  # type: ignore[attr-defined]
    calendar.on("2027-01-05")  # after the quarter: a notice of every date
    items = latest_output(store, current_draw(store, "2026Q4", "inspections"))["items"]
    with_result = sum(1 for i in items if i["date"] < "2026-11-15")  # the world's results
    assert 0 < with_result < len(items)
    res = CliRunner().invoke(cli, ["--db", store.path, "export", "plan", "-p", "2026Q4",
                                   "--public", "--format", "html", "--as-of", "2027-01-05"])
    assert res.exit_code == 0, res.output
    html = res.stdout
    assert (f"检查日期已到的 {len(items)} 家列于下表，其中已实施检查 {with_result} 家"
            f"（已录入检查结果）") in html
    assert f"待录入结果 {len(items) - with_result} 家" in html
    assert f"已实施检查 {len(items)} 家" not in html
    assert html.count("<td>待录入结果</td>") == len(items) - with_result
    en = CliRunner().invoke(cli, ["--db", store.path, "export", "plan", "-p", "2026Q4",
                                  "--public", "--format", "html", "--as-of", "2027-01-05",
                                  "--lang", "en"]).stdout
    assert f"{with_result} carried out (result recorded), " \
           f"{len(items) - with_result} with the result still to be entered" in en
