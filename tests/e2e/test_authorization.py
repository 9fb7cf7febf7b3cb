"""Authorization through the real bot: a plain customer tries every staff and owner command,
every button with forged data, and every customer action on another customer's data. Nothing
changes in the database, every attempt gets a polite answer, the bot keeps running and logs
no error. (One bot process; the attempts run one after the other.)"""

import json
import re

from sqlalchemy import MetaData, select
from sqlmodel import select as sql_select

from bot.app import BUTTONS, COMMANDS, CUSTOMER, OWNER, STAFF
from storage.models import Redemption, Survey, Ticket
from tests.e2e.journeys import customer_of, onboarded

NOT_STAFF = "Diesen Befehl kann nur unser Team benutzen."
NOT_OWNER = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"
# The log of incoming messages grows by design, and the bot's daily jobs claim their day a second
# after a start (no customer data changes in either).
# the report's kept midnights are written by the bot's 5-minute job at any time (domain.report_days)
NOT_CUSTOMER_DATA = {"message_log", "job_run", "report_day"}

# Plausible arguments for every staff and owner command (a new command needs its line here).
ARGUMENTS = {
    "kauf": "{code} 5,00", "storno": "1 Versehen", "beleg": "5,00", "kunde": "{code}", "einloesen": "{reward}",
    "tickets": "", "ticket": "{ticket}", "nps": "", "loop": "", "broadcast": "alle", "planen": "morgen 10:00 alle",
    "kampagnen": "", "abbrechen": "1", "segment": "alle", "kunde_export": "{code}", "kunde_loeschen": "{code}",
    "export": "kunden", "bericht": "", "uebersicht": "", "geschlossen": "heute Betriebsferien",
}
# Forged data for every button that names something (a new button needs its line here); {…} are
# the other customer's ids and nonces.
FORGED = {
    r"^redeem:([0-9a-f]{12}|cancel)$": ["redeem:{redeem_nonce}"],
    r"^bday:(yes|no):[0-9a-f]{12}$": ["bday:yes:{bday_nonce}", "bday:no:{bday_nonce}"],
    r"^import:(yes|no)$": ["import:yes", "import:no"],
    r"^loop:(send|cancel):[0-9a-f]{12}$": ["loop:send:0123456789ab"],
    r"^camp:(ok|no):[0-9]{1,10}:[0-9a-f]{12}$": ["camp:ok:1:0123456789ab"],
    r"^camp:hold:[0-9]{1,10}:[0-9a-f]{12}:[0-9]{1,2}$": ["camp:hold:1:0123456789ab:20"],
    r"^tkt:(claim|reply|solved|confirm|goodwill|back):\d{1,12}$": [
        f"tkt:{a}:{{ticket}}" for a in ("claim", "reply", "solved", "confirm", "goodwill", "back")],
    r"^tkt:undo:\d{1,12}:\d{1,12}$": ["tkt:undo:{ticket}:1796000000"],
    r"^tkt:gw:\d{1,12}:\d{1,6}$": ["tkt:gw:{ticket}:50"],
    r"^tkt:ok:\d{1,12}:(yes|no)$": ["tkt:ok:{ticket}:yes", "tkt:ok:{ticket}:no"],
    r"^nps:call:\d{1,12}:(yes|no)$": ["nps:call:{survey}:yes"],
    r"^nps:\d{1,12}:(10|[0-9])$": ["nps:{survey}:0", "nps:{survey}:10"],
    r"^nps:skip:\d{1,12}$": ["nps:skip:{survey}"],
    r"^erase:([0-9a-f]{12}|cancel)$": ["erase:{erase_nonce}", "erase:cancel"],
    r"^erase_for:([0-9a-f]{12}|cancel)$": ["erase_for:{erase_nonce}", "erase_for:cancel"],
    r"^held:(ok|no):\d{1,12}:[0-9a-f]{12}$": ["held:ok:1:0123456789ab", "held:no:1:0123456789ab"],
    # "Einlösen" under a scanned reward or coupon code: the code is in the data, only staff may press it
    r"^use:[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}$": ["use:K7QX2M9P"],
    # the owner home's buttons name nothing, but each shows the shop's figures or starts an owner's task
    r"^home:(report|campaigns|tickets|segments|import|export|customer)$": [
        f"home:{a}" for a in ("report", "campaigns", "tickets", "segments", "import", "export", "customer")],
    r"^setup:group:-?[0-9]{1,18}$": ["setup:group:-1001234567890"],  # an owner's "make it the staff group"
    r"^buy:undo:\d{1,12}$": ["buy:undo:1"],  # "Rückgängig" under a counter booking
}
# Buttons that name nothing: pressing them acts on the presser's own data, which is allowed.
OWN_ONLY = {r"^consent:(yes|no)$", r"^loyalty:(points|rewards|card)$", r"^reward:[a-z][a-z0-9_]{0,30}$",
            r"^menu:(main|faq|marketing|language)$", r"^faq:[a-z][a-z0-9_]{0,39}$", r"^lang:(de|en)$",
            r"^handoff$", r"^handoff:cancel$", r"^marketing:(ask|on|off|keep)$", r"^settings:(name|birthday)$",
            r"^clarify:[01]$"}  # acts on the presser's own waiting message


def snapshot(db) -> dict[str, list]:
    """Every row of every table (but the message log, the daily jobs' days and the report's kept
    midnights), as plain values."""
    metadata = MetaData()
    metadata.reflect(db.engine)
    with db.engine.connect() as connection:
        return {name: sorted((json.dumps(list(row), default=str) for row in connection.execute(select(table))))
                for name, table in metadata.tables.items() if name not in NOT_CUSTOMER_DATA}


def callback_data(message) -> list[str]:
    return [button["callback_data"] for row in message.reply_markup["inline_keyboard"] for button in row]


def test_every_button_is_either_forged_here_or_acts_on_the_pressers_own_data():
    assert {button.pattern for button in BUTTONS} == set(FORGED) | OWN_ONLY
    for pattern, samples in FORGED.items():
        assert all(re.match(pattern, sample.format(redeem_nonce="0" * 12, bday_nonce="0" * 12, erase_nonce="0" * 12,
                                                   ticket=1, survey=1)) for sample in samples), pattern
    assert {command.names[0] for command in COMMANDS if command.who is not CUSTOMER} == set(ARGUMENTS)


async def test_a_customer_reaches_nothing_that_is_not_theirs(bot, api, staff, db):
    # Anna, with points, a reward waiting for her "yes", a birthday waiting for hers, a survey
    # coming and an open complaint.
    anna = await onboarded(api)
    code = customer_of(db, anna).code
    bea = api.new_user(first_name="Bea")
    await staff.send_command(bea, "/kauf", f"{code} 100,00")
    await staff.next_message()
    await anna.next_message()  # the points
    await anna.send_command("/praemien")
    catalog = await anna.next_message()
    await anna.press(callback_data=callback_data(catalog)[0], message=catalog)
    await anna.next_callback_answer()
    redeem_nonce = callback_data(await anna.next_message())[0].removeprefix("redeem:")
    await anna.send_command("/geburtstag")
    await anna.next_message()
    await anna.send_text("03.05.")
    bday_nonce = callback_data(await anna.next_message())[0].rsplit(":", 1)[1]
    await anna.send_command("/beschwerde")
    await anna.next_message()
    await anna.send_text("Der Kaffee war heute eiskalt und keiner hat sich gekümmert.")
    await anna.next_message()
    await staff.next_message()  # the alert
    await anna.send_command("/loeschen")  # and her "delete everything?" waiting for her answer
    erase_nonce = callback_data(await anna.next_message())[0].removeprefix("erase:")
    with db.session() as session:
        ticket = session.exec(sql_select(Ticket.id)).one()
        survey = session.exec(sql_select(Survey.id)).one()
        assert not session.exec(sql_select(Redemption)).all()
    ids = {"code": code, "reward": "K7QX-2M9P", "ticket": ticket, "survey": survey,
           "redeem_nonce": redeem_nonce, "bday_nonce": bday_nonce, "erase_nonce": erase_nonce}

    mallory = await onboarded(api, first_name="Mallory")
    before = snapshot(db)

    for command in COMMANDS:
        if command.who is CUSTOMER:
            continue
        for name in command.names:
            arguments = ARGUMENTS[command.names[0]].format(**ids) or None
            await mallory.send_command(f"/{name}", arguments)
            answer = await mallory.next_message()
            assert answer.text == {STAFF: NOT_STAFF, OWNER: NOT_OWNER}[command.who], (name, answer.text)

    for samples in FORGED.values():
        for sample in samples:
            await mallory.press_forged(sample.format(**ids))  # under her own latest message
            answer = await mallory.next_callback_answer()
            assert answer.get("text"), (sample, answer)  # a short, polite word, never silence

    await anna.expect_no_message(within=0.5)  # nothing of this reached Anna ...
    await staff.expect_no_message(within=0.5)  # ... or the team
    assert snapshot(db) == before  # and nothing changed

    await mallory.send_command("/punkte")  # the bot keeps running
    assert "Punkte" in (await mallory.next_message()).text
    errors = [line for line in bot.log().splitlines() if '"level": "error"' in line or '"level": "critical"' in line]
    assert errors == []
