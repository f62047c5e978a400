"""Former home of verification and the trail, kept so ``from suiji.data.audit import ...``
still works: verification is :mod:`suiji.data.verify`, the trail :mod:`suiji.data.trail`."""

from suiji.data.trail import entry_summary, log_rows, record_export, write_file_atomically
from suiji.data.verify import (
    Algorithm,
    Finding,
    Registry,
    UnknownAlgorithmError,
    VerifyReport,
    check_chain,
    check_draw,
    check_events,
    check_snapshot,
    differences,
    draw_label,
    index_log,
    load_snapshot_raw,
    verify_store,
)

__all__ = ["Algorithm", "Finding", "Registry", "UnknownAlgorithmError", "VerifyReport",
           "check_chain", "check_draw", "check_events", "check_snapshot", "differences",
           "draw_label", "entry_summary", "index_log", "load_snapshot_raw", "log_rows",
           "record_export", "verify_store", "write_file_atomically"]
