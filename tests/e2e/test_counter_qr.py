"""Redeeming a reward or coupon by scanning its QR code (issue 19, "The counter"): the customer
shows the QR code, staff open its link and press "Einlösen" - two taps, no typing. Customers who
open a link see their own code only; a forged press, a second press or a second staff member
redeem nothing twice. Through the fake Bot API, the real bot and its database."""

import re
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from bot import qr
from domain import coupons, outbox
from domain.outbox import MessageSpec
from storage.models import Coupon, Redemption
from tests.e2e.journeys import customer_of, onboarded

LINK = "https://t.me/morgenrot_bot?start="
EINLOESEN = "✅ Einlösen"


async def reward_code_of(api, staff, db, first_name="Anna"):
    """A customer who bought "Ein Kaffee nach Wahl" with points: (customer, the code, the QR photo)."""
    anna = await onboarded(api, first_name=first_name)
    cashier = api.new_user(first_name="Kasse")
    await staff.send_command(cashier, "/kauf", f"{customer_of(db, anna).code} 45")
    await staff.next_message()
    await anna.next_message()  # "+45 Punkte"
    await anna.send_command("/praemien")
    await anna.press("Ein Kaffee nach Wahl", message=await anna.next_message())
    await anna.next_callback_answer()
    await anna.press("Ja, einlösen", message=await anna.next_message())
    await anna.next_callback_answer()
    await anna.next_edit()
    photo = await anna.next_message()
    code = re.search(r"Dein Code: ([A-Z0-9]{4})-([A-Z0-9]{4})", photo.caption).group(1, 2)
    return anna, "".join(code), photo


def redemption(db) -> Redemption:
    with db.session() as session:
        (row,) = session.exec(select(Redemption)).all()
        return row


async def test_staff_redeem_a_scanned_reward_in_two_taps_and_only_once(bot, api, staff, db):
    anna, code, photo = await reward_code_of(api, staff, db)
    # The QR code is the link for staff (not the bare code), and the caption says to show it.
    assert photo.kind == "photo" and photo.photo == qr.png(f"{LINK}code_{code}")
    assert "Zeig einfach diesen QR-Code an der Kasse" in photo.caption

    bea, chris = api.new_user(first_name="Bea"), api.new_user(first_name="Chris")  # never wrote to the bot
    staff.add_member(bea)
    staff.add_member(chris)
    taps = 0
    await bea.send_command("/start", f"code_{code}")  # tap 1: the phone's camera opens the link
    taps += 1
    card = await bea.next_message()
    await bea.expect_no_message()  # one message: no greeting, no consent question for staff at work
    anna_code = customer_of(db, anna).code
    assert card.text.startswith("🎁 Ein Kaffee nach Wahl\nfür Anna")
    assert f"({anna_code})" in card.text and f"Code {code[:4]}-{code[4:]}" in card.text and "gültig bis" in card.text
    assert card.buttons == [[EINLOESEN]]
    assert redemption(db).used_at is None  # scanning alone redeems nothing

    await chris.send_command("/start", f"code_{code}")  # a colleague scans it too
    chris_card = await chris.next_message()
    assert chris_card.buttons == [[EINLOESEN]]

    await bea.press(EINLOESEN, message=card)  # tap 2
    taps += 1
    assert not (await bea.next_callback_answer()).get("text")  # no toast: the message itself changes
    confirmation = await bea.next_edit()
    assert confirmation.text == f"✅ Eingelöst: Ein Kaffee nach Wahl für Anna ({anna_code})."
    assert confirmation.message_id == card.message_id and card.buttons == []
    used = redemption(db)
    assert used.used_by == bea.id and used.used_at is not None
    assert taps <= 2

    # A second press (a double tap that got through) and the colleague's press redeem nothing.
    await bea.press(EINLOESEN, message=card, stale_ok=True)
    assert "schon am" in (await bea.next_callback_answer())["text"]
    await chris.press(EINLOESEN, message=chris_card)
    assert "schon am" in (await chris.next_callback_answer())["text"]
    edited = await chris.next_edit()
    assert "Schon eingelöst am" in edited.text and chris_card.buttons == []
    assert redemption(db).used_by == bea.id and redemption(db).used_at == used.used_at
    # Scanned again later: the card says so, without a button.
    await chris.send_command("/start", f"code_{code}")
    again = await chris.next_message()
    assert "Schon eingelöst am" in again.text and again.buttons == []
    # /einloesen keeps working the same way.
    await staff.send_command(chris, "/einloesen", code)
    assert "schon am" in (await staff.next_message()).text
    await anna.expect_no_message()


async def test_customers_see_their_own_code_and_nothing_of_anyone_elses(bot, api, staff, db):
    anna, code, _ = await reward_code_of(api, staff, db)
    await anna.send_command("/start", f"code_{code}")  # her own: the QR code again, one message
    own = await anna.next_message()
    await anna.expect_no_message()
    assert own.kind == "photo" and own.photo == qr.png(f"{LINK}code_{code}")
    assert "Ein Kaffee nach Wahl" in own.caption and f"{code[:4]}-{code[4:]}" in own.caption

    mallory = await onboarded(api, first_name="Mallory")
    # Someone else's code, a code nobody has, and garbage: the same neutral answer, no button.
    answers = []
    for payload in (f"code_{code}", "code_ABCDEFGH", "code_kaputt", "code_" + "Z" * 55):
        await mallory.send_command("/start", payload)
        answer = await mallory.next_message()
        answers.append(answer.text)
        assert answer.buttons == [] and "Anna" not in answer.text and "Kaffee" not in answer.text
    assert len(set(answers)) == 1 and "/praemien" in answers[0]

    # A forged "Einlösen" with Anna's real code, by Mallory and by Anna herself: only staff may.
    for customer in (mallory, anna):
        await customer.press_forged(f"use:{code}")
        assert (await customer.next_callback_answer())["text"] == "Dieser Knopf ist nicht mehr aktuell."
    assert redemption(db).used_at is None
    await staff.expect_no_message()

    # Once used, her link says so (in words; no QR code to show any more).
    bea = api.new_user(first_name="Bea")
    staff.add_member(bea)
    await bea.send_command("/start", f"code_{code}")
    await bea.press(EINLOESEN, message=await bea.next_message())
    await bea.next_callback_answer()
    await bea.next_edit()
    await anna.send_command("/start", f"code_{code}")
    used = await anna.next_message()
    assert used.kind == "text" and used.text.startswith("✅ Deinen Code für „Ein Kaffee nach Wahl“ hast du am")


async def test_a_scanned_campaign_coupon_is_redeemed_the_same_way(bot, api, staff, db):
    anna = await onboarded(api)
    now, anna_id = datetime.now(timezone.utc), customer_of(db, anna).id  # one session at a time (SQLite)
    with db.session() as session:  # as a campaign or a birthday greeting issues them
        coupon = coupons.issue(session, anna_id, "10 % auf eine Packung Bohnen", 14, now, occasion="test:1")
        expired = coupons.issue(session, anna_id, "Ein Stück Kuchen", 1, now - timedelta(days=3), occasion="test:2")
        codes = coupon.code, expired.code
        # The greeting that brings it (through the outbox, as a birthday's does): the code is a link.
        outbox.enqueue(session, "test:gift", anna.chat_id, MessageSpec("milestones.with_gift", {
            "greeting": outbox.text_param("milestones.win_back", name="Anna"),
            "gift": outbox.texts_param([outbox.text_param("milestones.gift_coupon", offer=coupon.offer,
                                                          code=coupons.link(coupon.code),
                                                          valid_until=outbox.date_param(coupon.expires_at.date()))])}),
            outbox.SERVICE, now, customer_id=anna_id)
    greeting = await anna.next_message()
    grouped = f"{codes[0][:4]}-{codes[0][4:]}"
    assert f"Dein Code: {grouped}, gültig bis" in greeting.text and "tipp drauf für den QR-Code" in greeting.text
    assert f'<a href="{LINK}code_{codes[0]}">{grouped}</a>' in greeting.html
    await anna.send_command("/start", f"code_{codes[0]}")  # she taps it: the QR code to show
    shown = await anna.next_message()
    assert shown.photo == qr.png(f"{LINK}code_{codes[0]}") and "10 % auf eine Packung Bohnen" in shown.caption

    bea = api.new_user(first_name="Bea")
    staff.add_member(bea)
    await bea.send_command("/start", f"code_{codes[1]}")  # expired: said so, no button
    old = await bea.next_message()
    assert old.text.startswith("🎁 Ein Stück Kuchen\nfür Anna") and "Abgelaufen am" in old.text and old.buttons == []

    await bea.send_command("/start", f"code_{codes[0]}")
    card = await bea.next_message()
    assert card.text.startswith("🎁 10 % auf eine Packung Bohnen\nfür Anna") and card.buttons == [[EINLOESEN]]
    await bea.press(EINLOESEN, message=card)
    await bea.next_callback_answer()
    assert (await bea.next_edit()).text.startswith("✅ Eingelöst: 10 % auf eine Packung Bohnen für Anna")
    with db.session() as session:
        rows = {row.code: row for row in session.exec(select(Coupon)).all()}
    assert rows[codes[0]].redeemed_by == bea.id and rows[codes[1]].redeemed_at is None


async def test_staff_cannot_redeem_their_own_code_by_scanning_it(bot, api, staff, db):
    bea, code, _ = await reward_code_of(api, staff, db, first_name="Bea")  # a barista who is also a customer
    staff.add_member(bea)
    await bea.send_command("/start", f"code_{code}")
    card = await bea.next_message()
    await bea.press(EINLOESEN, message=card)
    assert (await bea.next_callback_answer()).get("text")
    refused = await bea.next_message()
    assert "eigene" in refused.text
    assert redemption(db).used_at is None
