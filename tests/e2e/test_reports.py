"""The owner's NPS report (/nps) and closing the loop (/loop): through the fake Bot API, the
real bot and its database. Survey answers are written to the database directly; the
customers behind them are onboarded through the bot, so they have chats."""

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from sqlmodel import select

from domain import surveys
from storage.models import OutboxMessage, Survey, TelegramAccount
from tests.e2e.harness import ADMIN_ID, SEND_ANY_TIME, config_file
from tests.e2e.journeys import customer_of, onboarded

BERLIN = ZoneInfo("Europe/Berlin")
NOT_ADMIN = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"
DONE = "Schon erledigt 👍"
CHANGE = "Ab sofort ist morgens eine zweite Kasse offen."


@pytest.fixture
def any_time(tmp_path) -> str:
    """Loops go out at once whatever the hour the tests run (quiet hours have their own test)."""
    return config_file(tmp_path, SEND_ANY_TIME)


@pytest.fixture
async def bot(bots, staff, any_time):
    return await bots(STAMMGAST_CONFIG=any_time)


def answered(db, user, score: int, topics: list[str], at: datetime | None = None) -> datetime:
    """A survey this customer answered (a few minutes ago unless ``at`` says otherwise)."""
    at = at or datetime.now(timezone.utc) - timedelta(minutes=5)
    with db.session() as session:
        session.add(Survey(customer_id=customer_of(db, user).id, status="done", created_at=at, due_at=at,
                           score=score, answered_at=at, reason="…", topics=topics))
        surveys.refresh_latest_scores(session, [customer_of(db, user).id])
    return at


def loop_rows(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("loop:"))))


def the_owner(api):
    return api.new_user(first_name="Ines", user_id=ADMIN_ID)


async def test_owner_sees_nps_counts_trend_and_top_topics(bot, api, staff, db):
    anna, ben, carla, dora = [await onboarded(api, first_name=name) for name in ("Anna", "Ben", "Carla", "Dora")]
    at = answered(db, anna, 10, ["service"])
    answered(db, ben, 9, ["wartezeit", "service"])
    answered(db, carla, 7, ["wartezeit"])
    answered(db, dora, 3, ["wartezeit"])
    answered(db, dora, 0, ["preis"], at=at - timedelta(days=120))  # before the default 90 days
    owner = the_owner(api)

    await owner.send_command("/nps")
    report = (await owner.next_message()).text
    assert report.startswith("📊 Weiterempfehlung (NPS)\n")
    assert "NPS: +25 · 4 Antworten" in report  # (2 promoters - 1 detractor) / 4
    assert "💚 Promotoren (9–10): 2 · 50\xa0%" in report
    assert "😐 Passive (7–8): 1 · 25\xa0%" in report
    assert "💔 Kritiker (0–6): 1 · 25\xa0%" in report
    month = format_date(at.astimezone(BERLIN).date(), "LLLL yyyy", locale="de_DE")
    assert "Verlauf nach Monaten" in report and f"{month}: +25 (4 Antworten)" in report
    topics = report.split("Häufigste Themen in den Begründungen\n")[1]
    assert topics.startswith("• Wartezeit/Lieferung: 3×\n• Service/Freundlichkeit: 2×\n")
    assert "Preis" not in topics
    assert "/loop wartezeit" in topics

    await owner.send_command("/nps", "30")
    weekly = (await owner.next_message()).text
    week = at.astimezone(BERLIN).isocalendar()[1]
    assert "Verlauf nach Wochen" in weekly and re.search(rf"KW {week}(/\d{{4}})?: \+25 \(4 Antworten\)", weekly)

    await owner.send_command("/nps", "2020")
    assert (await owner.next_message()).text.startswith("📊 Vom 1. Januar 2020 bis zum 31. Dezember 2020 hat noch "
                                                       "niemand die Umfrage beantwortet.")

    await staff.send_command(owner, "/nps")  # in the staff group too, without making it the owner's chat
    assert "NPS: +25 · 4 Antworten" in (await staff.next_message()).text
    with db.session() as session:
        assert session.get(TelegramAccount, ADMIN_ID).chat_id == ADMIN_ID


async def test_a_bad_period_is_explained_with_examples(bot, api, db):
    anna = await onboarded(api)
    answered(db, anna, 10, ["service"])
    owner = the_owner(api)
    for period, answer in (("gestern", "Diesen Zeitraum verstehe ich leider nicht: „gestern“."),
                           ("5000", "Das geht leider nicht: „5000“. Möglich sind 1 bis 999 Tage."),
                           ("13/2026", "Diesen Monat gibt es nicht: „13/2026“.")):
        await owner.send_command("/nps", period)
        assert (await owner.next_message()).text == answer
        examples = (await owner.next_message()).text
        assert "/nps – die letzten 90 Tage" in examples
        assert all(example in examples for example in ("/nps 30", "/nps letzte woche", "/nps oktober 2026"))
        await owner.expect_no_message(within=0.3)  # no report after the explanation


async def test_only_owners_get_reports_or_reach_customers(bot, api, staff, db):
    anna = await onboarded(api)
    answered(db, anna, 3, ["wartezeit"])
    ben = await onboarded(api, first_name="Ben")
    await ben.send_command("/nps")
    assert (await ben.next_message()).text == NOT_ADMIN
    await ben.send_command("/loop", f"wartezeit {CHANGE}")
    assert (await ben.next_message()).text == NOT_ADMIN
    stranger = api.new_user(first_name="Eve")
    await stranger.send_command("/nps")
    assert (await stranger.next_message()).text == NOT_ADMIN
    assert customer_of(db, stranger) is None  # refused before anything is stored

    owner = the_owner(api)
    await owner.send_command("/loop", f"wartezeit {CHANGE}")
    preview = await owner.next_message()
    barista = api.new_user(first_name="Bea")
    await staff.send_command(barista, "/nps")  # staff, but no owner
    assert (await staff.next_message()).text == NOT_ADMIN
    await ben.press_forged(preview.callback_data[0], message=await _any_message(ben))
    assert (await ben.next_callback_answer())["text"] == NOT_ADMIN
    await anna.expect_no_message(within=1.5)
    assert loop_rows(db) == []


async def _any_message(user):
    await user.send_command("/punkte")
    return await user.next_message()


async def test_owner_closes_the_loop_with_exactly_the_customers_who_raised_the_topic(bot, api, db):
    anna = await onboarded(api)
    emma = await onboarded(api, first_name="Emma", consent="Yes, please", language_code="en")
    ben = await onboarded(api, first_name="Ben")
    carla = await onboarded(api, first_name="Carla", consent="Nein, danke")
    answered(db, anna, 4, ["qualitaet", "wartezeit"])
    answered(db, emma, 6, ["wartezeit"])
    answered(db, ben, 5, ["preis"])        # another topic
    answered(db, carla, 2, ["wartezeit"])  # no consent to messages
    owner = the_owner(api)

    await owner.send_command("/loop", f"Wartezeit {CHANGE}")
    preview = await owner.next_message()
    assert preview.text.startswith("📣 Vorschau\nEmpfänger: 2 – alle, die in den letzten 180 Tagen")
    assert "„Wartezeit/Lieferung“" in preview.text and CHANGE in preview.text
    assert "Du hattest uns in unserer Umfrage zum Thema „Wartezeit/Lieferung“ etwas geschrieben" in preview.text
    assert preview.buttons == [["✅ Senden", "Abbrechen"]]
    send_data, cancel_data = preview.callback_data
    assert re.fullmatch(r"loop:send:[0-9a-f]{12}", send_data) and cancel_data == send_data.replace("send", "cancel")
    assert loop_rows(db) == []  # nothing before "Senden"

    await owner.press("✅ Senden", message=preview)
    assert (await owner.next_callback_answer()).get("text") is None
    done = await owner.next_edit()
    assert done.text.endswith("✅ Wird verschickt – an 2 Empfänger.") and done.callback_data == []
    to_anna = (await anna.next_message()).text
    assert to_anna.startswith("Du hattest uns in unserer Umfrage zum Thema „Wartezeit/Lieferung“ etwas geschrieben")
    assert CHANGE in to_anna and "/stop" in to_anna
    to_emma = (await emma.next_message()).text
    assert to_emma.startswith("You told us something about “Waiting/delivery” in our survey") and CHANGE in to_emma

    await owner.press("✅ Senden", message=preview, stale_ok=True)  # the double tap
    assert (await owner.next_callback_answer())["text"] == DONE
    await owner.press_forged("loop:send:0123456789ab", message=preview)
    assert (await owner.next_callback_answer())["text"] == DONE
    for nobody in (ben, carla, anna, emma):
        await nobody.expect_no_message(within=0.5)
    assert len(loop_rows(db)) == 2


async def test_a_cancelled_loop_sends_nothing_and_a_waiting_one_survives_a_restart(bots, api, staff, db, any_time):
    first = await bots(STAMMGAST_CONFIG=any_time)
    anna = await onboarded(api)
    answered(db, anna, 4, ["wartezeit"])
    owner = the_owner(api)

    await owner.send_command("/loop", f"wartezeit {CHANGE}")
    cancelled = await owner.next_message()
    await owner.press("Abbrechen", message=cancelled)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text.endswith("Abgebrochen – es wurde nichts verschickt.")
    await owner.press("✅ Senden", message=cancelled, stale_ok=True)
    assert (await owner.next_callback_answer())["text"] == DONE

    await owner.send_command("/loop", f"wartezeit {CHANGE}")
    waiting = await owner.next_message()
    await first.stop()
    await bots(STAMMGAST_CONFIG=any_time)
    await owner.press("✅ Senden", message=waiting)
    await owner.next_callback_answer()
    assert (await owner.next_edit()).text.endswith("an 1 Empfänger.")
    assert CHANGE in (await anna.next_message()).text
    await anna.expect_no_message(within=0.5)  # the cancelled one never comes


async def test_unusable_loop_requests_are_explained_and_nobody_is_written_to(bot, api, db):
    anna = await onboarded(api)
    answered(db, anna, 4, ["wartezeit"])
    owner = the_owner(api)
    for payload, answer in ((None, "Um welches Thema geht es?"),
                            ("kaffee Neue Bohnen", "Das Thema „kaffee“ kenne ich nicht."),
                            ("preis", "Was habt ihr geändert? Schreib es direkt hinter das Thema."),
                            ("preis " + "x" * 1001, "Die Nachricht hat 1.001 Zeichen – bitte fasse dich etwas "
                                                    "kürzer, höchstens 1.000 Zeichen.")):
        await owner.send_command("/loop", payload)
        assert (await owner.next_message()).text == answer
        usage = (await owner.next_message()).text
        assert "/loop wartezeit Morgens ist jetzt eine zweite Kasse offen." in usage
        assert "• qualitaet – Qualität\n" in usage and "• wartezeit – Wartezeit/Lieferung\n" in usage
        assert "sonstiges" not in usage

    await owner.send_command("/loop", "Sauberkeit Die Toiletten werden jetzt stündlich geputzt.")
    nobody = await owner.next_message()
    assert nobody.text.startswith("Zum Thema „Sauberkeit“ kann ich gerade niemandem schreiben")
    assert nobody.callback_data == []
    await anna.expect_no_message(within=1.0)
    assert loop_rows(db) == []


async def loop_now(owner, change: str) -> None:
    await owner.send_command("/loop", f"Wartezeit {change}")
    await owner.press("✅ Senden", message=await owner.next_message())
    await owner.next_callback_answer()
    await owner.next_edit()


async def test_quiet_hours_hold_a_loop_and_the_weekly_cap_skips_one_too_many(bots, api, staff, db, tmp_path):
    """Marketing rules at send time: quiet hours around the real time of the test run, moved
    past by the bot's clock; a cap of one marketing message per week."""
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))
    quiet = f"{berlin - timedelta(hours=1):%H:%M}-{berlin + timedelta(hours=2):%H:%M}"
    clock = tmp_path / "clock"
    process = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config_file(tmp_path, {"campaigns": {
        "quiet_hours": quiet, "no_send_days": [], "no_send_dates": [], "max_marketing_per_week": 1}}))
    anna = await onboarded(api)
    answered(db, anna, 4, ["wartezeit"])
    owner = the_owner(api)

    await loop_now(owner, CHANGE)
    await anna.expect_no_message(within=1.5)  # quiet hours: it waits
    (row,) = loop_rows(db)
    quiet_ends = (berlin + timedelta(hours=2)).replace(second=0, microsecond=0)
    assert row.status == "pending" and row.not_before == quiet_ends.astimezone(timezone.utc)
    clock.write_text(str(2 * 3600 + 60))
    assert CHANGE in (await anna.next_message()).text

    await loop_now(owner, "Und es gibt jetzt Vorbestellungen per Chat.")
    await process.wait_for_log('"verdict": "skipped"')
    await anna.expect_no_message(within=0.5)
    with db.session() as session:
        statuses = [(r.status, r.last_error) for r in session.exec(
            select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("loop:")).order_by(OutboxMessage.id))]
    assert statuses == [("sent", None), ("skipped", "weekly_cap")]
