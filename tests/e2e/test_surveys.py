"""The NPS survey after a purchase, with the bot's clock moved forward by a file
(STAMMGAST_TEST_CLOCK_FILE): buttons and typed scores, reasons and follow-ups."""

from sqlmodel import select

from storage.models import Survey, Ticket
from tests.e2e.journeys import customer_of, onboarded

DAY = 86400


def tickets_of(db) -> list[Ticket]:
    with db.session() as session:
        return list(session.exec(select(Ticket)))


def surveys_of(db, user) -> list[Survey]:
    customer_id = customer_of(db, user).id
    with db.session() as session:
        return list(session.exec(select(Survey).where(Survey.customer_id == customer_id)))


async def buy(staff, barista, db, user, amount="9,80"):
    await staff.send_command(barista, "/kauf", f"{customer_of(db, user).code} {amount}")
    await staff.next_message()
    assert (await user.next_message()).text.startswith("🎉")


async def test_a_promoter_answers_with_a_button_and_gets_the_referral_link(bots, api, staff, db, tmp_path):
    clock = tmp_path / "clock"
    await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock))
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    await buy(staff, barista, db, anna)
    await anna.expect_no_message(within=1.5)  # the question comes days later
    clock.write_text(str(4 * DAY))
    question = await anna.next_message()
    assert "weiterempfiehlst" in question.text
    assert question.buttons == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    await anna.press("9", message=question)
    await anna.next_callback_answer()
    assert (await anna.next_edit()).text.endswith("Deine Antwort: 9")
    assert (await anna.next_message()).text.startswith("Wie schön!")
    await anna.press("3", message=question, stale_ok=True)  # a second tap on the old keyboard
    assert (await anna.next_callback_answer())["text"] == "Schon erledigt 👍"
    await anna.send_text("Die Bedienung ist immer so freundlich")
    thanks = await anna.next_message()
    assert f"start=ref_{customer_of(db, anna).code}" in thanks.text
    (survey,) = surveys_of(db, anna)
    assert (survey.score, survey.reason, survey.topics, survey.status) == (
        9, "Die Bedienung ist immer so freundlich", ["service"], "done")


async def test_a_detractor_types_the_score_and_asks_to_be_called(bots, api, staff, db, tmp_path):
    clock = tmp_path / "clock"
    await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock))
    ben = await onboarded(api, first_name="Ben")
    carla = await onboarded(api, first_name="Carla", consent="Nein, danke")
    barista = api.new_user(first_name="Bea")
    await buy(staff, barista, db, ben)
    await buy(staff, barista, db, carla)
    clock.write_text(str(4 * DAY))
    question = await ben.next_message()
    await carla.expect_no_message()  # no marketing consent, no survey
    assert surveys_of(db, carla) == []
    # Carla forging a press on Ben's survey changes nothing.
    survey_id = surveys_of(db, ben)[0].id
    await carla.send_command("/punkte")
    await carla.press_forged(f"nps:{survey_id}:0", message=await carla.next_message())
    assert (await carla.next_callback_answer())["text"] == "Schon erledigt 👍"
    await ben.send_text("Habt ihr 2 Sorten Hafermilch?")  # a number in a question is no score
    await ben.next_message()
    await ben.send_text("Ich nehme morgen 2 Stück Kuchen mit")
    await ben.next_message()
    assert surveys_of(db, ben)[0].score is None
    await ben.send_text("eine 4")
    assert (await ben.next_message()).text == "Danke, ich notiere eine 4."
    assert (await ben.next_message()).text.startswith("Das tut uns leid.")
    await ben.send_text("Der Kaffee war kalt und ich musste ewig warten")
    offer = await ben.next_message()
    assert offer.text.endswith("Sollen wir uns bei dir melden?")
    await ben.press("Ja, bitte", message=offer)
    await ben.next_callback_answer()
    assert (await ben.next_message()).text.startswith("Ich habe unserem Team Bescheid gesagt.")
    alert = await staff.next_message()
    assert alert.text.startswith("🆕 Kritik aus der Umfrage #1") and "Ben" in alert.text
    assert "📊 Umfrage: 4 von 10" in alert.text and "Der Kaffee war kalt und ich musste ewig warten" in alert.text
    (ticket,) = tickets_of(db)
    assert (ticket.kind, ticket.survey_id) == ("nps", surveys_of(db, ben)[0].id)
    (survey,) = surveys_of(db, ben)
    assert survey.score == 4 and set(survey.topics) == {"qualitaet", "wartezeit"}
    assert question.buttons  # the unanswered keyboard stays; pressing it now is "done"
    await ben.press("10", message=question)
    assert (await ben.next_callback_answer())["text"] == "Schon erledigt 👍"
