"""The owner's campaign text: placeholders, the coupon line, limits."""

import pytest

from domain import campaigns
from domain.campaigns import CampaignError


def test_a_plain_text_is_kept_with_its_line_breaks():
    message = campaigns.read_message("  Hallo {vorname}!\n\nNeue Bohnen sind da.  ")
    assert message == campaigns.Message("Hallo {vorname}!\n\nNeue Bohnen sind da.")


@pytest.mark.parametrize("line, offer, days", [
    ("Gutschein: 10 % auf eine Packung Bohnen", "10 % auf eine Packung Bohnen", 30),
    ("gutschein (14 Tage): Ein Kaffee gratis", "Ein Kaffee gratis", 14),
    ("GUTSCHEIN(1 Tag):  Ein   Croissant ", "Ein Croissant", 1),
])
def test_a_last_line_starting_with_gutschein_makes_a_coupon(line, offer, days):
    message = campaigns.read_message(f"Hallo {{vorname}}, dein Code: {{gutschein}}\n{line}")
    assert (message.text, message.coupon_offer, message.coupon_days) == ("Hallo {vorname}, dein Code: {gutschein}",
                                                                          offer, days)


@pytest.mark.parametrize("text, reason", [
    ("", "text_missing"),
    ("   \n ", "text_missing"),
    ("x" * (campaigns.MAX_TEXT + 1), "text_too_long"),
    ("Hallo {name}", "unknown_placeholder"),
    ("Dein Code: {gutschein}", "coupon_without_offer"),
    ("Hallo\nGutschein:", "coupon_offer_missing"),
    ("Hallo\nGutschein (0 Tage): Kaffee", "coupon_days_invalid"),
    ("Hallo\nGutschein (999 Tage): Kaffee", "coupon_days_invalid"),
    ("Hallo\nGutschein: " + "x" * 201, "coupon_offer_too_long"),
])
def test_unusable_texts_are_refused_with_a_reason(text, reason):
    with pytest.raises(CampaignError) as error:
        campaigns.read_message(text)
    assert error.value.reason == reason


def test_a_photo_may_come_without_text_but_its_caption_is_shorter():
    assert campaigns.read_message(None, has_photo=True).text == ""
    with pytest.raises(CampaignError) as error:
        campaigns.read_message("x" * (campaigns.MAX_CAPTION + 1), has_photo=True)
    assert error.value.reason == "caption_too_long"


def test_fill_replaces_known_placeholders_in_any_case_and_keeps_the_rest_visible():
    values = {"vorname": "Anna", "punkte": "1.234"}
    assert campaigns.fill("Hallo {Vorname}, {punkte} Punkte. {stufe} {a b} {}", values) == \
        "Hallo Anna, 1.234 Punkte. {stufe} {a b} {}"


def test_the_previewed_coupon_expires_when_the_sent_one_will():
    """Coupons are issued when the run goes out, so the preview counts their days from then."""
    from datetime import date, datetime, timezone

    from storage.models import Campaign

    now = datetime(2026, 12, 5, 9, tzinfo=timezone.utc)
    assert campaigns.coupon_expiry(Campaign(coupon_valid_days=14), now).date() == date(2026, 12, 19)
    planned = Campaign(next_run_at=datetime(2026, 12, 24, 9, tzinfo=timezone.utc))  # default 30 days
    assert campaigns.coupon_expiry(planned, now).date() == date(2027, 1, 23)
