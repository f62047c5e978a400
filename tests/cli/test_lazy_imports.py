"""`suiji --help` and `--version` stay quick: the command line loads no heavy library.

pandas, numpy, OR-Tools, openpyxl and sqlite-utils are imported inside the
commands that use them. Checked in a fresh interpreter (this test process has
them loaded already), by the modules present, not by a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "numpy", "ortools", "openpyxl", "sqlite_utils", "python_calamine")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys\n{code}\nimport json\n"
             f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    assert _loaded_after("import suiji.cli.main") == []


def test_help_and_version_load_no_heavy_library() -> None:
    for args in (["--help"], ["--version"], ["draw", "--help"], ["import", "--help"]):
        code = ("from suiji.cli.main import cli\n"
                f"try:\n    cli.main({args!r}, prog_name='suiji', standalone_mode=False)\n"
                "except SystemExit:\n    pass\n")
        assert _loaded_after(code) == [], args


def test_the_probe_sees_a_heavy_import() -> None:
    # the frozen-input code reads CSV with pandas: the probe must report it
    assert "pandas" in _loaded_after("import suiji.data.snapshot")
