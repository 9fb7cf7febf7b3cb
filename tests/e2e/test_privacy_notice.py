"""Telling customers (DSGVO Art. 13), texts that expire, and honest reviews, through the real
bot: the privacy line with its link in a new customer's first message and under the birthday
question, /datenschutz with the configured periods, the nightly purge with a moved clock,
the review link for every survey answer, and a production start without the privacy section."""

import asyncio
import sys
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import select

from storage.models import MessageLog
from tests.e2e.harness import REPO, bot_environment, config_file
from tests.e2e.journeys import customer_of, onboarded

BERLIN = ZoneInfo("Europe/Berlin")
POLICY = "https://kaffeehaus-morgenrot.de/datenschutz"
LINE = f"🔒 Wer wir sind, was wir speichern und welche Rechte du hast: /datenschutz · {POLICY}"
REVIEW_URL = "https://g.page/r/morgenrot/review"
DAY = 86400


async def test_the_first_message_and_the_birthday_question_carry_the_privacy_line(bot, api):
    anna = api.new_user(first_name="Anna")
    await anna.send_command("/start")
    welcome = await anna.next_message()  # greeting, privacy line and consent question in one
    assert welcome.text.startswith("Hallo Anna! 👋")
    assert f"{LINE}\n\nDürfen wir dir ab und zu Angebote" in welcome.text
    await anna.press("Nein, danke", message=welcome)
    await anna.next_callback_answer()
    await anna.next_edit()  # fine, no offers; the menu
    await anna.send_command("/geburtstag")
    ask = await anna.next_message()
    assert ask.text.startswith("🎂 Wann hast du Geburtstag?") and ask.text.endswith(LINE)
    # A known customer's welcome back is no first message: no line there.
    await anna.send_command("/start")
    assert "/datenschutz" not in (await anna.next_message()).text


async def test_datenschutz_gives_the_full_notice_with_the_configured_periods(bots, api, tmp_path):
    config = config_file(tmp_path, {"privacy": {"retention": {"message_log_days": 60, "ticket_days": 365,
                                                              "feedback_days": 730, "survey_reason_days": 400,
                                                              "outbox_payload_days": 90}}})
    await bots(STAMMGAST_CONFIG=config)
    anna = await onboarded(api)
    await anna.send_command("/datenschutz")
    notice = (await anna.next_message()).text
    assert notice.startswith("🔒 Datenschutz bei Kaffeehaus Morgenrot")
    assert "Kaffeehaus Morgenrot GmbH, Inhaberin Lena Morgenroth, Lindenstraße 12, 10969 Berlin" in notice
    for line in ("deine Nachrichten an mich: 60 Tage", "Tickets: 1 Jahr nach dem Abschluss",
                 "Feedback: 2 Jahre, Begründungen in Umfragen: 400 Tage",
                 "der Inhalt unserer Nachrichten an dich: 90 Tage",
                 "ein Kundenkonto, das 3 Jahre lang nicht genutzt wurde, löschen wir"):
        assert line in notice
    for right in ("/meinedaten", "/loeschen", "/stop", "/einstellungen"):
        assert right in notice
    assert "Fragen? datenschutz@kaffeehaus-morgenrot.de" in notice
    assert notice.endswith(f"Alles ausführlich: {POLICY}")
    ben = await onboarded(api, first_name="Ben", consent="Yes, please", language_code="en")
    await ben.send_command("/privacy")
    english = (await ben.next_message()).text
    assert english.startswith("🔒 Privacy at Kaffeehaus Morgenrot") and "your messages to me: 60 days" in english


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), BERLIN)


def move_clock(clock, moment: datetime) -> None:
    clock.write_text(str((moment - datetime.now(timezone.utc)).total_seconds()))


def logged_texts(db, user) -> list[str]:
    customer_id = customer_of(db, user).id
    with db.session() as session:
        return [row.text for row in session.exec(select(MessageLog).where(MessageLog.customer_id == customer_id,
                                                                          MessageLog.kind == "text"))]


async def test_the_nightly_purge_empties_an_old_message_text_and_keeps_a_young_one(bots, api, db, tmp_path):
    clock = tmp_path / "clock"
    bot = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock))
    await bot.wait_for_log("retention purge done")  # the day's purge at the start
    anna = await onboarded(api)
    await anna.send_text("Habt ihr sonntags auf?")
    await anna.next_message()
    await anna.send_command("/hilfe")  # handled after the text's update has written its log
    await anna.next_message()
    assert logged_texts(db, anna) == ["Habt ihr sonntags auf?"]
    today = datetime.now(BERLIN).date()
    later = today + timedelta(days=60)  # younger than 90 days: stays
    move_clock(clock, at(later, 5))
    await bot.wait_for_log("retention purge done", f'"day": "{later.isoformat()}"')
    assert logged_texts(db, anna) == ["Habt ihr sonntags auf?"]
    past = today + timedelta(days=92)
    move_clock(clock, at(past, 5))
    line = await bot.wait_for_log("retention purge done", f'"day": "{past.isoformat()}"')
    assert '"message_log": 1' in line and "sonntags" not in bot.log()
    assert logged_texts(db, anna) == [""]


async def answer_survey(staff, db, api, user, score: str, reason: str, clock, days: int) -> list[str]:
    """Book a purchase, move the clock ``days`` ahead (the question comes three days later) and
    answer; the two messages after the reason."""
    barista = api.new_user(first_name="Bea")
    await staff.send_command(barista, "/kauf", f"{customer_of(db, user).code} 9,80")
    await staff.next_message()
    await user.next_message()
    clock.write_text(str(days * DAY))
    question = await user.next_message()
    await user.press(score, message=question)
    await user.next_callback_answer()
    await user.next_edit()
    await user.next_message()  # why?
    await user.send_text(reason)
    return [(await user.next_message()).text, (await user.next_message()).text]


async def test_every_survey_answer_is_offered_the_review_page(bots, api, staff, db, tmp_path):
    clock = tmp_path / "clock"
    config = config_file(tmp_path, {"nps": {"review_url": REVIEW_URL}})
    await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config)
    ben = await onboarded(api, first_name="Ben")
    offer, review = await answer_survey(staff, db, api, ben, "3", "Der Kaffee war kalt", clock, days=4)
    assert offer.endswith("Sollen wir uns bei dir melden?")
    assert review == f"Und wenn du möchtest, kannst du uns auch öffentlich bewerten – ehrlich, so wie es war: {REVIEW_URL}"
    carla = await onboarded(api, first_name="Carla")
    thanks, review = await answer_survey(staff, db, api, carla, "7", "Etwas mehr Auswahl beim Kuchen", clock, days=8)
    assert thanks.startswith("Danke für deine ehrliche Antwort!")
    assert review == f"Wenn du magst, bewerte uns gern auch öffentlich – so, wie du es erlebt hast: {REVIEW_URL}"


async def test_a_production_start_without_the_privacy_section_stops_with_a_clear_message(api, database_url, tmp_path):
    config = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    del config["privacy"]
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = bot_environment(api, database_url, "http://127.0.0.1:9", STAMMGAST_CONFIG=str(path))
    del env["TELEGRAM_API_BASE_URL"]  # the official Bot API: real customers
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=REPO, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    output = stderr.decode()
    assert process.returncode == 2, output
    assert "error: the privacy notice is incomplete" in output and "DSGVO Art. 13" in output
    for key in ("privacy.controller", "privacy.contact", "privacy.policy_url"):
        assert f"{path}: {key}: is required to run with Telegram" in output
    assert "Traceback" not in output
    # The doctor names it as a failure too (with the official API).
    doctor = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "doctor", cwd=REPO, env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    report = (await asyncio.wait_for(doctor.communicate(), 60))[0].decode()
    assert "✘ privacy notice: privacy.controller, privacy.contact, privacy.policy_url not set" in report
