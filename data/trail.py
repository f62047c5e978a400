"""The trail beyond draws: exports and publications logged with the bytes they wrote,
the log as rows for ``suiji log``, and atomic file writes.

Verification of the record is :mod:`suiji.data.verify`.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from suiji.data.errors import ExportError
from suiji.data.store import LogEntry, LogHead, Store, canonical_json, sha256_hex, utc_now


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
    """Write to a temporary file beside ``path`` and rename it into place.

    A ``path`` that is a symbolic link or not a regular file is refused, and any
    failure (a full disk, no permission) raises ExportError: the trail names the
    file written, and the old file, if any, stays as it was.
    """
    if path.is_symlink():
        raise ExportError(f"{path} is a symbolic link (to {os.readlink(path)}); suiji writes "
                          f"exports to real files only, so the trail names the file written. "
                          f"Give the target's own path with -o. Nothing was exported.")
    if path.exists() and not path.is_file():
        raise ExportError(f"{path} exists and is not a regular file; give a file name with -o. "
                          f"Nothing was exported.")
    parent = path.parent
    if parent.is_symlink() and not parent.is_dir():
        raise ExportError(f"the folder {parent} is a symbolic link to {os.readlink(parent)}, "
                          f"which is not a folder; give another folder. Nothing was exported.")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise ExportError(f"{path} could not be written ({reason}). Nothing was exported and "
                          f"the trail has no entry for it; any earlier {path.name} is "
                          f"unchanged. Free some space or choose another folder, and export "
                          f"again.") from exc
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
        if value in (None, "", {}, []) or key == "recorded_rows":
            continue
        text = value if isinstance(value, str) else canonical_json(value)
        if len(text) > 60:
            text = text[:59] + "…"
        parts.append(f"{key}={text}")
    return " ".join(parts)


def anchor_text(store: Store, head: LogHead) -> str:
    """The text of an anchor file (``suiji anchor``): the head and how to check it."""
    last = store.log_entries()[-1] if head.seq else None
    lines = [
        "suiji 日志链头 log head anchor",
        f"head {head}",
        f"seq {head.seq}",
        f"hash {head.hash}",
        f"entry {last.action} {last.period or '-'} at {last.at}" if last else "entry (empty log)",
        f"written {utc_now()}",
        f"database {Path(store.path).name}",
        "",
        "This hash commits to every entry of the audit log up to and including entry "
        f"{head.seq}: each entry names the hash of the one before it.",
        f"Check: suiji verify --head {head}",
        "It proves that nothing recorded up to this entry was deleted, altered or rolled back "
        "(truncation, a restored older copy, a re-hashed chain all fail). It cannot prove that "
        "nothing was done before it was published, nor anything about later entries.",
    ]
    return "\n".join(lines) + "\n"
