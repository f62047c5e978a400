"""The layers of ARCHITECTURE.md, enforced: every import arrow, and no SQL outside data/.

Every module of every layer is parsed with :mod:`ast` (imports inside functions
and under ``TYPE_CHECKING`` count too, like click's own ``tests/test_imports.py``
keeps its import graph honest) and each ``suiji.*`` import is checked against
:data:`ALLOWED`, the one table of allowed arrows. ARCHITECTURE.md shows the same
table; a test checks that the two agree, so neither changes alone.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# layer -> the layers it may import (besides itself). Mirrors ARCHITECTURE.md "Allowed arrows".
ALLOWED: dict[str, frozenset[str]] = {
    "data": frozenset(),
    "sampler": frozenset({"data"}),
    "scheduler": frozenset({"sampler", "data"}),
    "reports": frozenset({"scheduler", "sampler", "data"}),
    "cli": frozenset({"web", "reports", "scheduler", "sampler", "data", "sample"}),
    "web": frozenset({"reports", "scheduler", "sampler", "data", "sample"}),
    "sample": frozenset({"data"}),
}
LAYERS = tuple(ALLOWED)

# Raw SQL belongs to data/: a call of execute/executemany/executescript, or a string that
# reads as a statement.
SQL_CALLS = frozenset({"execute", "executemany", "executescript"})
SQL_TEXT = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|"
                      r"CREATE\s+(TABLE|INDEX|VIEW|TRIGGER)|DROP\s+TABLE|PRAGMA\s)", re.S)


@dataclass(frozen=True)
class Arrow:
    module: str  # e.g. data/bundle.py
    line: int
    source: str  # layer of the module
    target: str  # layer imported (or the unknown name)

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.source} -> {self.target}"


def modules(layer: str) -> list[Path]:
    folder = ROOT / layer
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []


def all_modules() -> list[tuple[str, Path]]:
    return [(layer, path) for layer in LAYERS for path in modules(layer)]


def _package(layer: str, path: Path) -> list[str]:
    """The dotted package of a module, as installed: suiji.<layer>.<sub...>."""
    return ["suiji", layer, *path.relative_to(ROOT / layer).parent.parts]


def imported_names(layer: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in the module, relative ones resolved."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(layer, path)
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module == "suiji":  # from suiji import data
                names += [(node.lineno, f"suiji.{alias.name}") for alias in node.names]
            else:
                names.append((node.lineno, module))
    return names


def arrows() -> list[Arrow]:
    found = []
    for layer, path in all_modules():
        rel = str(path.relative_to(ROOT))
        for line, name in imported_names(layer, path):
            top = name.split(".")[0]
            if top == "suiji":
                parts = name.split(".")
                if len(parts) > 1:
                    found.append(Arrow(rel, line, layer, parts[1]))
            elif top in LAYERS:  # `import data` would be a generic top-level module
                found.append(Arrow(rel, line, layer, f"{top} (not as suiji.{top})"))
    return found


def forbidden(found: list[Arrow]) -> list[Arrow]:
    return [a for a in found if a.target != a.source and a.target not in ALLOWED[a.source]]


def sql_in(path: Path) -> list[str]:
    """``line: what`` for every execute call and every SQL statement text, in line order."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    hits: list[tuple[int, str]] = []
    in_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                   for v in node.values}
    for node in ast.walk(tree):
        text = None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS):
            hits.append((node.lineno, f".{node.func.attr}(...)"))
        elif isinstance(node, ast.JoinedStr):  # f"SELECT {cols} FROM draws": read it whole
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}"
                           for v in node.values)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in in_fstrings):
            text = node.value
        if text is not None and SQL_TEXT.search(text):
            hits.append((node.lineno, repr(text[:60])))
    return [f"{line}: {what}" for line, what in sorted(hits)]


# --- the checks ------------------------------------------------------------------------

def test_every_layer_exists_and_has_modules() -> None:
    for layer in LAYERS:
        if layer == "web":  # the second adapter; checked as soon as it exists
            continue
        assert modules(layer), f"{layer}/ has no modules: is ALLOWED out of date?"


def test_no_import_arrow_runs_the_wrong_way() -> None:
    found = arrows()
    assert len(found) > 100  # the walk sees the real import graph
    wrong = forbidden(found)
    assert not wrong, ("imports that ARCHITECTURE.md does not allow:\n"
                       + "\n".join(map(str, wrong)))


def test_every_arrow_names_a_known_layer() -> None:
    unknown = [a for a in arrows() if a.target not in ALLOWED]
    assert not unknown, "imports of unknown suiji packages:\n" + "\n".join(map(str, unknown))


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer != "data"])
def test_no_sql_outside_data(layer: str) -> None:
    hits = {str(p.relative_to(ROOT)): sql_in(p) for p in modules(layer)}
    hits = {k: v for k, v in hits.items() if v}
    assert not hits, "SQL outside data/ (move it into a data/ read or write function):\n" + \
        "\n".join(f"{k}:{line}" for k, v in hits.items() for line in v)


def test_the_sql_check_sees_the_sql_that_data_runs() -> None:
    assert len(sql_in(ROOT / "data" / "store.py")) > 10
    assert any("INSERT INTO" in hit for hit in sql_in(ROOT / "data" / "draws.py"))


def test_the_checks_catch_what_they_must(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """The detectors themselves, on a made-up tree: wrong arrows (absolute, relative, inside
    a function), a generic top-level import, SQL text and an execute call."""
    (tmp_path / "data").mkdir()
    (tmp_path / "sampler" / "sub").mkdir(parents=True)
    bad = tmp_path / "data" / "bad.py"
    bad.write_text("import sqlite3\n"
                   "from . import store\n"
                   "def f(store):\n"
                   "    from suiji.cli import __version__\n"
                   "    store.conn.execute('SELECT id FROM draws')\n"
                   "    return 'UPDATE draws SET status = 1'\n"
                   "COLS = 'id'\n"
                   "QUERY = f'SELECT {COLS} FROM draws'\n", encoding="utf-8")
    (tmp_path / "sampler" / "sub" / "m.py").write_text(
        "from ...scheduler import plan\nfrom suiji import data\nimport reports\n",
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [h.split(":")[0] for h in sql_in(bad)] == ["5", "5", "6", "8"]
    assert [n for _, n in imported_names("data", bad)] == ["sqlite3", "suiji.data", "suiji.cli"]
    assert sorted(map(str, forbidden(arrows()))) == [
        "data/bad.py:4: data -> cli",
        "sampler/sub/m.py:1: sampler -> scheduler",
        "sampler/sub/m.py:3: sampler -> reports (not as suiji.reports)"]
    assert not forbidden([Arrow("cli/x.py", 1, "cli", "sample"),
                          Arrow("sample/x.py", 1, "sample", "data"),
                          Arrow("reports/x.py", 1, "reports", "sampler")])
    assert forbidden([Arrow("reports/x.py", 1, "reports", "sample")])


def _architecture_table() -> dict[str, frozenset[str]]:
    text = (ROOT / "ARCHITECTURE.md").read_text("utf-8")
    section = text.split("## Allowed arrows", 1)[1].split("\n## ", 1)[0]
    table: dict[str, frozenset[str]] = {}
    for row in re.findall(r"^\|\s*`?(\w+)/?`?\s*\|([^|\n]*)\|", section, re.M):
        layer, targets = row
        if layer in ("layer", "from"):
            continue
        names = re.findall(r"`?(\w+)/?`?", targets)
        table[layer] = frozenset(n for n in names if n not in ("nothing", "none"))
    return table


def test_architecture_md_allows_exactly_these_arrows() -> None:
    assert _architecture_table() == ALLOWED
