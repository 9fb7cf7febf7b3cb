"""Inline keyboards and the callback data they carry.

Callback data names an action, never a customer: every handler acts on the customer who
pressed, so forged data can at most trigger an action on one's own account.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import Texts, Voice
from domain.outbox import Button
from nlu.faq import FaqCatalog

CONSENT_YES, CONSENT_NO = "consent:yes", "consent:no"
MENU_MAIN, MENU_FAQ, MENU_MARKETING, MENU_LANGUAGE = "menu:main", "menu:faq", "menu:marketing", "menu:language"
HANDOFF, HANDOFF_CANCEL = "handoff", "handoff:cancel"
MARKETING_ASK, MARKETING_ON, MARKETING_OFF, MARKETING_KEEP = "marketing:ask", "marketing:on", "marketing:off", "marketing:keep"
FAQ_PREFIX = "faq:"
POINTS, REWARDS, CARD = "loyalty:points", "loyalty:rewards", "loyalty:card"
REWARD_PREFIX = "reward:"  # + reward key from config
REDEEM_PREFIX, REDEEM_CANCEL = "redeem:", "redeem:cancel"  # + the confirmation's nonce
BIRTHDAY_YES, BIRTHDAY_NO = "bday:yes", "bday:no"
LANGUAGE_PREFIX = "lang:"


def _button(texts: Texts, voice: Voice, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(texts.plain(key, voice), callback_data=data)


def main_menu(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(texts, voice, "menu.faq_button", MENU_FAQ)],
        [_button(texts, voice, "loyalty.points_button", POINTS), _button(texts, voice, "loyalty.rewards_button", REWARDS)],
        [_button(texts, voice, "menu.human_button", HANDOFF)],
        [_button(texts, voice, "menu.marketing_button", MENU_MARKETING)],
        [_button(texts, voice, "menu.language_button", MENU_LANGUAGE)],
    ])


def faq_topics(texts: Texts, voice: Voice, catalog: FaqCatalog) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(topic.title_for(voice.language), callback_data=FAQ_PREFIX + topic.key)
        for topic in catalog.topics.values()
    ]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([_button(texts, voice, "menu.back_button", MENU_MAIN)])
    return InlineKeyboardMarkup(rows)


def consent_question(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        _button(texts, voice, "consent.yes_button", CONSENT_YES),
        _button(texts, voice, "consent.no_button", CONSENT_NO),
    ]])


def confirm_marketing(texts: Texts, voice: Voice, granted: bool) -> InlineKeyboardMarkup:
    prefix = "marketing.confirm_start" if granted else "marketing.confirm_stop"
    return InlineKeyboardMarkup([[
        _button(texts, voice, f"{prefix}_yes", MARKETING_ON if granted else MARKETING_OFF),
        _button(texts, voice, f"{prefix}_no", MARKETING_KEEP),
    ]])


def marketing_toggle(texts: Texts, voice: Voice, subscribed: bool) -> InlineKeyboardMarkup:
    # Subscribing asks the consent question first: the consent is given on its wording.
    toggle = ("marketing.turn_off_button", MARKETING_OFF) if subscribed else ("marketing.turn_on_button", MARKETING_ASK)
    return InlineKeyboardMarkup([
        [_button(texts, voice, *toggle)],
        [_button(texts, voice, "menu.back_button", MENU_MAIN)],
    ])


def languages(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        _button(texts, voice, "language.german_button", LANGUAGE_PREFIX + "de"),
        _button(texts, voice, "language.english_button", LANGUAGE_PREFIX + "en"),
    ]])


def cancel_request(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    """Under "Worum geht es?": no ticket after all."""
    return InlineKeyboardMarkup([[_button(texts, voice, "tickets.request_cancel_button", HANDOFF_CANCEL)]])


def fallback_menu(texts: Texts, voice: Voice) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(texts, voice, "menu.faq_button", MENU_FAQ)],
        [_button(texts, voice, "menu.human_button", HANDOFF)],
    ])


def from_spec(rows: tuple[tuple[Button, ...], ...], texts: Texts, voice: Voice) -> InlineKeyboardMarkup | None:
    """Buttons of an outbox message (domain description) as a Telegram keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.text or texts.plain(b.label, voice), callback_data=b.callback, url=b.url) for b in row]
        for row in rows
    ])
