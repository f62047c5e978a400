"""The unified social credit code (统一社会信用代码, USCC) and its two check characters.

A USCC has 18 characters from ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (no I, O, S,
V, Z). GB 32100-2015: character 18 is the check character over the first 17,
each weighted by ``3**i mod 31``; the check value is ``(31 - sum mod 31) mod 31``.
Characters 9 to 17 are the embedded organisation code (组织机构代码) whose 9th
character, character 17 of the USCC, is its own check character (GB 11714):
weights 3, 7, 9, 10, 5, 8, 4, 2 over its first 8 characters (digits count their
value, letters ``A``..``Z`` 10..35), check value ``11 - sum mod 11``, written
``X`` for 10 and ``0`` for 11.

Validation is vectorised with numpy over the character codes, so a column of
a million codes is checked in well under a second; the scalar helpers are the
same code on a column of one.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LENGTH = 18
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

_VALUE = np.full(128, -1, dtype=np.int64)
for _i, _c in enumerate(ALPHABET):
    _VALUE[ord(_c)] = _i
_ORG_VALUE = np.full(128, -1, dtype=np.int64)
for _i in range(10):
    _ORG_VALUE[ord("0") + _i] = _i
for _i in range(26):
    _ORG_VALUE[ord("A") + _i] = 10 + _i
_ALPHABET_CODES = np.array([ord(c) for c in ALPHABET], dtype=np.int64)
_ORG_CHECK_CODES = np.array([ord(c) for c in "0123456789X0"], dtype=np.int64)  # by 11 - s%11

# Full-width digits and letters (０-９, Ａ-Ｚ, ａ-ｚ) to ASCII, as typed with a Chinese IME.
_FULL_WIDTH = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                          *range(0xFF41, 0xFF5B))}

ALLOWED_TEXT = "digits 0-9 and capital letters except I, O, S, V, Z"


def normalise(codes: pd.Series) -> pd.Series:
    """Full-width digits and letters to ASCII, then upper case (a column of str)."""
    return codes.str.translate(_FULL_WIDTH).str.upper()


def _check_values(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an (n, 18) array of code points: bad-character mask and both expected checks."""
    ascii_ = np.where(chars < 128, chars, 0)
    values = np.where(chars < 128, _VALUE[ascii_], -1)
    bad_char = values < 0
    total = (np.where(bad_char[:, :17], 0, values[:, :17]) * USCC_WEIGHTS).sum(axis=1)
    expected = _ALPHABET_CODES[(31 - total % 31) % 31]
    org = _ORG_VALUE[ascii_[:, 8:16]]
    org_total = (np.where(org < 0, 0, org) * ORG_WEIGHTS).sum(axis=1)
    expected_org = _ORG_CHECK_CODES[11 - org_total % 11]
    return bad_char, expected, expected_org


def problems(codes: pd.Series) -> pd.Series:
    """Why each code is not a valid USCC: a Series of messages indexed by the bad codes only.

    ``codes`` must already be normalised (see :func:`normalise`); empty strings
    are reported like any other wrong length, so filter them out first.
    """
    values = codes.to_numpy(dtype=object)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    out: dict[int, str] = {}
    for pos in np.flatnonzero(lengths != LENGTH):
        out[int(pos)] = _length_message(str(values[pos]))
    right = np.flatnonzero(lengths == LENGTH)
    if len(right):
        chars = values[right].astype(f"U{LENGTH}").view(np.uint32).reshape(
            -1, LENGTH).astype(np.int64)
        bad_char, expected, expected_org = _check_values(chars)
        any_bad: np.ndarray = np.asarray(bad_char.any(axis=1))
        bad_check = ~any_bad & (chars[:, 17] != expected)
        bad_org = ~any_bad & (chars[:, 16] != expected_org)
        for i in np.flatnonzero(any_bad | bad_check | bad_org):
            code = str(values[right[i]])
            if any_bad[i]:
                at = int(np.flatnonzero(bad_char[i])[0])
                message = (f"{code!r} is not a valid USCC: character {at + 1} is {code[at]!r}, "
                           f"which a USCC cannot contain (allowed: {ALLOWED_TEXT})")
            else:
                parts = []
                if bad_check[i]:
                    parts.append(f"the check character (18th) is {code[17]!r} but should be "
                                 f"{chr(expected[i])!r}")
                if bad_org[i]:
                    parts.append(f"the organisation-code check character (17th) is "
                                 f"{code[16]!r} but should be {chr(expected_org[i])!r}")
                message = (f"{code!r} is not a valid USCC: " + " and ".join(parts)
                           + "; check the code for a typo")
            out[int(right[i])] = message
    positions = sorted(out)
    return pd.Series([out[p] for p in positions], index=codes.index[positions], dtype=object)


def _length_message(code: str) -> str:
    if code[:1].isdigit() and ("E+" in code.upper()):
        return (f"{code!r} is not a valid USCC: Excel turned the code into a number and lost "
                f"its last digits; format the column as Text and enter the 18 characters again")
    return f"{code!r} is not a valid USCC: it has {len(code)} characters, a USCC has 18"


def problem(code: str) -> str | None:
    """Why ``code`` (normalised) is not a valid USCC, or None when it is valid."""
    found = problems(pd.Series([code], dtype=object))
    return None if found.empty else str(found.iloc[0])


def is_valid(code: str) -> bool:
    return problem(code) is None


def is_valid_uscc(code: str, *, check_org_code: bool = True) -> bool:
    """Whether ``code`` is a well-formed USCC: 18 characters of the alphabet, a correct
    final check character and (unless ``check_org_code`` is false) a correct
    organisation-code check character in position 17. Scalar and exception-free,
    for one code at a time (the writers' masking, the sample generator)."""
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return False
    if check_char(code[:17]) != code[17]:
        return False
    return not check_org_code or org_check_char(code[8:16]) == code[16]


def check_char(first17: str) -> str:
    """The 18th character of a USCC computed over its first 17 (GB 32100-2015).

    >>> check_char("91350100M000100Y4")
    '3'
    """
    if len(first17) != 17:
        raise ValueError(f"expected the first 17 characters of a USCC, got {len(first17)}: "
                         f"{first17!r}")
    for position, char in enumerate(first17, 1):
        if char not in ALPHABET:
            raise ValueError(f"character {position} of {first17!r} is {char!r}, which a USCC "
                             f"cannot contain (allowed: {ALPHABET})")
    chars = np.array([[ord(c) for c in first17 + "0"]], dtype=np.int64)
    return chr(int(_check_values(chars)[1][0]))


def org_check_char(first8: str) -> str:
    """The 9th character of an organisation code computed over its first 8 (GB 11714).

    >>> org_check_char("80210043")
    '3'
    """
    if len(first8) != 8:
        raise ValueError(f"expected the first 8 characters of an organisation code, "
                         f"got {len(first8)}: {first8!r}")
    for position, char in enumerate(first8, 1):
        if ord(char) >= 128 or _ORG_VALUE[ord(char)] < 0:
            raise ValueError(f"character {position} of {first8!r} is {char!r}; an "
                             f"organisation code has only digits and upper-case letters")
    chars = np.array([[ord(c) for c in "00000000" + first8 + "00"]], dtype=np.int64)
    return chr(int(_check_values(chars)[2][0]))


def valid_mask(codes: Iterable[str]) -> np.ndarray:
    """A boolean mask: which codes (normalised) are valid USCCs."""
    series = pd.Series(list(codes), dtype=object)
    bad = problems(series)
    return ~series.index.isin(bad.index)
