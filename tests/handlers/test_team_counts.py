"""The shop's own people are not its customers: the owners and the staff group's members who
wrote to the bot privately are left out of /segment until they buy (domain.segments); a staff
member is known from the first staff command in the group (bot.staff, table staff_member)."""

from sqlmodel import select

from storage.models import StaffMember
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

BARISTA, GUEST = 424242, 535353


def matching(shop) -> str:
    return next(line for line in shop.telegram.sent(ADMIN_ID)[-1].splitlines() if "Passende Kunden" in line)


async def test_owners_and_staff_who_wrote_privately_are_not_counted(shop):
    for user in (BARISTA, GUEST):
        await shop.chat.send(user, "/start")
    await shop.chat.send(ADMIN_ID, "/segment alle")  # the owner wrote privately too: three customer rows
    assert matching(shop) == "👥 <b>Passende Kunden: 2</b>"  # the guest and the barista, not the owner

    await shop.chat.send(BARISTA, "/tickets", chat_id=STAFF_CHAT_ID)  # at work in the staff group
    with shop.services.store.session() as session:
        assert session.exec(select(StaffMember.telegram_user_id)).all() == [BARISTA]
    await shop.chat.send(ADMIN_ID, "/segment alle")
    assert matching(shop) == "👥 <b>Passende Kunden: 1</b>"  # the guest
    assert not shop.errors
