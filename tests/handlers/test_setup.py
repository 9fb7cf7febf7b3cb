"""Setting up without looking up ids, through the real wiring: the first owner sends the
one-time owner code (and owner commands work at once), a wrong code is ordinary text, and the
owners make a group the bot was added to the staff group with a button (a forged press by
anyone else changes nothing)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from domain import owners, team, tickets
from storage.models import OutboxMessage, ShopOwner
from tests.handlers.conftest import ADMIN_ID, STAFF_CHAT_ID

NEW_OWNER = 811
STRANGER = 812
GROUP = -100555


@pytest.fixture
def no_owner(shop):
    """The shop as at its first start: nobody configured, and the code the console showed."""
    shop.services.use_owners(())
    with shop.services.store.session() as session:
        return owners.pending_code(session, shop.services.now())


def stored_owners(shop) -> list[int]:
    with shop.services.store.session() as session:
        return list(session.exec(select(ShopOwner.telegram_user_id)).all())


def outbox_to(shop, chat_id: int) -> list[OutboxMessage]:
    with shop.services.store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id)).all())


async def test_sending_the_code_makes_the_sender_the_owner_and_owner_commands_work(shop, no_owner):
    await shop.chat.send(NEW_OWNER, "/bericht", first_name="Ines")
    assert shop.telegram.sent(NEW_OWNER)[-1] == shop.text("reports.not_admin")  # not yet

    await shop.chat.send(NEW_OWNER, owners.shown(no_owner).lower().replace("-", " "), first_name="Ines")

    assert stored_owners(shop) == [NEW_OWNER]
    assert shop.services.config.staff.admin_ids == (NEW_OWNER,)
    assert shop.telegram.sent(NEW_OWNER)[-1] == shop.text("setup.now_owner")
    await shop.chat.send(NEW_OWNER, "/bericht", first_name="Ines")
    assert shop.telegram.sent(NEW_OWNER)[-1] != shop.text("reports.not_admin")  # the report itself
    assert not shop.errors


async def test_the_code_works_once(shop, no_owner):
    await shop.chat.send(NEW_OWNER, no_owner)
    await shop.chat.send(STRANGER, no_owner)
    assert stored_owners(shop) == [NEW_OWNER]
    assert shop.text("setup.now_owner") not in shop.telegram.sent(STRANGER)


async def test_a_wrong_code_is_ordinary_text(shop, no_owner):
    wrong = ("0" if no_owner[0] != "0" else "1") + no_owner[1:]
    await shop.chat.send(STRANGER, "/start")
    await shop.chat.press(STRANGER, "consent:no")
    answered = len(shop.telegram.sent(STRANGER))
    await shop.chat.send(STRANGER, owners.shown(wrong))
    assert stored_owners(shop) == [] and shop.services.config.staff.admin_ids == ()
    sent = shop.telegram.sent(STRANGER)
    assert len(sent) > answered and shop.text("setup.now_owner") not in sent  # the conversation answered
    assert not shop.errors


async def test_with_an_owner_the_code_is_ordinary_text(shop):
    with shop.services.store.session() as session:
        code = owners.pending_code(session, shop.services.now())  # left from before config.yml named owners
    await shop.chat.send(STRANGER, code)
    assert stored_owners(shop) == [] and shop.services.config.staff.admin_ids == (ADMIN_ID,)


ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
                "can_post_stories", "can_edit_stories", "can_delete_stories")


def member(status: str, user: dict) -> dict:
    rights = {right: right == "can_manage_chat" for right in ADMIN_RIGHTS} if status == "administrator" else {}
    return {"status": status, "user": user, **rights}


async def added_to_group(shop, chat_id: int = GROUP, title: str = "Team Morgenrot", old: str = "left",
                         new: str = "member") -> None:
    bot = {"id": 4242, "is_bot": True, "first_name": "Morgenrot", "username": "morgenrot_bot"}
    change = {"chat": {"id": chat_id, "type": "supergroup", "title": title},
              "from": {"id": ADMIN_ID, "is_bot": False, "first_name": "Ines"}, "date": 0,
              "old_chat_member": member(old, bot), "new_chat_member": member(new, bot)}
    await shop.chat._process({"update_id": 77, "my_chat_member": change})


async def test_the_owners_are_asked_when_the_bot_is_added_to_a_group(shop):
    await added_to_group(shop)
    [offer] = outbox_to(shop, ADMIN_ID)
    assert offer.payload["template"] == "setup.group_added"
    assert offer.payload["buttons"][0][0]["callback"] == f"setup:group:{GROUP}"
    rendered = shop.text("setup.group_added", title="Team Morgenrot")
    assert "«Team Morgenrot»" in rendered and "Administrator" in rendered


async def test_nobody_is_asked_about_the_staff_group_itself_or_without_an_owner(shop):
    await added_to_group(shop, chat_id=STAFF_CHAT_ID)
    await added_to_group(shop, old="member", new="administrator")  # promoted, not added
    shop.services.use_owners(())
    await added_to_group(shop)
    with shop.services.store.session() as session:
        assert session.exec(select(OutboxMessage)).all() == []


async def test_an_owner_makes_the_group_the_staff_group(shop):
    await shop.chat.press(ADMIN_ID, f"setup:group:{GROUP}")
    assert shop.services.config.staff.staff_chat_id == GROUP
    with shop.services.store.session() as session:
        assert team.current_staff_chat(session, STAFF_CHAT_ID) == GROUP  # also after a restart
    edits = [params["text"] for name, params in shop.telegram.calls if name == "editMessageText"]
    assert edits == [shop.text("setup.staff_group_set")]
    [hello] = outbox_to(shop, GROUP)
    assert hello.payload["template"] == "setup.staff_group_hello"
    assert not shop.errors


async def test_a_forged_press_by_someone_else_changes_nothing(shop):
    await shop.chat.press(STRANGER, f"setup:group:{GROUP}")
    assert shop.services.config.staff.staff_chat_id == STAFF_CHAT_ID
    with shop.services.store.session() as session:
        assert team.chosen_in_chat(session) is None
    assert outbox_to(shop, GROUP) == []
    assert shop.telegram.toasts() == [shop.text("reports.not_admin")]


async def test_a_staff_group_from_the_environment_wins(shop):
    shop.services.settings = shop.services.settings.model_copy(update={"staff_chat_id": STAFF_CHAT_ID})
    await shop.chat.press(ADMIN_ID, f"setup:group:{GROUP}")
    assert shop.services.config.staff.staff_chat_id == STAFF_CHAT_ID
    edits = [params["text"] for name, params in shop.telegram.calls if name == "editMessageText"]
    assert edits == [shop.text("setup.staff_group_from_environment", chat_id=str(STAFF_CHAT_ID))]
    assert outbox_to(shop, GROUP) == []


async def test_another_replica_follows_a_new_owner_and_a_chosen_staff_group(shop, no_owner):
    """Two replicas share the database: the code is sent to one, the group chosen there; the
    other follows at its next team check (``Services.follow_team``, a timer job every 30 s)."""
    other = replace(shop.services, config=shop.services.config.with_overrides((), STAFF_CHAT_ID),
                    staff_chat_filter=None)
    assert not await other.follow_team()  # nothing new yet

    await shop.chat.send(NEW_OWNER, no_owner)
    assert other.config.staff.admin_ids == ()
    assert await other.follow_team()
    assert other.config.staff.admin_ids == (NEW_OWNER,)

    await shop.chat.press(NEW_OWNER, f"setup:group:{GROUP}")
    assert other.config.staff.staff_chat_id == STAFF_CHAT_ID
    assert await other.follow_team()
    assert other.config.staff.staff_chat_id == GROUP
    assert other.ticket_rules == tickets.rules_from(other.config)  # rules derived from the new team
    assert not await other.follow_team()
    assert not shop.errors
