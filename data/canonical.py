"""The canonical text form of a directory: what is hashed, frozen and published.

A kind serialises as CSV in UTF-8 without BOM, ``\\n`` line ends, the kind's
canonical English header, every value a canonical string (ISO dates, English
enumeration values, ``yes``/``no``), rows sorted by key and then by the whole
row. Any tool can rebuild the bytes and check the SHA-256 digest.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

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
    # categorize=False gives the same hashes (it is only a speed option) and is faster
    # on the mostly-distinct columns of a directory.
    hashed = pd.util.hash_pandas_object(frame.astype(str), index=False, categorize=False)
    return [f"{int(h):016x}" for h in hashed.to_numpy()]


def sort_canonical(kind: Kind, frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical strings, canonical columns (a late column empty in every row is left
    out, see :class:`~suiji.data.schema.Column`), rows sorted by key then whole row."""
    late = [c.name for c in kind.columns if c.late and c.name in frame.columns]
    empty = {c for c in late if not frame[c].fillna("").astype(str).ne("").any()}
    cols = kind.canonical_columns(frame.columns, empty)
    frame = frame.loc[:, cols].fillna("").astype(str)
    order = [c for c in kind.key if c in cols] + [c for c in cols if c not in kind.key]
    if len(kind.key) == 1 and kind.key[0] in cols and len(frame) > 1:
        # Fast path, same order: a single key without duplicates decides the order alone.
        # numpy's variable-width strings compare by code point, as Python does.
        try:
            keys = np.array(frame[kind.key[0]].to_numpy(dtype=object), dtype=StringDType())
        except UnicodeEncodeError:  # a lone surrogate: take the general path
            keys = None
        if keys is not None:
            idx = np.argsort(keys, kind="stable")
            ordered = keys[idx]
            if not (ordered[1:] == ordered[:-1]).any():
                return frame.take(idx).reset_index(drop=True)
    return frame.sort_values(order, kind="mergesort").reset_index(drop=True)


def _csv_pieces(frame: pd.DataFrame, rows: int = 50_000) -> Iterator[bytes]:
    """The bytes of :func:`frame_csv` in pieces of ``rows`` rows (header first)."""
    for start in range(0, max(len(frame), 1), rows):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        if not start:
            writer.writerow(list(frame.columns))
        part = frame.iloc[start:start + rows]
        if part.shape[1]:  # plain object arrays iterate far faster than extension arrays
            writer.writerows(zip(*(part.iloc[:, j].to_numpy(dtype=object)
                                   for j in range(part.shape[1])), strict=True))
        else:
            writer.writerows(part.itertuples(index=False, name=None))
        yield buf.getvalue().encode("utf-8")


def frame_csv(frame: pd.DataFrame) -> bytes:
    """Canonical CSV bytes of a frame whose columns and order are already final."""
    return b"".join(_csv_pieces(frame))


def frame_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of :func:`frame_csv` without holding the whole text in memory."""
    h = hashlib.sha256()
    for piece in _csv_pieces(frame):
        h.update(piece)
    return h.hexdigest()


def canonical_csv(kind: Kind, frame: pd.DataFrame) -> bytes:
    return frame_csv(sort_canonical(kind, frame))


def excel_rows(frame: pd.DataFrame) -> list[int]:
    """Each row's number as Excel shows it (header = row 1).

    The importers keep it as the index (named ``row``), which also accounts for
    skipped blank rows; a frame built in code is numbered from 2.
    """
    if frame.index.name == "row":
        return [int(r) for r in frame.index]
    return list(range(2, len(frame) + 2))


def read_frame_csv(data: bytes) -> pd.DataFrame:
    """Inverse of :func:`frame_csv`: every column as str, empty cells as ''."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False,
                       encoding="utf-8")


def text_records(frame: pd.DataFrame) -> list[SimpleNamespace]:
    """The rows of a frame of canonical strings as records with one ``str`` attribute
    per column (``r.project_id``), for checks that read row by row."""
    cols = [str(c) for c in frame.columns]
    return [SimpleNamespace(**dict(zip(cols, (str(v) for v in values), strict=True)))
            for values in frame.itertuples(index=False, name=None)]
