"""Short codes people read aloud and type: alphabet, normalizing what they typed, grouping."""

import pytest

from domain.rules import codes
from domain.rules.codes import ALPHABET, CUSTOMER_CODE_LENGTH, REWARD_CODE_LENGTH, grouped, new_code, normalize


def test_alphabet_leaves_out_look_alikes():
    assert not set("0O1I") & set(ALPHABET)
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert ALPHABET == ALPHABET.upper()


@pytest.mark.parametrize("length", [CUSTOMER_CODE_LENGTH, REWARD_CODE_LENGTH])
def test_new_codes_have_the_length_and_only_the_alphabet(length):
    drawn = [new_code(length) for _ in range(500)]
    assert all(len(code) == length and set(code) <= set(ALPHABET) for code in drawn)
    assert len(set(drawn)) == len(drawn)  # 32**6 possibilities: 500 draws do not collide in practice
    assert normalize(drawn[0], length) == drawn[0]


@pytest.mark.parametrize(("typed", "expected"), [
    ("K7QX2M", "K7QX2M"),
    ("k7qx2m", "K7QX2M"),
    ("k7q-x2m", "K7QX2M"),
    ("  K7Q X2M ", "K7QX2M"),
    ("k7q.x2m", "K7QX2M"),
    ("k7q_x2m", "K7QX2M"),
    ("K-7-Q-X-2-M", "K7QX2M"),
    ("K7Q\u00a0X2M", "K7QX2M"),  # a non-breaking space from a copied text
])
def test_customer_code_normalization(typed, expected):
    assert normalize(typed, CUSTOMER_CODE_LENGTH) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("K7QX-2M9P", "K7QX2M9P"), ("k7qx 2m9p", "K7QX2M9P"), ("k7qx2m9p", "K7QX2M9P"),
])
def test_reward_code_normalization(typed, expected):
    assert normalize(typed, REWARD_CODE_LENGTH) == expected


@pytest.mark.parametrize("typed", [
    "", "   ", "---", "K7QX2", "K7QX2MM", "K7QX2M9P",   # wrong length for a customer code
    "K7QX2O", "K7QX20", "K7QX2I", "K7QX21",           # the letters and digits left out
    "k7qx2o", "k7qx2i",                               # also in lower case
    "K7QX2!", "K7QX2Ä", "K7QX2２",                    # punctuation, umlaut, a full-width digit
    "K7Q/X2M", "K7Q,X2M",                             # separators that are not accepted
])
def test_normalization_refuses_what_cannot_be_a_code(typed):
    assert normalize(typed, CUSTOMER_CODE_LENGTH) is None


def test_normalization_of_none_is_none():
    assert normalize(None, CUSTOMER_CODE_LENGTH) is None  # type: ignore[arg-type]


def test_reward_code_of_wrong_length_is_refused():
    assert normalize("K7QX2M", REWARD_CODE_LENGTH) is None
    assert normalize("K7QX-2M9P-A", REWARD_CODE_LENGTH) is None


def test_grouped_splits_eight_characters_and_keeps_six():
    assert grouped("K7QX2M9P") == "K7QX-2M9P"
    assert grouped("K7QX2M") == "K7QX2M"
    assert normalize(grouped("K7QX2M9P"), REWARD_CODE_LENGTH) == "K7QX2M9P"  # what we show can be typed back


def test_code_lengths_are_distinct_so_codes_cannot_be_confused():
    assert codes.CUSTOMER_CODE_LENGTH != codes.REWARD_CODE_LENGTH


def test_non_ascii_letters_never_turn_into_a_valid_code():
    assert codes.normalize("K7QXß", codes.CUSTOMER_CODE_LENGTH) is None
