"""Names without hidden characters, and secrets strong enough to start with."""

import pytest

from bot.settings import Settings, weak_secret
from domain.rules.names import clean_name

STRONG = "Wq8zR3vN6tK1pY4mB7cX2hJ5sD9fG0aL"


@pytest.mark.parametrize("typed, expected", [
    ("Anna", "Anna"),
    ("An\u200bna", "Anna"),  # zero-width space
    ("\u202eannA", "annA"),  # right-to-left override
    ("Bea\u2066 (Chefin)\u2069", "Bea (Chefin)"),  # bidi isolates
    ("\ufeffJosé\u200d", "José"),  # byte order mark, zero-width joiner
    ("  Ben \t\n Müller ", "Ben Müller"),
    ("\u200b\u200c\u200e", None),
    ("", None),
    (None, None),
])
def test_names_lose_hidden_characters(typed, expected):
    assert clean_name(typed, 128) == expected


def test_names_are_cut_to_the_column():
    assert clean_name("Maximiliane " * 20, 128) == ("Maximiliane " * 20)[:128].rstrip()
    assert len(clean_name("x" * 500, 128)) == 128


@pytest.mark.parametrize("secret, problem", [
    ("e2e-receipt-secret", "18 characters, at least 32 are needed"),
    ("a" * 40, "too few different characters"),
    ("changeme-changeme-changeme-changeme1234", "it contains a placeholder word"),
    ("my-super-secret-receipt-key-for-the-shop", "it contains a placeholder word"),
    (STRONG, None),
])
def test_weak_secrets_are_named(secret, problem):
    assert weak_secret(secret) == problem


def settings(**env) -> Settings:
    return Settings.model_validate(env)


def test_webhook_mode_needs_a_strong_secret_and_receipts_a_strong_key():
    hook = "https://bot.example.test/hook"
    assert settings().security_problems() == []
    missing, = settings(TELEGRAM_WEBHOOK_URL=hook).security_problems()
    assert missing.startswith("TELEGRAM_WEBHOOK_SECRET is not set") and "openssl rand -hex 32" in missing
    bad_chars, = settings(TELEGRAM_WEBHOOK_URL=hook, TELEGRAM_WEBHOOK_SECRET=STRONG + "!").security_problems()
    assert "may only contain A-Z, a-z, 0-9, _ and -" in bad_chars
    assert settings(TELEGRAM_WEBHOOK_URL=hook, TELEGRAM_WEBHOOK_SECRET=STRONG).security_problems() == []
    weak, = settings(STAMMGAST_RECEIPT_SECRET="geheim").security_problems()
    assert weak.startswith("STAMMGAST_RECEIPT_SECRET is too weak (6 characters") and "geheim" not in weak.split("(")[1]
