"""The same bot on PostgreSQL: a customer's journey and a restart in the middle of it."""

import pytest
from sqlmodel import select

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
    assert "Anna (@anna_k)" in (await staff.next_message()).text
    await anna.send_text("keine Werbung mehr bitte")
    await anna.next_message()
    await first.stop()
    await bots()
    await anna.send_text("ja")
    assert (await anna.next_message()).text.startswith("Erledigt")
    assert not customer_of(db, anna).marketing_consent
    with db.session() as session:
        assert [r.status for r in session.exec(select(OutboxMessage))] == ["sent"]
