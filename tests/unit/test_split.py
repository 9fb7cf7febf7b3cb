"""Splitting long HTML messages at Telegram's limit without breaking the markup."""

import random

import pytest

from bot.formatting import _utf16_len, split_html
from tests.fakebotapi.html_parser import parse_html


def plain(html_text: str) -> str:
    return parse_html(html_text).text


def test_short_text_is_one_message():
    assert split_html("Hallo <b>Welt</b>") == ["Hallo <b>Welt</b>"]


def test_paragraphs_are_preferred_break_points():
    paragraph = "Wort " * 300  # 1500 characters
    text = "\n\n".join([paragraph.strip()] * 6)
    chunks = split_html(text, limit=4096)
    assert len(chunks) == 3
    assert all(chunk.count("\n\n") == 1 for chunk in chunks)


def test_open_tags_are_closed_and_reopened():
    text = "<b>" + ("fett " * 2000) + "</b> Ende"
    chunks = split_html(text, limit=4096)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert _utf16_len(chunk) <= 4096
        plain(chunk)  # raises on invalid Telegram HTML
    assert chunks[1].startswith("<b>")


def test_entities_are_never_cut():
    text = "&amp;" * 2000
    for chunk in split_html(text, limit=100):
        assert chunk.startswith("&amp;") and chunk.endswith("&amp;")


def test_emoji_count_twice():
    text = "😀" * 3000  # 6000 UTF-16 units
    chunks = split_html(text)
    assert len(chunks) == 2 and all(_utf16_len(c) <= 4096 for c in chunks)


@pytest.mark.parametrize("seed", range(20))
def test_random_markup_splits_into_valid_chunks_that_keep_all_text(seed):
    rng = random.Random(seed)
    pieces = []
    for _ in range(rng.randint(200, 600)):
        word = rng.choice(["Kaffee", "Röstung", "&lt;3", "&amp;", "😀", "Ä", "x" * rng.randint(1, 30)])
        tag = rng.choice([None, None, "b", "i", "code"])
        pieces.append(f"<{tag}>{word}</{tag}>" if tag else word)
        pieces.append(rng.choice([" ", " ", "\n", "\n\n"]))
    text = "".join(pieces).strip()
    limit = rng.choice([200, 500, 4096])
    chunks = split_html(text, limit=limit)
    assert all(_utf16_len(chunk) <= limit for chunk in chunks)
    rejoined = "".join(plain(chunk) for chunk in chunks)
    assert rejoined.replace(" ", "").replace("\n", "") == plain(text).replace(" ", "").replace("\n", "")
