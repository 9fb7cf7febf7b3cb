"""/feedback and the feedback intent: stored with topics, passed on to the staff group."""

from sqlmodel import select

from storage.models import Feedback
from tests.e2e.journeys import customer_of, onboarded


def stored_feedback(db) -> list[Feedback]:
    with db.session() as session:
        return list(session.exec(select(Feedback).order_by(Feedback.id)))


async def test_feedback_after_the_command_reaches_the_team(bot, api, staff, db):
    anna = await onboarded(api)
    await anna.send_command("/feedback")
    assert (await anna.next_message()).text.startswith("Wir freuen uns über jede Rückmeldung!")
    await anna.send_text("Die Bedienung war heute <b>super</b> freundlich, aber der Cappuccino leider lauwarm")
    assert (await anna.next_message()).text.startswith("Danke dir für deine Rückmeldung!")
    notice = await staff.next_message()
    code = customer_of(db, anna).code
    assert notice.text.startswith(f"💬 Feedback von Anna ({code}): Die Bedienung war heute <b>super</b> freundlich")
    assert notice.text.endswith("Themen: qualitaet, service")
    assert notice.disable_notification  # feedback can wait: only new tickets ring in the staff group
    (entry,) = stored_feedback(db)
    assert entry.topics == ["qualitaet", "service"]
    # The step is used up: the next text is a question again, not more feedback.
    await anna.send_text("Wann habt ihr am Sonntag offen?")
    assert "Feedback" not in (await anna.next_message()).text
    assert len(stored_feedback(db)) == 1


async def test_feedback_said_in_chat_and_huge_feedback(bot, api, staff, db):
    anna = await onboarded(api)
    await anna.send_text("Ich wollte einfach mal sagen, dass euer Kaffee klasse ist und das Team sehr nett")
    assert (await anna.next_message()).text.startswith("Danke dir für deine Rückmeldung!")
    assert "Ich wollte einfach mal sagen" in (await staff.next_message()).text
    await anna.send_command("/feedback")
    await anna.next_message()
    await anna.send_text("Lob! " * 1500)
    assert (await anna.next_message()).text.startswith("Danke dir")
    notice = await staff.next_message()
    assert len(notice.text) < 1200 and "…" in notice.text
    assert [len(e.text) <= 2000 for e in stored_feedback(db)] == [True, True]
