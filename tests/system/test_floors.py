"""The dependency floors CI installs are the ones setup.cfg declares."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def test_constraints_pin_every_runtime_dependency_at_its_declared_floor() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    declared = {}
    for line in cfg["options"]["install_requires"].strip().splitlines():
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*", line)
        assert m is not None, f"install_requires line {line!r} has no >= floor"
        declared[m.group(1).lower()] = _version(m.group(2))
    pinned = {}
    for line in (ROOT / ".ci" / "constraints-floor.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.strip().lower()] = _version(version.strip())
    assert set(pinned) == set(declared)
    for name, floor in declared.items():
        # The pin is the floor itself, or its first release (9.12 -> 9.12.4544).
        assert pinned[name][:len(floor)] == floor, (name, floor, pinned[name])
    assert "constraints-floor.txt" in (ROOT / ".ci" / "run").read_text("utf-8")
