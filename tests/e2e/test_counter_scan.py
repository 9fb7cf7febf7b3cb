"""A barista in a rush: scanning a customer's card opens one message that asks for the amount;
the answer books it (scan + one number), and "Rückgängig" under the booking takes it back -
through the fake Bot API, the real bot and its database."""

from sqlmodel import func, select

from storage.models import Purchase
from tests.e2e.journeys import customer_of, onboarded
from tests.e2e.test_loyalty_counter import balance_of

ASKED = "Welcher Betrag?"


def purchases(db) -> list[Purchase]:
    with db.session() as session:
        return list(session.exec(select(Purchase).order_by(Purchase.id)))


async def scan_card(barista, db, customer):
    """The barista's phone camera opens the card's link: /start c_<code> in their chat with the bot."""
    await barista.send_command("/start", f"c_{customer_of(db, customer).code}")
    return await barista.next_message()


async def test_a_scanned_card_asks_for_the_amount_and_the_answer_books_it(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    staff.add_member(barista)

    question = await scan_card(barista, db, anna)
    assert question.text.startswith("👤 Anna") and ASKED in question.text
    assert question.reply_markup["force_reply"] is True
    await barista.expect_no_message()  # one message: the customer and the question

    await barista.reply_to(question, "12,50 Kaffee")
    booked = await barista.next_message()
    assert booked.text.startswith("✅ Gebucht: 12,50\xa0€ für Anna") and booked.buttons == [["↩️ Rückgängig"]]
    assert booked.disable_notification  # the barista is looking at it: no ring
    await barista.expect_no_message()
    [purchase] = purchases(db)
    assert (purchase.amount_cents, purchase.category, purchase.booked_by) == (1250, "Kaffee", barista.id)
    assert (await anna.next_message()).text.startswith("🎉 +12 Punkte")

    # The question is answered: another number is no second booking.
    await barista.send_text("12,50")
    await barista.next_message()
    assert len(purchases(db)) == 1

    # Oops, wrong customer: one press takes it back, and Anna (told of the points already) hears why.
    await barista.press("↩️ Rückgängig", message=booked)
    await barista.next_callback_answer()
    undone = await barista.next_edit()
    assert undone.text.startswith("↩️ Rückgängig gemacht: Kauf Nr.") and "Punktestand wieder 0" in undone.text
    assert undone.buttons == []
    assert balance_of(db, anna) == 0 and purchases(db)[0].reversed_at is not None
    assert (await anna.next_message()).text.startswith("Die Buchung über 12,50\xa0€ eben war ein Versehen")
    await barista.press_forged("buy:undo:1", message=booked)  # a second press: nothing more happens
    assert "schon storniert" in (await barista.next_callback_answer())["text"]
    assert balance_of(db, anna) == 0


async def test_an_amount_typed_without_replying_books_too_and_bad_ones_are_asked_again(bot, api, staff, db):
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    staff.add_member(barista)
    await scan_card(barista, db, anna)

    await barista.send_text("zwölf")  # not an amount: talk to the bot as usual
    await barista.next_message()
    await barista.send_text("-3")
    assert "Negative Beträge" in (await barista.next_message()).text
    await barista.send_text("5000")
    assert "Obergrenze" in (await barista.next_message()).text
    assert purchases(db) == []
    await barista.send_text("4.50")  # still open after the wrong ones
    assert (await barista.next_message()).text.startswith("✅ Gebucht: 4,50\xa0€ für Anna")
    assert balance_of(db, anna) == 4

    # A second scan and "abbrechen": nothing is booked.
    await scan_card(barista, db, anna)
    await barista.send_text("abbrechen")
    assert (await barista.next_message()).text == "Okay, nichts gebucht."
    await barista.send_text("7,00")
    await barista.next_message()
    assert len(purchases(db)) == 1


async def test_a_customer_opening_a_card_link_or_typing_amounts_books_nothing(bot, api, staff, db):
    anna = await onboarded(api)
    mallory = await onboarded(api, first_name="Mallory")
    await mallory.send_command("/start", f"c_{customer_of(db, anna).code}")  # a staff link: a plain /start for her
    start = await mallory.next_message()
    assert ASKED not in start.text and "Anna" not in start.text
    await mallory.send_text("12,50")
    await mallory.next_message()
    await mallory.press_forged("buy:undo:1")
    assert (await mallory.next_callback_answer())["text"] == "Dieser Knopf ist nicht mehr aktuell."  # like any old button
    with db.session() as session:
        assert session.exec(select(func.count()).select_from(Purchase)).one() == 0
