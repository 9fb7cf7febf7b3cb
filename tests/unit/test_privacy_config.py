"""config.yml's privacy section: the notice's keys and the retention periods are checked at
start with the key, the problem and an example; a production start names every missing key."""

from pathlib import Path

import pytest

from bot import formatting
from bot.settings import Settings, privacy_problems
from domain.config import ConfigError, load_config, notice_problems

REPO = Path(__file__).resolve().parents[2]
SHOP = "shop:\n  name: X\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_config_has_a_complete_notice_and_defensible_periods():
    privacy = load_config(REPO / "config.yml").privacy
    assert privacy.missing_notice_keys() == ()
    assert privacy.policy_url.startswith("https://") and "@" in privacy.contact and "Berlin" in privacy.controller
    kept = privacy.retention
    assert (kept.message_log_days, kept.ticket_days, kept.feedback_days, kept.survey_reason_days,
            kept.outbox_payload_days, privacy.inactive_years) == (90, 730, 730, 730, 90, 3)


def test_without_the_section_the_defaults_apply_and_the_notice_is_missing(tmp_path):
    config = load_config(write(tmp_path, SHOP))
    assert config.privacy.retention.message_log_days == 90 and config.privacy.inactive_years == 3
    assert config.privacy.missing_notice_keys() == ("controller", "contact", "policy_url")


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("policy_url: http://example.de/datenschutz", ["privacy.policy_url", "should match pattern",
                                                        "Example: policy_url: https://kaffeehaus-morgenrot.de/datenschutz"]),
        ("contact: beim Chef fragen", ["privacy.contact", "e-mail address or a phone number",
                                       "Example: contact: datenschutz@kaffeehaus-morgenrot.de"]),
        ("controller: Wir", ["privacy.controller", "at least 10 characters", "Example: controller: Kaffeehaus"]),
        ("controller: '          '", ["privacy.controller", "is empty"]),
        ("retention: {message_log_days: 0}", ["privacy.retention.message_log_days", "greater than or equal to 1",
                                              "Example: message_log_days: 90"]),
        ("retention: {ticket_days: zwei Jahre}", ["privacy.retention.ticket_days", "valid integer",
                                                  "Example: ticket_days: 730"]),
        ("retention: {texts_days: 30}", ["privacy.retention.texts_days", "unknown key"]),
        ("inactive_years: 0", ["privacy.inactive_years", "greater than or equal to 1", "Example: inactive_years: 3"]),
        ("policy: https://example.de", ["privacy.policy", "unknown key (check the spelling)"]),
    ],
)
def test_invalid_privacy_keys_explain_key_problem_and_example(tmp_path, section, expected):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, f"{SHOP}privacy:\n  {section}\n"))
    for fragment in expected:
        assert fragment in str(error.value)


@pytest.mark.parametrize("contact", ["datenschutz@example.de", "+49 30 1234567", "030 / 123 45 67"])
def test_mail_addresses_and_phone_numbers_are_contacts(tmp_path, contact):
    config = load_config(write(tmp_path, f"{SHOP}privacy:\n  contact: '{contact}'\n"))
    assert config.privacy.contact == contact


def test_a_production_start_names_every_missing_key_with_an_example(tmp_path):
    path = write(tmp_path, f"{SHOP}privacy:\n  contact: info@example.de\n")
    config = load_config(path)
    problems = notice_problems(path, config)
    assert [p.split(": ")[1] for p in problems] == ["privacy.controller", "privacy.policy_url"]
    assert all("is required to run with Telegram" in p and "Art. 13" in p and "Example:" in p for p in problems)
    official = Settings(TELEGRAM_BOT_TOKEN="1:x", STAMMGAST_CONFIG=str(path))
    fake = Settings(TELEGRAM_BOT_TOKEN="1:x", STAMMGAST_CONFIG=str(path), TELEGRAM_API_BASE_URL="http://127.0.0.1:8081")
    assert official.production and privacy_problems(official, config) == problems
    assert not fake.production and privacy_problems(fake, config) == []


@pytest.mark.parametrize(("days", "language", "text"), [
    (90, "de", "90 Tage"), (730, "de", "2 Jahre"), (365, "de", "1 Jahr"), (1000, "de", "1.000 Tage"),
    (90, "en", "90 days"), (730, "en", "2 years"),
])
def test_periods_read_as_days_or_whole_years(days, language, text):
    assert formatting.period(days, language) == text
