"""Rules numbers as exact fractions: quotas, rates and weights computed without float error."""

from __future__ import annotations

from fractions import Fraction


def exact(value: float) -> Fraction:
    """A rules number as the decimal written in the rules file (0.07 is 7/100, not 0.07000…01).

    The number is taken as a double and read back as its shortest decimal
    (``repr``), which is the decimal the user wrote for every TOML float. An
    integer is exact up to 2^53; larger integers round as doubles do, which
    changes no recorded draw: quota ratios and review rates lie in [0, 1], and
    a ``per_year`` beyond 2^53 asks for more firms than any stratum holds.
    """
    return Fraction(repr(float(value)))


def ceil_fraction(value: Fraction) -> int:
    """The smallest integer not below ``value``, exactly."""
    return -((-value.numerator) // value.denominator)
