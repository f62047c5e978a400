"""The trail beyond draws: exports and publications logged with the bytes they wrote,
the log as rows for ``suiji log``, and atomic file writes.

Verification of the record is :mod:`suiji.data.verify`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from suiji.data.store import LogEntry, Store, canonical_json, sha256_hex


def record_export(store: Store, *, period: str, what: str, data: bytes,
                  write: Callable[[bytes], None], public: bool,
                  details: Mapping[str, Any] | None = None,
                  digests: Mapping[str, str] | None = None) -> LogEntry:
    """Log an export (``export``) or publication (``publish``) and write it, in one transaction.

    The entry commits to the SHA-256 of the exact bytes written. If writing
    fails the entry is rolled back, so the log never claims an export that did
    not happen.
    """
    action = "publish" if public else "export"
    with store.transaction():
        entry = store.append_log(action, period,
                                 details={"what": what, "bytes": len(data), **dict(details or {})},
                                 digests={"file": sha256_hex(data), **dict(digests or {})})
        write(data)
    return entry


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def log_rows(store: Store, period: str | None = None) -> list[dict[str, Any]]:
    """The log as JSON-able rows, oldest first (``suiji log``)."""
    return [{"seq": e.seq, "at": e.at, "action": e.action, "period": e.period,
             "details": e.details, "digests": e.digests, "prev": e.prev, "hash": e.hash}
            for e in store.log_entries(period)]


def entry_summary(details: Mapping[str, Any]) -> str:
    """A one-line summary of an entry's details for the text listing."""
    parts = []
    for key, value in details.items():
        if value in (None, "", {}, []):
            continue
        text = value if isinstance(value, str) else canonical_json(value)
        if len(text) > 60:
            text = text[:59] + "…"
        parts.append(f"{key}={text}")
    return " ".join(parts)
