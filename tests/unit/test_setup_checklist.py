"""The owner's setup checklist (domain.setup_checklist): every item done and open."""

from dataclasses import replace

import pytest

from domain.setup_checklist import COULD_NOT_CHECK, Item, SetupFacts, all_done, checklist, faq_is_sample
from nlu.faq import load_catalog

READY = SetupFacts(staff_chat_id=-100123, bot_admin_in_staff_chat=True, missing_privacy_keys=(),
                   faq_is_sample=False, receipt_secret_set=True, webhook_mode=True, webhook_secret_set=True,
                   owners_out_of_reach=())


def item(facts: SetupFacts, key: str) -> Item | None:
    return next((found for found in checklist(facts) if found.key == key), None)


def test_a_shop_with_everything_set_up_has_every_item_done():
    items = checklist(READY)
    assert [found.key for found in items] == ["staff_chat", "bot_admin", "privacy", "faq", "receipt_secret",
                                              "webhook_secret", "owners_reachable"]
    assert all_done(items)


@pytest.mark.parametrize("change, key", [
    ({"receipt_secret_set": False}, "receipt_secret"),
    ({"webhook_secret_set": False}, "webhook_secret"),
    ({"faq_is_sample": True}, "faq"),
    ({"bot_admin_in_staff_chat": False}, "bot_admin"),
])
def test_each_missing_piece_leaves_its_item_open(change, key):
    facts = replace(READY, **change)
    assert item(facts, key) == Item(key, False)
    assert [found.key for found in checklist(facts) if not found.done] == [key]


def test_without_a_staff_group_its_item_is_open_and_the_admin_question_does_not_arise():
    facts = replace(READY, staff_chat_id=None, bot_admin_in_staff_chat=None)
    assert item(facts, "staff_chat") == Item("staff_chat", False)
    assert item(facts, "bot_admin") is None


def test_a_staff_group_telegram_could_not_be_asked_about_says_so():
    assert item(replace(READY, bot_admin_in_staff_chat=None), "bot_admin") == Item("bot_admin", False, COULD_NOT_CHECK)


def test_the_privacy_item_names_the_missing_keys():
    facts = replace(READY, missing_privacy_keys=("controller", "policy_url"))
    assert item(facts, "privacy") == Item("privacy", False, "controller, policy_url")
    assert item(READY, "privacy") == Item("privacy", True)


def test_the_webhook_secret_matters_only_in_webhook_mode():
    assert item(replace(READY, webhook_mode=False, webhook_secret_set=False), "webhook_secret") is None


def test_owners_the_bot_cannot_reach_are_named():
    facts = replace(READY, owners_out_of_reach=(111, 222))
    assert item(facts, "owners_reachable") == Item("owners_reachable", False, "111, 222")
    assert item(READY, "owners_reachable") == Item("owners_reachable", True)


def test_the_bundled_faq_is_recognised_as_the_sample_and_a_shops_own_is_not():
    assert faq_is_sample(load_catalog().answers())
    assert not faq_is_sample(["Wir haben Mo–Fr von 8 bis 18 Uhr geöffnet.", "Bäckerei Sonne, Hauptstraße 3"])
    assert faq_is_sample(["Schreib uns: hallo@kaffeehaus-morgenrot.de"])  # one left-over answer is enough
