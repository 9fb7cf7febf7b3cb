"""The owner's campaigns: ``/broadcast <segment>`` and ``/planen <when> <segment>`` (then the text
or a photo with caption, a preview for one sample customer, and the confirm button),
``/kampagnen`` (planned, running and finished campaigns with their figures) and
``/abbrechen <id>``.

Drafts are written in the owner's private chat (the text is the owner's next message there);
the list and cancelling also work in the staff group. The rules live in domain.campaigns.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot import formatting
from bot.chat import Incoming, Visitor, edit_unless_unchanged, send_html
from bot.owner import Owner, admin_only, arguments, close_preview, owner_of, say, say_together
from bot.services import Services, services
from bot.texts import Html, Voice
from domain import campaigns, holdout, segments
from domain.rules import when
from domain.conversation import Step
from domain.outbox import date_param

log = logging.getLogger(__name__)

BUTTON_PATTERN = r"^camp:(ok|no):[0-9]{1,10}:[0-9a-f]{12}$"
HOLDOUT_PATTERN = r"^camp:hold:[0-9]{1,10}:[0-9a-f]{12}:[0-9]{1,2}$"
HOLDOUT_CHOICES = (0, 10, 20)  # the control group row under the preview (and the config's own share)
_ID = re.compile(r"^#?(\d{1,9})$")
SAMPLE_CODE = "K7QX-2M9P"  # the preview shows how a coupon code looks; each recipient gets their own


# --- /broadcast and /planen ----------------------------------------------------------------------

async def broadcast_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcast <segment>: a campaign sent as soon as it is confirmed."""
    await _start(update, context, planned=False)


async def plan_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/planen <when> <segment>: a campaign at a time, or recurring ("jeden Montag 9:00")."""
    await _start(update, context, planned=True)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE, planned: bool) -> None:
    s = services(context)
    owner = await owner_of(update, context)
    usage = "campaigns.usage_plan" if planned else "campaigns.usage_broadcast"
    if update.effective_chat.type != "private":
        await say(context, owner, "campaigns.private_only")
        return
    typed = " ".join(arguments(update).split())
    if not typed:
        await say_together(context, owner, (usage, {}), _segment_help(s))
        return
    schedule = None
    if planned:
        try:
            schedule, typed = when.split(typed, s.now(), s.config.shop.timezone)
        except when.WhenError as error:
            log.info("campaign time refused", extra={"reason": error.reason})
            await say_together(context, owner, (f"campaigns.when_errors.{error.reason}", {"value": error.value}),
                               (usage, {}))
            return
    segment = await _segment(context, owner, typed, usage)
    if segment is None:
        return
    summary, count = await _summary(s, owner.voice, segment)
    if not count.reachable:
        await send_html(context.bot, owner.chat_id, summary)
        await say(context, owner, "campaigns.nobody")
        return
    await s.db(campaigns.start, owner.customer_id, update.effective_user.id, segment, schedule, s.now(),
               s.config.campaigns.holdout_percent)
    await send_html(context.bot, owner.chat_id, summary)
    await say(context, owner, "campaigns.ask_text", when=Html(_when_text(s, owner.voice, schedule)))


async def _segment(context: ContextTypes.DEFAULT_TYPE, owner: Owner, typed: str, usage: str) -> segments.Segment | None:
    s = services(context)
    try:
        return segments.parse(typed, s.campaign_rules.segments)
    except segments.SegmentError as error:
        log.info("segment refused", extra={"reason": error.reason})
        # The refusal names the choices; the whole explanation is one /segment away.
        await say_together(context, owner, (f"segments.errors.{error.reason}", error.params), (usage, {}),
                           ("segments.see_all", {}))
        return None


def _segment_help(s: Services) -> tuple[str, dict]:
    return "segments.help", segments.help_params(s.campaign_rules.segments)


def _when_text(s: Services, voice: Voice, schedule: when.Schedule | None) -> str:
    if schedule is None:
        return s.texts.render("campaigns.when_now", voice)
    if schedule.recurrence:
        return recurrence_text(s, voice, schedule.recurrence)
    return s.texts.render("campaigns.when_at", voice, moment={"moment": schedule.first_run.isoformat()})


def recurrence_text(s: Services, voice: Voice, rule: str) -> str:
    """"jeden Montag um 09:00" / "täglich um 10:00" from "weekly:0:09:00" / "daily:10:00"."""
    kind, _, rest = rule.partition(":")
    if kind == "daily":
        return s.texts.render("campaigns.when_daily", voice, time=rest)
    weekday, _, clock = rest.partition(":")
    name = get_day_names("wide", locale=formatting.LOCALES.get(voice.language, "de_DE"))[int(weekday)]
    return s.texts.render("campaigns.when_weekly", voice, weekday=name, time=clock)


async def segment_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/segment <segment>: how many customers it has, how many can be reached, three names."""
    s = services(context)
    owner = await owner_of(update, context)
    typed = " ".join(arguments(update).split())
    if not typed:
        await say_together(context, owner, _segment_help(s))
        return
    segment = await _segment(context, owner, typed, "campaigns.usage_segment")
    if segment is not None:
        summary, _ = await _summary(s, owner.voice, segment)
        await send_html(context.bot, owner.chat_id, summary)


async def _summary(s: Services, voice: Voice, segment: segments.Segment) -> tuple[str, segments.SegmentCount]:
    """"N customers, M of them reachable: Anna M., Ben K., Carla S." and the count."""
    rules = s.campaign_rules.segments
    await _tiers_summed(s, segment)
    count = await s.db(segments.count, segment, rules, s.now())
    names = await s.db(segments.sample_names, segment, rules, s.now())
    key = "segments.summary" if count.reachable else "segments.summary_nobody_reachable"
    text = s.texts.render(key, voice, matching=count.matching, reachable=count.reachable, names=", ".join(names))
    return text, count


async def _tiers_summed(s: Services, segment: segments.Segment) -> None:
    """Before a tier segment is counted, the tier points of the customers who bought since the
    job last ran are summed again (a few rows; the count then reads one column)."""
    if segments.TIER in segment.kinds:
        await s.refresh_kept_figures()


# --- the text, the preview and the confirm button -----------------------------------------------

async def take_message(update: Update, context: ContextTypes.DEFAULT_TYPE, visitor: Visitor, message: Incoming,
                       step: Step) -> bool:
    """The owner's message (a text, or a photo with caption) after /broadcast or /planen; False
    when no draft waits for one."""
    if not message.is_text and message.photo is None:
        return False
    text, photo = message.text, message.photo
    s = services(context)
    draft = await s.db(campaigns.waiting_draft, visitor.customer_id, s.now())
    if draft is None or not await admin_only(update, context):
        return False
    owner = Owner(visitor.customer_id, visitor.chat_id, visitor.voice)
    try:
        message = campaigns.read_message(text, has_photo=photo is not None)
    except campaigns.CampaignError as error:
        log.info("campaign text refused", extra={"reason": error.reason})
        await say(context, owner, f"campaigns.errors.{error.reason}", value=error.value,
                  max=campaigns.MAX_CAPTION if photo else campaigns.MAX_TEXT,
                  placeholders=", ".join("{" + name + "}" for name in campaigns.PLACEHOLDERS))
        return True
    campaign = await s.db(campaigns.set_message, draft.id, message, photo)
    await _preview(context, owner, campaign)
    return True


async def _preview(context: ContextTypes.DEFAULT_TYPE, owner: Owner, campaign) -> None:
    """The message as one sample recipient will read it, then the count and the buttons."""
    s = services(context)
    rules = s.campaign_rules
    segment = segments.parse(campaign.segment, rules.segments)
    await _tiers_summed(s, segment)
    count = await s.db(segments.count, segment, rules.segments, s.now())
    first = await s.db(segments.recipients, segment, rules.segments, s.now(), limit=1)
    sample_id = first[0][0] if first else None
    body, name = await s.db(campaigns.sample_text, campaign, sample_id, rules, owner.voice.language, s.now(),
                            SAMPLE_CODE)
    spec_key = campaigns.TEMPLATE_WITH_COUPON if campaign.coupon_offer else campaigns.TEMPLATE
    params = {"body": body}
    if campaign.coupon_offer:
        params |= {"offer": campaign.coupon_offer, "code": SAMPLE_CODE,
                   "valid_until": date_param(campaigns.coupon_expiry(campaign, s.now()).date())}
    text = s.texts.render(spec_key, owner.voice, **params)
    await say(context, owner, "campaigns.preview_title", name=name or "–")
    if campaign.photo:
        await context.bot.send_photo(owner.chat_id, campaign.photo, caption=text or None, parse_mode=ParseMode.HTML)
    else:
        await send_html(context.bot, owner.chat_id, text)
    await send_html(context.bot, owner.chat_id, _confirm_text(s, owner.voice, campaign, count.reachable),
                    _confirm_keyboard(s, owner.voice, campaign))


def _confirm_text(s: Services, voice: Voice, campaign, reachable: int) -> str:
    confirm_key = "campaigns.confirm_planned" if campaign.next_run_at else "campaigns.confirm_now"
    schedule = when.Schedule(campaign.next_run_at, campaign.recurrence) if campaign.next_run_at else None
    return s.texts.render(confirm_key, voice, count=reachable, segment=campaign.segment,
                          when=Html(_when_text(s, voice, schedule)),
                          coupon=Html(s.texts.render("campaigns.coupon_note", voice, offer=campaign.coupon_offer,
                                                     days=campaign.coupon_valid_days) if campaign.coupon_offer else ""),
                          holdout=Html(_holdout_note(s, voice, campaign, reachable)))


def _holdout_note(s: Services, voice: Voice, campaign, reachable: int) -> str:
    """Under the confirmation: how many (about) are held back, when the shop uses a control group."""
    if not _holdout_offered(s):
        return ""
    if not campaign.holdout_percent:
        return s.texts.render("campaigns.holdout_off", voice)
    return s.texts.render("campaigns.holdout_note", voice, percent=campaign.holdout_percent,
                          held=round(reachable * campaign.holdout_percent / 100),
                          days=s.config.campaigns.effect_days)


def _holdout_offered(s: Services) -> bool:
    """``campaigns.holdout_percent: 0`` switches control groups off: no row, nobody held back."""
    return s.config.campaigns.holdout_percent > 0


def _holdout_choices(s: Services) -> list[int]:
    return sorted({*HOLDOUT_CHOICES, s.config.campaigns.holdout_percent})


def _confirm_keyboard(s: Services, voice: Voice, campaign) -> InlineKeyboardMarkup:
    ok_label = "campaigns.plan_button" if campaign.next_run_at else "campaigns.send_button"
    suffix = f"{campaign.id}:{campaign.nonce}"
    rows = [[
        InlineKeyboardButton(s.texts.plain(ok_label, voice), callback_data=f"camp:ok:{suffix}"),
        InlineKeyboardButton(s.texts.plain("campaigns.discard_button", voice), callback_data=f"camp:no:{suffix}"),
    ]]
    if _holdout_offered(s):
        rows.append([InlineKeyboardButton(
            s.texts.plain("campaigns.holdout_button_chosen" if percent == campaign.holdout_percent
                          else "campaigns.holdout_button", voice, percent=percent),
            callback_data=f"camp:hold:{suffix}:{percent}") for percent in _holdout_choices(s)])
    return InlineKeyboardMarkup(rows)


async def holdout_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Kontrollgruppe: 0 % / 10 % / 20 %" under a preview: the draft's share changes, and the
    confirmation is edited in place (its text and which button is ticked)."""
    s = services(context)
    query = update.callback_query
    owner = await owner_of(update, context)
    _, _, campaign_id, nonce, percent = query.data.split(":")
    campaign = None
    if _holdout_offered(s) and int(percent) in _holdout_choices(s):
        campaign = await s.db(campaigns.set_holdout, int(campaign_id), nonce, update.effective_user.id, int(percent))
    if campaign is None:  # confirmed or discarded meanwhile, an old preview or forged data
        await query.answer(s.texts.plain("errors.done_button", owner.voice))
        return
    await query.answer()
    segment = segments.parse(campaign.segment, s.campaign_rules.segments)
    count = await s.db(segments.count, segment, s.campaign_rules.segments, s.now())
    await edit_unless_unchanged(query.edit_message_text(
        _confirm_text(s, owner.voice, campaign, count.reachable), parse_mode=ParseMode.HTML,
        reply_markup=_confirm_keyboard(s, owner.voice, campaign)))


async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Senden / Planen / Verwerfen under a preview: only the owner who wrote it, only once."""
    s = services(context)
    query = update.callback_query
    owner = await owner_of(update, context)
    _, action, campaign_id, nonce = query.data.split(":")
    user_id = update.effective_user.id
    if action == "no":
        done = await s.db(campaigns.discard, int(campaign_id), nonce, user_id, owner.customer_id, s.now())
        if not done:
            await query.answer(s.texts.plain("errors.done_button", owner.voice))
            return
        await query.answer()
        await close_preview(update, s.texts.render("campaigns.discarded", owner.voice))
        return
    # The button's transaction only starts the run; the recipients are queued after it, a page
    # per transaction, so customers writing meanwhile never wait for a whole segment.
    confirmed = await s.db(campaigns.confirm, int(campaign_id), nonce, user_id, owner.customer_id,
                           s.campaign_rules, s.now())
    if confirmed is None:  # a second press, an old preview or forged data
        await query.answer(s.texts.plain("errors.done_button", owner.voice))
        return
    await query.answer()
    campaign = confirmed.campaign
    if confirmed.queuing:
        queued = await queue_run(s, campaign.id)
        log.info("campaign confirmed", extra={"campaign": campaign.id, "queued": queued})
        outcome = s.texts.render("campaigns.queued", owner.voice, id=campaign.id, count=queued)
    else:
        log.info("campaign confirmed", extra={"campaign": campaign.id, "queued": None})
        schedule = when.Schedule(campaign.next_run_at, campaign.recurrence)
        outcome = s.texts.render("campaigns.planned", owner.voice, id=campaign.id,
                                 when=Html(_when_text(s, owner.voice, schedule)))
    await close_preview(update, outcome)


async def queue_run(s: Services, campaign_id: int) -> int:
    """Queue the recipients of a campaign's run that has started, a page per transaction;
    returns how many the run queued (pages another process took in between included). If the
    bot stops meanwhile, the timers of the next start (or a replica's) queue the rest."""
    while True:
        page = await s.db(campaigns.queue_page, campaign_id, s.campaign_rules, s.now())
        if page.done:
            return page.total


# --- /kampagnen and /abbrechen ---------------------------------------------------------------------

async def list_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kampagnen: planned, running and finished campaigns, newest first, with their figures."""
    s = services(context)
    owner = await owner_of(update, context)
    summaries = await s.db(campaigns.overview)
    if not summaries:
        await say(context, owner, "campaigns.none_yet")
        return
    effects = await s.db(holdout.effects, [summary.campaign.id for summary in summaries],
                         s.config.campaigns.effect_days, s.now())
    blocks = [s.texts.render("campaigns.list_title", owner.voice)]
    blocks += [_summary_block(s, owner.voice, summary, effects.get(summary.campaign.id)) for summary in summaries]
    await send_html(context.bot, owner.chat_id, "\n\n".join(blocks))


def _summary_block(s: Services, voice: Voice, summary: campaigns.Summary, effect: holdout.Effect | None) -> str:
    campaign, figures = summary.campaign, summary.figures
    state = _state_text(s, voice, campaign, figures)
    lines = [s.texts.render("campaigns.list_head", voice, id=campaign.id, state=Html(state),
                            segment=campaign.segment, text=_first_line(campaign))]
    lines.append(s.texts.render("campaigns.list_counts", voice, sent=figures.sent, queued=figures.queued,
                                failed=figures.failed, unreachable=figures.unreachable))
    if figures.skipped:
        reasons = ", ".join(s.texts.render("campaigns.skip_reason", voice, count=count,
                                           reason=s.texts.plain(f"campaigns.skip_reasons.{reason}", voice))
                            for reason, count in figures.skipped.most_common())
        lines.append(s.texts.render("campaigns.list_skipped", voice, count=sum(figures.skipped.values()),
                                    reasons=Html(reasons)))
    if figures.coupons:
        rate = figures.redemption_rate
        lines.append(s.texts.render("campaigns.list_coupons", voice, redeemed=figures.redeemed, sent=figures.sent,
                                    rate=formatting.number(round(100 * rate), voice.language) if rate is not None else "0"))
    if effect is not None:
        lines += _effect_lines(s, voice, summary.campaign, effect)
    return "\n".join(lines)


def _first_line(campaign) -> str:
    text = (campaign.text or "").strip()
    return _shortened(text.splitlines()[0]) if text else "📷"


def effect_block(s: Services, voice: Voice, campaign, effect: holdout.Effect) -> str:
    """A campaign's control-group comparison on its own (the owner's report lists these)."""
    head = s.texts.render("campaigns.effect_head", voice, id=campaign.id, text=_first_line(campaign),
                          date=_shop_date(s, campaign.first_run_at))
    return "\n".join([head, *_effect_lines(s, voice, campaign, effect)])


def _effect_lines(s: Services, voice: Voice, campaign, effect: holdout.Effect) -> list[str]:
    """Recipients against the control group: who bought, revenue per customer, the difference."""
    if not effect.ready:
        return [s.texts.render("campaigns.effect_from", voice, percent=campaign.holdout_percent,
                               date=_shop_date(s, effect.ready_at))]
    language = voice.language
    lines = [s.texts.render("campaigns.effect_title", voice, days=s.config.campaigns.effect_days)]
    for key, group in (("campaigns.effect_recipients", effect.recipients), ("campaigns.effect_held", effect.held)):
        lines.append(s.texts.render(key, voice, customers=group.customers,
                                    share=formatting.number(round(100 * group.share_bought, 1), language),
                                    revenue=formatting.money(_euros(group.revenue_per_customer_cents), language)))
    if effect.too_small:
        lines.append(s.texts.render("campaigns.effect_too_small", voice, min=holdout.MIN_GROUP))
    else:
        lines.append(s.texts.render("campaigns.effect_uplift", voice,
                                    points=formatting.signed_number(round(effect.uplift_points, 1), language),
                                    revenue=formatting.signed_money(_euros(effect.uplift_revenue_cents), language)))
    return lines


def _euros(cents: float) -> Decimal:
    return (Decimal(str(cents)) / 100).quantize(Decimal("0.01"))


def _shop_date(s: Services, moment) -> date:
    """The day a moment falls on in the shop's time zone (a window ending at 00:30 UTC ends on the
    next day in Berlin in summer)."""
    return moment.astimezone(ZoneInfo(s.config.shop.timezone)).date()


def _shortened(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _state_text(s: Services, voice: Voice, campaign, figures: campaigns.Figures) -> str:
    if campaign.status == campaigns.CANCELLED:
        return s.texts.render("campaigns.state_cancelled", voice)
    if campaign.status == campaigns.QUEUING:
        return s.texts.render("campaigns.state_running", voice)
    if campaign.status == campaigns.PLANNED:
        schedule = when.Schedule(campaign.next_run_at, campaign.recurrence)
        return s.texts.render("campaigns.state_planned", voice, when=Html(_when_text(s, voice, schedule)))
    if figures.queued:
        return s.texts.render("campaigns.state_running", voice)
    return s.texts.render("campaigns.state_done", voice)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/abbrechen <id>: no more runs; messages not yet sent stay unsent."""
    s = services(context)
    owner = await owner_of(update, context)
    match = _ID.match(arguments(update).strip())
    if match is None:
        await say(context, owner, "campaigns.usage_cancel")
        return
    try:
        cancelled = await s.db(campaigns.cancel, int(match.group(1)), s.now())
    except campaigns.CampaignError as error:
        await say(context, owner, f"campaigns.cancel_errors.{error.reason}", id=match.group(1))
        return
    log.info("campaign cancelled", extra={"campaign": cancelled.campaign.id, "stopped": cancelled.stopped})
    await say(context, owner, "campaigns.cancelled", id=cancelled.campaign.id, count=cancelled.stopped)
