"""Commands and menu buttons: help, FAQ topics, language, marketing on/off (by button, by
free text with a confirmation, or /stop)."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import keyboards, opening_hours
from bot.chat import Incoming, Visitor, edit_unless_unchanged, identify, say, say_html
from bot.menus import show_help, show_menu
from bot.services import services
from domain import consent, customers
from domain import opening_hours as domain_opening_hours
from domain.consent import Wording, record_marketing_consent
from domain.conversation import Step
from nlu.client import ParseResult


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/hilfe, /help: what the bot can do, with the menu's buttons (one message)."""
    await show_help(context, await identify(update, context))


async def language_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sprache, /language: offer German and English."""
    visitor = await identify(update, context)
    await say(context, visitor, "language.choose", keyboards.languages(services(context).texts, visitor.voice))


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stop: no more marketing, at once; the bot keeps answering."""
    visitor = await identify(update, context)
    s = services(context)
    changed = await s.db(record_marketing_consent, visitor.customer_id, False, "stop_command", s.now())
    await say(context, visitor, "marketing.stopped" if changed or not visitor.consent_asked else "marketing.already_stopped")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command we do not have: say so and show the help, in one message."""
    await show_help(context, await identify(update, context), lead_key="errors.unknown_command")


async def _edit(update: Update, text: str, keyboard=None) -> None:
    await edit_unless_unchanged(update.callback_query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                                                        reply_markup=keyboard))


async def menu_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Navigate the menu in place: main menu, FAQ topics, marketing status, languages."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    await query.answer()
    texts, voice = s.texts, visitor.voice
    if query.data == keyboards.MENU_FAQ:
        await _edit(update, texts.render("menu.faq_prompt", voice), keyboards.faq_topics(texts, voice, s.faq))
    elif query.data == keyboards.MENU_MARKETING:
        status = "marketing.status_on" if visitor.marketing_consent else "marketing.status_off"
        await _edit(update, texts.render(status, voice), keyboards.marketing_toggle(texts, voice, visitor.marketing_consent))
    elif query.data == keyboards.MENU_LANGUAGE:
        await _edit(update, texts.render("language.choose", voice), keyboards.languages(texts, voice))
    else:
        await _edit(update, texts.render("menu.prompt", voice, name=visitor.first_name), keyboards.main_menu(texts, voice))


async def faq_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A FAQ topic button: the answer as a new message."""
    query = update.callback_query
    s = services(context)
    topic = s.faq.get(query.data.removeprefix(keyboards.FAQ_PREFIX))
    visitor = await identify(update, context)
    if topic is None:
        await query.answer(s.texts.plain("errors.stale_button", visitor.voice))
        return
    await query.answer()
    await answer_faq(context, visitor, topic.key)


async def on_faq_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                        message: Incoming, result: ParseResult) -> None:
    """A question the FAQ answers ("Habt ihr sonntags auf?")."""
    await answer_faq(context, visitor, result.faq_topic)


async def answer_faq(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, topic_key: str) -> None:
    s = services(context)
    topic = s.faq.get(topic_key)
    text = topic.answer_for(visitor.voice.language, visitor.voice.formal)
    if topic_key == opening_hours.TOPIC:
        text = await _opening_hours_answer(context, visitor, text)
    await say_html(context, visitor, text)


async def _opening_hours_answer(context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, faq_text: str) -> str:
    """Written from config.yml's hours when the shop set them (else faq.yml's text), with the
    owner's closures: asked at answer time, so a "heute geschlossen" counts at once. ``db`` (not
    ``read``): the message's deferred bookkeeping shares this transaction."""
    s = services(context)
    now = s.now()
    facts = await s.db(domain_opening_hours.answer_facts, s.config.opening_hours(), now)
    own_text = None if s.config.opening_hours_configured else faq_text
    return opening_hours.render(s.texts, visitor.voice, facts, now, own_text)


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Deutsch / English: store the choice and continue in that language."""
    query = update.callback_query
    s = services(context)
    language = query.data.removeprefix(keyboards.LANGUAGE_PREFIX)
    visitor = await identify(update, context)
    await s.db(customers.choose_language, visitor.customer_id, language)
    visitor = replace(visitor, voice=s.voice(language))
    await query.answer()
    await _edit(update, s.texts.render("language.changed", visitor.voice))
    await show_menu(context, visitor)


async def marketing_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe (after the consent question), unsubscribe or keep: the button itself is the
    explicit confirmation."""
    query = update.callback_query
    s = services(context)
    visitor = await identify(update, context)
    await query.answer()
    if query.data == keyboards.MARKETING_ASK:  # "Anmelden" in the menu: the question comes first
        await _edit(update, s.texts.render("marketing.confirm_start", visitor.voice),
                    keyboards.confirm_marketing(s.texts, visitor.voice, granted=True))
        return
    if query.data == keyboards.MARKETING_KEEP:
        await s.db(consent.keep_marketing, visitor.customer_id)
        await _edit(update, s.texts.render("marketing.unchanged", visitor.voice))
        return
    granted = query.data == keyboards.MARKETING_ON
    await _change_marketing(context, visitor, granted, "button", edit=update)


async def _change_marketing(context, visitor: Visitor, granted: bool, source: str, edit: Update | None = None) -> None:
    """Record the change; a consent is recorded with the wording of the question it answers,
    as the bot renders it (not as a pressed message claims: a forged button records no other text)."""
    s = services(context)
    wording = Wording(visitor.voice.language, s.texts.plain("marketing.confirm_start", visitor.voice)) if granted else None
    changed = await s.db(consent.change_marketing, visitor.customer_id, granted, source, s.now(), wording)
    if granted:
        key = "marketing.started" if changed else "marketing.already_started"
    else:
        key = "marketing.stopped" if changed else "marketing.already_stopped"
    text = s.texts.render(key, visitor.voice)
    if edit is not None:
        await _edit(edit, text)
    else:
        await say_html(context, visitor, text)


async def on_marketing_intent(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                              message: Incoming, result: ParseResult) -> None:
    """opt_in / opt_out in free text: confirm first, by button or by a typed yes/no."""
    s = services(context)
    granted = result.intent == "opt_in"
    if visitor.consent_asked and visitor.marketing_consent == granted:
        await say(context, visitor, "marketing.already_started" if granted else "marketing.already_stopped")
        return
    await s.db(consent.ask_to_change_marketing, visitor.customer_id, granted, s.now())
    key = "marketing.confirm_start" if granted else "marketing.confirm_stop"
    await say(context, visitor, key, keyboards.confirm_marketing(s.texts, visitor.voice, granted))


async def answer_marketing_question(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor,
                                    step: Step, yes: bool) -> None:
    """A typed yes/no answers the open question about offers."""
    s = services(context)
    if not yes:
        await s.db(consent.keep_marketing, visitor.customer_id)
        await say(context, visitor, "marketing.unchanged")
        return
    await _change_marketing(context, visitor, bool(step.data.get("granted")), "chat")
