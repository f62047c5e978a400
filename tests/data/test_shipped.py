"""ALGORITHM.md and the test vectors ship in the wheel; an installed suiji finds them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = sorted(p.name for p in (ROOT / "tests" / "vectors").glob("*.json"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(out), "--no-deps",
                    "--no-build-isolation", "-q"], check=True, capture_output=True)
    (found,) = out.glob("suiji-*.whl")
    return found


def test_the_wheel_carries_the_specification_and_the_vectors(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
    assert "share/suiji/ALGORITHM.md" in data
    assert sorted(n.removeprefix("share/suiji/vectors/") for n in data
                  if n.startswith("share/suiji/vectors/")) == VECTORS
    assert VECTORS, "no vectors found"


def test_an_installed_suiji_puts_the_specification_in_its_bundles(wheel: Path,
                                                                   tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    code = ("import suiji.data.bundle as b, sys; p = b.shipped_file('ALGORITHM.md'); "
            "v = b.shipped_file('vectors/panels.json'); "
            "sys.stdout.write(f'{b.SOURCE_ROOT}\\n{p}\\n{v}\\n'); "
            "sys.stdout.flush(); sys.exit(0 if b.algorithm_spec() == p.read_bytes() else 1)")
    env = dict(os.environ, PYTHONPATH=str(target))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    source_root, spec, vector = run.stdout.splitlines()
    assert Path(source_root).is_relative_to(target)  # the installed copy, not this checkout
    assert Path(spec).read_bytes() == (ROOT / "ALGORITHM.md").read_bytes()
    assert Path(spec).is_relative_to(target.resolve()) and Path(vector).is_file()
