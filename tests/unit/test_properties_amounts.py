"""Properties of the money parsers: every input is an amount or a refusal (``InputError`` for
typed amounts, the ``amount_invalid``/``amount_too_large`` problems of an import), never
another exception; what the bot shows parses back to the same amount."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot import formatting
from domain.imports import MAX_AMOUNT, MAX_POINTS, parse_import_amount, parse_points
from domain.imports.fields import _Invalid
from domain.rules.parsing import InputError, parse_amount
from tests.unit.property_strategies import mixed

cents = st.integers(min_value=1, max_value=10**11)


def _german(amount_cents: int, thousands: bool) -> str:
    euros, rest = divmod(amount_cents, 100)
    whole = f"{euros:,}".replace(",", ".") if thousands else str(euros)
    return f"{whole},{rest:02d}"


german_amounts = st.builds(_german, cents, st.booleans())
amount_like = st.builds(
    lambda sign, number, unit: sign + number + unit,
    st.sampled_from(["", "", "-", "+", " "]),
    st.one_of(german_amounts, st.from_regex(r"[0-9]{1,7}([.,][0-9]{1,3})?", fullmatch=True),
              st.from_regex(r"[0-9]{1,3}(\.[0-9]{3}){0,3}(,[0-9]{1,2})?", fullmatch=True),
              st.decimals(allow_nan=True, allow_infinity=True).map(str)),
    st.sampled_from(["", " €", "€", " EUR", " euro", "\u00a0€", " $"]),
)
maximums = st.one_of(st.none(), st.decimals(min_value=1, max_value=10**9, places=2))


@given(mixed(amount_like), maximums)
@example("9" * 5000, None)
@example("1" + ".000" * 2000, None)
@example("NaN", None)
@example("Infinity €", None)
@example("٣,50", None)
def test_an_amount_or_a_refusal(text, maximum):
    try:
        amount = parse_amount(text, maximum)
    except InputError as error:
        assert error.reason in {"amount_format", "amount_negative", "amount_zero", "amount_too_large"}
        return
    assert amount.is_finite() and amount > 0
    assert amount == amount.quantize(Decimal("0.01"))
    assert maximum is None or amount <= maximum


@given(cents, st.booleans())
def test_german_amounts_parse_exactly(amount_cents, thousands):
    assert parse_amount(_german(amount_cents, thousands)) == Decimal(amount_cents) / 100


@given(st.integers(min_value=1, max_value=10**9))
def test_what_the_bot_shows_parses_back(amount_cents):
    """"1.234,56 €" (with a no-break space, as babel writes it) is the amount it shows."""
    amount = Decimal(amount_cents) / 100
    shown = formatting.money(amount, "de")
    assert parse_amount(shown) == amount


@given(st.integers(min_value=1, max_value=10**9))
def test_dot_decimals_as_typed_on_a_phone(amount_cents):
    euros, rest = divmod(amount_cents, 100)
    assert parse_amount(f"{euros}.{rest:02d}") == Decimal(amount_cents) / 100


@given(mixed(amount_like))
@example("9" * 5000)
def test_import_amounts(text):
    try:
        amount = parse_import_amount(text)
    except _Invalid as invalid:
        assert invalid.reason in {"amount_invalid", "amount_too_large"}
        return
    assert 0 < amount <= MAX_AMOUNT


points_like = st.one_of(st.integers(min_value=-10, max_value=2 * MAX_POINTS).map(str),
                        st.integers(min_value=1000, max_value=2 * MAX_POINTS).map(lambda n: f"{n:,}".replace(",", ".")),
                        st.from_regex(r"[0-9.,]{1,12}", fullmatch=True))


@given(mixed(points_like))
@example("9" * 5000)
@example("1" + ".000" * 2000)
def test_import_points(text):
    try:
        points = parse_points(text)
    except _Invalid as invalid:
        assert invalid.reason == "points_invalid"
        return
    assert 0 <= points <= MAX_POINTS


@given(st.integers(min_value=0, max_value=MAX_POINTS), st.booleans())
def test_import_points_round_trip(points, thousands):
    text = f"{points:,}".replace(",", ".") if thousands else str(points)
    assert parse_points(text) == points


@pytest.mark.parametrize("text", ["9" * 5000, "0" * 4999 + "1" + "0" * 10])
def test_a_number_of_thousands_of_digits_is_refused_not_an_error(text):
    """int() refuses strings of more than 4300 digits with a ValueError of its own."""
    with pytest.raises(_Invalid):
        parse_points(text)
    assert parse_points("0" * 5000 + "250") == 250
