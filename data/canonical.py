"""The canonical text form of a directory: what is hashed, frozen and published.

A kind serialises as CSV in UTF-8 without BOM, ``\\n`` line ends, the kind's
canonical English header, every value a canonical string (ISO dates, English
enumeration values, ``yes``/``no``), rows sorted by key and then by the whole
row. Any tool can rebuild the bytes and check the SHA-256 digest.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from suiji.data.schema import Kind

KEY_SEP = "\x1f"


def row_keys(kind: Kind, frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    parts = [frame[c].astype(str) for c in kind.key]
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + KEY_SEP + p
    return joined.tolist()


def row_hashes(frame: pd.DataFrame) -> list[str]:
    """A change detector per row (not a security digest; the file digest is)."""
    if frame.empty:
        return []
    hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
    return [f"{int(h):016x}" for h in hashed.to_numpy()]


def sort_canonical(kind: Kind, frame: pd.DataFrame) -> pd.DataFrame:
    cols = list(kind.column_names)
    frame = frame.loc[:, cols].fillna("").astype(str)
    order = list(kind.key) + [c for c in cols if c not in kind.key]
    return frame.sort_values(order, kind="mergesort").reset_index(drop=True)


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Canonical CSV bytes of a frame whose columns and order are already final."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(frame.columns))
    writer.writerows(frame.itertuples(index=False, name=None))
    return buf.getvalue().encode("utf-8")


def canonical_csv(kind: Kind, frame: pd.DataFrame) -> bytes:
    return frame_csv(sort_canonical(kind, frame))


def read_frame_csv(data: bytes) -> pd.DataFrame:
    """Inverse of :func:`frame_csv`: every column as str, empty cells as ''."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                       encoding="utf-8")
