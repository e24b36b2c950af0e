"""Money: integer minor units in storage, ``Decimal`` at the edges, never ``float``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

MINOR_PER_UNIT = 100
MAX_MINOR = 9_999_999_999  # 99,999,999.99 — the original Decimal(10, 2) ceiling
MAX_AMOUNT = Decimal(MAX_MINOR) / MINOR_PER_UNIT

# Digits with optional well-formed thousands separators, then up to any decimals.
# ASCII digits only: ``\d`` would also take Arabic-Indic or full-width digits.
_AMOUNT_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d*))?$|^\.(\d+)$", re.ASCII)


class AmountError(ValueError):
    """Raised with a user-facing message when an amount cannot be accepted."""


def parse_amount(value: object) -> Decimal:
    """Parse ``1234.5``, ``1,234.50`` (or a Decimal/int) into a positive 2-dp Decimal."""
    if isinstance(value, float):
        raise AmountError("amounts must not be floats")
    if isinstance(value, bool):
        raise AmountError("is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError("is not a number")
        text = format(value, "f")  # str() would give '1E+2' for a normalised 100
    elif isinstance(value, int):
        text = str(value)
    else:
        text = str(value).strip().replace("_", "")
    if not text:
        raise AmountError("is required")
    if text.startswith("-"):
        raise AmountError("must be positive (the kind says income or expense)")
    if text.startswith("+"):
        text = text[1:]
    match = _AMOUNT_RE.match(text)
    if not match:
        raise AmountError("is not a number (use e.g. 1234.50 or 1,234.50)")
    decimals = match.group(1) or match.group(2) or ""
    if len(decimals) > 2:
        raise AmountError("has more than 2 decimal places")
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise AmountError("is not a number") from None
    if amount <= 0:
        raise AmountError("must be greater than zero")
    if amount > MAX_AMOUNT:
        raise AmountError(f"must be at most {format_decimal(MAX_AMOUNT)}")
    return amount.quantize(Decimal("0.01"))


def to_minor(amount: Decimal) -> int:
    """Exact conversion of a 2-dp Decimal to integer cents."""
    cents = amount * MINOR_PER_UNIT
    if cents != cents.to_integral_value():
        raise AmountError("has more than 2 decimal places")
    return int(cents)


def from_minor(minor: int) -> Decimal:
    return (Decimal(int(minor)) / MINOR_PER_UNIT).quantize(Decimal("0.01"))


def format_decimal(amount: Decimal) -> str:
    """``1234567.5`` → ``1,234,567.50``."""
    return f"{amount:,.2f}"


def format_minor(minor: int, currency: str | None = None) -> str:
    text = format_decimal(from_minor(minor))
    return f"{text} {currency}" if currency else text


def plain_minor(minor: int) -> str:
    """Plain decimal string for files: ``-1234.50`` (no separators, no currency)."""
    return f"{from_minor(minor):.2f}"
