"""Money: exact integer cents inside, Decimal at the edges, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from finance_tui.money import (
    MAX_AMOUNT,
    MAX_MINOR,
    AmountError,
    format_decimal,
    format_minor,
    from_minor,
    parse_amount,
    plain_minor,
    to_minor,
)

cents = st.integers(min_value=1, max_value=MAX_MINOR)


@given(cents)
def test_minor_round_trip_is_exact(n):
    amount = from_minor(n)
    assert amount.as_tuple().exponent == -2
    assert to_minor(amount) == n
    assert to_minor(parse_amount(str(amount))) == n
    assert to_minor(parse_amount(format_decimal(amount))) == n  # with thousands separators
    assert to_minor(parse_amount(plain_minor(n))) == n
    assert to_minor(parse_amount(amount)) == n  # a Decimal passes through unchanged


@given(cents)
def test_formats_agree_with_integer_arithmetic(n):
    units, rest = divmod(n, 100)
    assert plain_minor(n) == f"{units}.{rest:02d}"
    assert plain_minor(-n) == f"-{units}.{rest:02d}"
    assert format_decimal(from_minor(n)) == f"{units:,}.{rest:02d}"
    assert format_minor(n, "EUR") == f"{units:,}.{rest:02d} EUR"


@given(st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2))
def test_valid_decimals_parse_exactly(value):
    assert parse_amount(str(value)) == value
    assert parse_amount(f"{value:,}") == value
    assert parse_amount(f"  {value}  ") == value
    assert parse_amount(value.normalize()) == value  # e.g. Decimal('1E+2')


@given(st.integers(min_value=1, max_value=MAX_MINOR), st.integers(min_value=3, max_value=8))
def test_more_than_two_decimals_rejected(n, places):
    text = f"{from_minor(n)}{'1' * (places - 2)}"
    with pytest.raises(AmountError, match="more than 2 decimal places"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1,234,567.89", "1234567.89"),
        ("99,999,999.99", "99999999.99"),
        ("0.01", "0.01"),
        (".5", "0.50"),
        ("5.", "5.00"),
        ("+5", "5.00"),
        ("007", "7.00"),
        (" 42 ", "42.00"),
        (12, "12.00"),
        (Decimal("3.1"), "3.10"),
    ],
)
def test_accepted_forms(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "must be positive"),
        ("-0.01", "must be positive"),
        (Decimal("-5"), "must be positive"),
        ("0", "greater than zero"),
        ("0.00", "greater than zero"),
        (0, "greater than zero"),
        ("NaN", "not a number"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("Infinity", "not a number"),
        (Decimal("NaN"), "not a number"),
        (Decimal("Infinity"), "not a number"),
        ("1.001", "more than 2 decimal places"),
        ("0.005", "more than 2 decimal places"),
        ("100000000", "at most 99,999,999.99"),
        ("99999999.991", "more than 2 decimal places"),
        ("100,000,000.00", "at most 99,999,999.99"),
        ("1e3", "not a number"),
        ("12abc", "not a number"),
        ("1,23", "not a number"),
        ("12,34,567", "not a number"),
        ("1.2.3", "not a number"),
        ("$5", "not a number"),
        ("5 USD", "not a number"),
        ("١٢٣", "not a number"),  # Arabic-Indic digits
        ("１２３", "not a number"),  # full-width digits
        ("", "is required"),
        ("   ", "is required"),
        (1.5, "float"),
        (True, "not a number"),
    ],
)
def test_rejected_with_a_clear_message(value, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(value)


def test_to_minor_refuses_sub_cent_values():
    with pytest.raises(AmountError):
        to_minor(Decimal("1.005"))
    assert to_minor(Decimal("1.50")) == 150
    assert isinstance(to_minor(Decimal("1.50")), int)


def test_max_amount_is_the_original_ceiling():
    assert Decimal("99999999.99") == MAX_AMOUNT
    assert parse_amount("99999999.99") == MAX_AMOUNT
    assert to_minor(MAX_AMOUNT) == MAX_MINOR
