"""The same bot on PostgreSQL: a customer's journey and a restart in the middle of it, the
loyalty program, and two bot processes (replicas) sharing one outbox."""

import re
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from domain import ledger, outbox
from domain.outbox import MessageSpec
from storage.models import OutboxMessage
from tests.conftest import _reset_postgres
from tests.e2e.journeys import customer_of, onboarded

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_server_url):
    _reset_postgres(postgres_server_url)
    return postgres_server_url


async def test_journey_and_restart_on_postgres(bots, api, staff, db):
    first = await bots()
    anna = await onboarded(api, username="anna_k")
    assert customer_of(db, anna).marketing_consent
    await anna.send_text("Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert (await anna.next_message()).text.startswith("Ich habe unserem Team Bescheid gesagt.")
    alert = await staff.next_message()
    assert "Anna (@anna_k)" in alert.text
    await anna.send_text("keine Werbung mehr bitte")  # the bot answers this itself, ticket or not
    await anna.next_message()
    await first.stop()
    await bots()
    await anna.send_text("ja")
    assert (await anna.next_message()).text.startswith("Erledigt")
    assert not customer_of(db, anna).marketing_consent
    with db.session() as session:
        assert [r.status for r in session.exec(select(OutboxMessage))] == ["sent"]
    # The ticket's thread survives the restart: a reply to the alert reaches her.
    await staff.reply_to(api.new_user(first_name="Bea"), alert, "Hallo Anna, wie können wir helfen?")
    assert (await anna.next_message()).text == "💬 Kaffeehaus Morgenrot: Hallo Anna, wie können wir helfen?"
    assert (await staff.next_message()).text == "✅ An Anna geschickt (Ticket #1)."


async def test_loyalty_on_postgres(bots, api, staff, db):
    """Booking, redeeming and the staff code check on PostgreSQL, through the real bot."""
    await bots()
    anna = await onboarded(api)
    barista = api.new_user(first_name="Bea")
    code = customer_of(db, anna).code
    await staff.send_command(barista, "/kauf", f"{code} 42,90")
    assert "+42 Punkte, Punktestand 42" in (await staff.next_message()).text
    assert (await anna.next_message()).text.startswith("🎉 +42 Punkte")
    await anna.send_command("/praemien")
    await anna.press("Ein Kaffee nach Wahl", message=await anna.next_message())
    await anna.next_callback_answer()
    await anna.press("Ja, einlösen", message=await anna.next_message())
    await anna.next_callback_answer()
    reward = await anna.next_message()
    reward_code = re.search(r"Dein Code: ([A-Z0-9]{4}-[A-Z0-9]{4})", reward.caption).group(1)
    await staff.send_command(barista, "/einloesen", reward_code)
    assert (await staff.next_message()).text.startswith("✅ Eingelöst: Ein Kaffee nach Wahl für Anna")
    customer_id = customer_of(db, anna).id
    with db.session() as session:
        assert ledger.balance(session, customer_id) == 2


async def test_two_bot_processes_send_every_outbox_row_exactly_once(bots, api, staff, db):
    """Replicas claim rows with FOR UPDATE SKIP LOCKED and a lease: 300 rows (each send takes
    50 ms at the fake); the second process starts while the first is in the middle of sending,
    and no row is sent twice."""
    db.migrate()
    users = [api.new_user(first_name=f"Kunde {n}") for n in range(300)]
    now = datetime.now(timezone.utc)
    with db.session() as session:
        for n, user in enumerate(users):
            outbox.enqueue(session, f"replica-test:{n}", user.id, MessageSpec(text=f"Nachricht {n}"),
                           outbox.SERVICE, now)
    api.set_latency(0.05, ["sendMessage"])
    first = await bots()
    await api.wait_until(lambda: sum(len(api.sent_messages(u.id)) for u in users) >= 30, timeout=30,
                         description="the first process to be sending")
    second = await bots()

    def all_sent() -> bool:
        with db.session() as session:
            return {r.status for r in session.exec(select(OutboxMessage))} == {"sent"}

    await api.wait_until(lambda: sum(len(api.sent_messages(u.id)) for u in users) >= len(users), timeout=60,
                         description="every row to be sent")
    await api.wait_until(all_sent, timeout=30, description="every row to be marked sent")
    users[-1].drain_messages()
    await users[-1].expect_no_message(within=1.0)  # time for a duplicate to show up, if there were one
    assert [len(api.sent_messages(u.id)) for u in users] == [1] * len(users)
    sent_by = [process.log().count('"outbox message sent"') for process in (first, second)]
    assert sum(sent_by) == len(users) and min(sent_by) > 0, sent_by  # both took part
