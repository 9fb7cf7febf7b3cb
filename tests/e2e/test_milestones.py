"""The daily greetings with the bot's clock moved (STAMMGAST_TEST_CLOCK_FILE): a birthday with
points at the send hour and not before, the anniversary of the first purchase, "we miss you"
with a coupon the counter redeems, the points-expiry warning, and a day the bot was down caught
up at the next start, once; a greeting the weekly cap holds back takes its gift back.

Days are the shop's (Europe/Berlin) and counted from today's real date, so the tests run on
any day; marketing may go out at any time here (no quiet hours, no days off)."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot import formatting
from domain import customers, ledger, milestones, outbox
from domain.outbox import MessageSpec
from storage.models import JobRun, OutboxMessage, PointsEntry, Survey
from tests.e2e.harness import SEND_ANY_TIME, config_file
from tests.e2e.journeys import customer_of, onboarded

BERLIN = ZoneInfo("Europe/Berlin")
# The purchases' NPS question would come in between: off here (milestones.post_purchase).
QUIET_SURVEYS = {"post_purchase": {"enabled": False}}


def today() -> date:
    return datetime.now(BERLIN).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN)


def move_clock(clock, moment: datetime) -> None:
    """Let the bot's clock show ``moment`` (it runs ahead of the real one by the written seconds)."""
    clock.write_text(str((moment - datetime.now(timezone.utc)).total_seconds()))


async def start(bots, tmp_path, **milestone_settings):
    clock = tmp_path / "clock"
    config = config_file(tmp_path, SEND_ANY_TIME | {"milestones": milestone_settings})
    process = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config)
    await process.wait_for_log("milestones scanned")  # the scan at the start, for the real today
    return process, clock


def set_birthday(db, user, day: date) -> None:
    with db.session() as session:
        customers.set_birthday(session, customer_of(db, user).id, day.day, day.month, None)


def milestone_rows(db) -> list[OutboxMessage]:
    with db.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key.startswith("milestone:"))))


async def test_a_birthday_greeting_with_points_arrives_at_the_send_hour_and_not_before(bots, api, db, tmp_path):
    process, clock = await start(bots, tmp_path)
    anna = await onboarded(api)
    birthday = today() + timedelta(days=1)
    set_birthday(db, anna, birthday)
    move_clock(clock, at(birthday, 9, 59))
    await anna.expect_no_message(within=2)
    move_clock(clock, at(birthday, 10, 0))
    greeting = await anna.next_message()
    assert greeting.text.startswith("🎂 Alles Gute zum Geburtstag, Anna! Das ganze Team von Kaffeehaus Morgenrot")
    assert "Als kleines Geschenk haben wir dir 50 Punkte gutgeschrieben." in greeting.text
    assert greeting.text.endswith("Keine Angebote mehr? Schick einfach /stop.")
    await anna.send_command("/punkte")
    points = await anna.next_message()
    assert "Punktestand: 50 Punkte" in points.text and "+50 – Geschenk" in points.text
    # The next day, and after a restart: no second greeting, no second gift.
    move_clock(clock, at(birthday + timedelta(days=1), 10, 0))
    await process.wait_for_log(f'"day": "{(birthday + timedelta(days=1)).isoformat()}"')
    await process.stop()
    restarted = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=str(tmp_path / "config.yml"))
    await restarted.wait_for_log("milestones scanned")
    await anna.expect_no_message(within=1)
    assert len(milestone_rows(db)) == 1
    with db.session() as session:
        assert ledger.balance(session, customer_of(db, anna).id) == 50


async def buy_now(api, staff, user, db, amount: str = "9,80") -> None:
    barista = api.new_user(first_name="Bea")
    await staff.send_command(barista, "/kauf", f"{customer_of(db, user).code} {amount}")
    await staff.next_message()
    assert (await user.next_message()).text.startswith("🎉")


async def test_the_anniversary_of_the_first_purchase(bots, api, staff, db, tmp_path):
    _, clock = await start(bots, tmp_path, anniversary={"gift_points": 25}, **QUIET_SURVEYS)
    anna = await onboarded(api)
    await buy_now(api, staff, anna, db)
    first = today()
    anniversary = milestones.celebrated_on(first.month, first.day, first.year + 1)
    move_clock(clock, at(anniversary, 10, 0))
    greeting = await anna.next_message()
    assert greeting.text.startswith("🥳 Heute ist es genau ein Jahr her, dass du zum ersten Mal bei uns eingekauft hast, Anna.")
    assert "25 Punkte" in greeting.text
    with db.session() as session:
        assert session.exec(select(Survey)).all() == []  # post_purchase is off


async def test_we_miss_you_with_a_coupon_once_per_pause(bots, api, staff, db, tmp_path):
    process, clock = await start(bots, tmp_path, win_back={"after_days": 60, "coupon_offer": "Ein Stück Kuchen"},
                                 **QUIET_SURVEYS)
    anna = await onboarded(api)
    await buy_now(api, staff, anna, db)
    away = today() + timedelta(days=60)
    move_clock(clock, at(away, 10, 0))
    greeting = await anna.next_message()
    assert greeting.text.startswith("☕ Wir vermissen dich, Anna!")
    assert "Für dich: Ein Stück Kuchen." in greeting.text
    code = greeting.text.split("Dein Code: ")[1].split(",")[0]
    barista = api.new_user(first_name="Bea")
    await staff.send_command(barista, "/einloesen", code)
    assert (await staff.next_message()).text.startswith("✅ Eingelöst: Ein Stück Kuchen für Anna")
    move_clock(clock, at(away + timedelta(days=1), 10, 0))
    await process.wait_for_log(f'"day": "{(away + timedelta(days=1)).isoformat()}"')
    await anna.expect_no_message(within=1)
    assert len(milestone_rows(db)) == 1


async def test_points_about_to_expire_are_announced_even_without_consent_to_offers(bots, api, staff, db, tmp_path):
    _, clock = await start(bots, tmp_path, **QUIET_SURVEYS)
    ben = await onboarded(api, first_name="Ben", consent="Nein, danke")
    await buy_now(api, staff, ben, db)
    with db.session() as session:
        (entry,) = session.exec(select(PointsEntry).where(PointsEntry.customer_id == customer_of(db, ben).id)).all()
    expires = entry.expires_at.astimezone(BERLIN).date()
    move_clock(clock, at(expires - timedelta(days=30), 10, 0))
    warning = await ben.next_message()
    assert warning.text == (f"⏳ Kleiner Hinweis, Ben: {entry.amount} deiner Punkte verfallen am "
                            f"{formatting.long_date(expires, 'de')}. Löse sie vorher ein – was es dafür gibt, "
                            "siehst du unter /praemien.")


async def test_a_birthday_while_the_bot_was_down_is_caught_up_once_at_the_next_start(bots, api, db, tmp_path):
    first, clock = await start(bots, tmp_path)
    anna = await onboarded(api)
    birthday = today() + timedelta(days=2)
    set_birthday(db, anna, birthday)
    move_clock(clock, at(birthday - timedelta(days=1), 12, 0))
    await first.wait_for_log(f'"day": "{(birthday - timedelta(days=1)).isoformat()}"')
    await first.stop()
    move_clock(clock, at(birthday + timedelta(days=1), 11, 0))  # the whole birthday passes while it is down
    config = str(tmp_path / "config.yml")
    second = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config)
    greeting = await anna.next_message()
    assert greeting.text.startswith("🎂 Alles Gute zum Geburtstag, Anna!")
    await second.stop()
    third = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=config)
    await third.wait_for_log("milestones scanned")
    await anna.expect_no_message(within=1)
    assert [row.idempotency_key for row in milestone_rows(db)] == [
        f"milestone:birthday:{birthday.year}:{customer_of(db, anna).id}"]
    with db.session() as session:
        assert session.get(JobRun, milestones.JOB).last_run_on == birthday + timedelta(days=1)


async def test_a_birthday_greeting_the_weekly_cap_holds_back_takes_its_gift_back(bots, api, db, tmp_path):
    clock = tmp_path / "clock"
    one_a_week = config_file(tmp_path, {"campaigns": SEND_ANY_TIME["campaigns"] | {"max_marketing_per_week": 1}})
    process = await bots(STAMMGAST_TEST_CLOCK_FILE=str(clock), STAMMGAST_CONFIG=one_a_week)
    anna = await onboarded(api)
    anna_id = customer_of(db, anna).id
    with db.session() as session:  # an offer she got earlier today
        offer = outbox.enqueue(session, "campaign:1:1:test", anna.id, MessageSpec(text="Heute: Waffeln"),
                               outbox.MARKETING, datetime.now(timezone.utc), customer_id=anna_id)
        session.flush()
        outbox.mark_sent(session, offer.id, 1, datetime.now(timezone.utc))
    birthday = today() + timedelta(days=1)
    set_birthday(db, anna, birthday)
    move_clock(clock, at(birthday, 10, 0))
    await process.wait_for_log("gift of an undelivered greeting taken back", f'"customer_id": {anna_id}')
    (greeting,) = milestone_rows(db)
    assert (greeting.status, greeting.last_error) == ("skipped", "weekly_cap")
    await anna.send_command("/punkte")
    points = (await anna.next_message()).text
    assert "Punktestand: 0 Punkte" in points and "+50 – Geschenk" in points and "−50 – Storno" in points
    assert not any(m.text.startswith("🎂") for m in anna.messages)
