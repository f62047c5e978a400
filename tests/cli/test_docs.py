"""--help is documentation: every command has help with an example (STYLE.md 8, 10)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from suiji.cli import __version__
from suiji.cli.main import cli


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, (*prefix, name)))
    return out


ALL = _commands(cli)


def test_the_commands_of_the_quarter_exist() -> None:
    expected = {("init",), ("import",), ("freeze",), ("draw", "inspections"), ("draw", "reviews"),
                ("draw", "panels"), ("export", "plan"), ("export", "reviews"), ("substitute",),
                ("decline",), ("verify",), ("log",), ("audit-bundle",), ("report",), ("demo",),
                ("rules", "show"), ("rules", "init")}
    assert expected <= set(ALL)


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    res = CliRunner().invoke(cli, [*path, "-h"])
    assert res.exit_code == 0, res.output
    assert "Example" in res.output, f"`suiji {' '.join(path)} -h` shows no example"
    assert f"suiji {path[0]}" in res.output or path[0] in res.output


def test_version() -> None:
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and __version__ in res.output


def test_unknown_command_is_a_usage_error() -> None:
    res = CliRunner().invoke(cli, ["drow"])
    assert res.exit_code == 2


def test_readme_quick_start_is_two_commands() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
