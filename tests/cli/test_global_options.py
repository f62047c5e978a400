"""--db, --rules and -q work before or after the command."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from suiji.cli.main import cli, hoist_global_options
from suiji.data.rules import preset_text


def test_hoisting_moves_only_the_global_options() -> None:
    assert hoist_global_options(["freeze", "-p", "2026Q4", "--db", "x.db", "-q"]) == [
        "--db", "x.db", "-q", "freeze", "-p", "2026Q4"]
    assert hoist_global_options(["--db", "a.db", "draw", "inspections", "--rules=r.toml"]) == [
        "--db", "a.db", "--rules=r.toml", "draw", "inspections"]
    assert hoist_global_options(["decline", "--reason", "--db changed", "--", "-q"]) == [
        "decline", "--reason", "--db changed", "--", "-q"]


def test_options_after_the_command(tmp_path: Path) -> None:
    db = str(tmp_path / "其他.db")
    rules = tmp_path / "r.toml"
    rules.write_text(preset_text("chizhou"), "utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--db", db]).exit_code == 0
    res = runner.invoke(cli, ["freeze", "-p", "2026Q4", "--db", db, "--rules", str(rules),
                              "-q"])
    assert res.exit_code == 0, res.output
    assert "Snapshot digest" in res.stdout and res.stderr == ""
    res = runner.invoke(cli, ["rules", "show", "--rules", str(rules)])
    assert res.exit_code == 0 and 'preset = "chizhou"' in res.output
    res = runner.invoke(cli, ["log", f"--db={db}"])
    assert res.exit_code == 0 and "freeze" in res.output
