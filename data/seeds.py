"""Seeds: their normal form, their strength, and where they come from.

A seed is written by people (dice digits read aloud, a lottery's published
numbers), so the same seed can be typed many ways. Every seed is brought to one
normal form before it is used or recorded (ALGORITHM.md, "The seed"):

1. Unicode NFKC, so full-width digits ``８０４`` are the digits ``804``;
2. every separator, space, control or punctuation character removed (Unicode
   categories Z*, C* and P*: spaces, ``-``, ``,``, ``、``, ``。``, ``·`` ...).

What is left is the seed the draw is computed with, printed and recorded. A
seed with fewer than :data:`MIN_DIGITS` decimal digits is weak: with few
possible values an insider can try them all offline and pick a convenient one,
so it is refused unless the caller says ``weak_seed`` (``--weak-seed``), and
then marked weak in every notice. A seed from the operating system cannot be
checked by the public (nobody saw it being made) and is marked so.
"""

from __future__ import annotations

import secrets
import unicodedata

from suiji.data.errors import SuijiError

MIN_DIGITS = 20
MAX_LENGTH = 200
EXAMPLE = "80417263950183746251"


def normalize_seed(text: str) -> str:
    """The seed's normal form: NFKC, then no separator, space, control or punctuation."""
    nfkc = unicodedata.normalize("NFKC", str(text))
    return "".join(c for c in nfkc if unicodedata.category(c)[0] not in "ZCP")


def digit_count(seed: str) -> int:
    """How many decimal digits the (normalised) seed has."""
    return sum(1 for c in seed if c in "0123456789")


def is_weak(seed: str) -> bool:
    return digit_count(normalize_seed(seed)) < MIN_DIGITS


def check_seed(seed: str) -> str:
    """The normalised seed, refused when empty or longer than :data:`MAX_LENGTH`."""
    normal = normalize_seed(seed)
    if not normal:
        raise SuijiError(f"The seed is empty. Give the dice digits, e.g. --seed {EXAMPLE}.")
    if len(normal) > MAX_LENGTH:
        raise SuijiError(f"The seed is longer than {MAX_LENGTH} characters.")
    return normal


def check_strength(seed: str, weak_seed: bool) -> bool:
    """Refuse a weak seed unless ``weak_seed``; returns whether it is weak."""
    digits = digit_count(seed)
    if digits >= MIN_DIGITS:
        return False
    if not weak_seed:
        raise SuijiError(
            f"The seed {seed!r} has {digits} decimal digit(s); at least {MIN_DIGITS} are "
            f"needed (e.g. {MIN_DIGITS} dice rolled before witnesses), because a short seed "
            f"can be chosen by trying every value. If the seed really is this short, pass "
            f"--weak-seed: the draw is then marked weak in every notice.")
    return True


def new_seed() -> str:
    """:data:`MIN_DIGITS` decimal digits from the operating system's secure random source."""
    return "".join(str(secrets.randbelow(10)) for _ in range(MIN_DIGITS))
