"""Owners without looking up ids, on SQLite and PostgreSQL: the one-time owner code (made once,
the same after a restart, used up by the first owner, worthless once there is an owner), where
the owners come from (the environment wins), and the staff group an owner chose in the chat."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from domain import owners, team
from domain.owners import CHAT, CONFIG_FILE, ENVIRONMENT, Owner
from storage.models import OutboxMessage, StaffChat

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)
LENA, MAX = 1001, 1002


def code_of(store) -> str:
    with store.session() as session:
        return owners.pending_code(session, NOW)


def claim(store, text: str, user_id: int, configured: tuple[int, ...] = ()) -> bool:
    with store.session() as session:
        return owners.claim(session, text, user_id, configured, NOW)


def chat_owners(store) -> tuple[int, ...]:
    with store.session() as session:
        return owners.chat_owner_ids(session)


def test_the_code_is_made_once_and_stays_the_same_after_a_restart(store):
    code = code_of(store)
    assert len(code) == owners.CODE_LENGTH and set(code) <= set(owners.CODE_ALPHABET)
    assert code_of(store) == code  # a second start prints the same code as the first (and doctor)
    with store.reading() as session:
        assert owners.current_code(session) == code


def test_the_code_is_long_enough_not_to_be_guessed():
    assert len(owners.CODE_ALPHABET) ** owners.CODE_LENGTH >= 2 ** 40
    assert len({owners.new_code() for _ in range(200)}) == 200


def test_sending_the_code_makes_the_sender_the_owner_and_uses_it_up(store):
    code = code_of(store)
    assert claim(store, f" {owners.shown(code).lower()} ", LENA)  # case, spaces and the dash do not matter
    assert chat_owners(store) == (LENA,)
    assert not claim(store, code, MAX)  # used up: the next one is no owner
    with store.reading() as session:
        assert owners.current_code(session) is None
    assert chat_owners(store) == (LENA,)


def test_misread_letters_are_read_as_the_digits_they_look_like():
    assert owners.normalize("o1l0-i abc") == "0110" + "1ABC"


def test_a_wrong_code_changes_nothing(store):
    code = code_of(store)
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    assert not claim(store, wrong, MAX)
    assert chat_owners(store) == ()
    assert claim(store, code, LENA)  # the right one still works


def test_no_code_works_once_there_is_an_owner(store):
    code = code_of(store)
    assert not claim(store, code, MAX, configured=(LENA,))  # config.yml named one meanwhile
    assert chat_owners(store) == ()
    with store.session() as session:
        owners.forget_code(session)
        assert owners.current_code(session) is None


def test_the_environment_wins_over_config_and_chat():
    assert owners.effective_owners((7,), (8,), (9,)) == [Owner(7, ENVIRONMENT)]
    assert owners.effective_owners(None, (8,), (9, 8)) == [Owner(8, CONFIG_FILE), Owner(9, CHAT)]
    assert owners.effective_owners(None, (), ()) == []


def test_owners_made_in_the_chat_join_the_configured_ones(store):
    assert claim(store, code_of(store), LENA)
    with store.reading() as session:
        assert owners.owners(session, None, (8,)) == [Owner(8, CONFIG_FILE), Owner(LENA, CHAT)]
        assert owners.owners(session, (7,), (8,)) == [Owner(7, ENVIRONMENT)]  # stored owners are ignored then


def test_a_group_chosen_in_the_chat_is_the_staff_group_unless_the_environment_names_one(store):
    with store.session() as session:
        team.choose_staff_chat(session, -100555, NOW)
    with store.reading() as session:
        assert team.current_staff_chat(session, None) == -100555
        assert team.current_staff_chat(session, -100111) == -100555  # chosen after config.yml was written
        assert team.current_staff_chat(session, -100111, configured_in_environment=True) == -100111
        assert team.chosen_in_chat(session) == -100555
        hello = session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == -100555)).one()
        assert hello.payload["template"] == "setup.staff_group_hello"


def test_a_chosen_group_that_becomes_a_supergroup_is_followed(store):
    with store.session() as session:
        team.choose_staff_chat(session, -555, NOW)
    with store.session() as session:
        assert team.follow_chat_migration(session, -555, -100555, -555, (LENA,), NOW + timedelta(minutes=1))
    with store.reading() as session:
        assert team.current_staff_chat(session, None) == -100555
        assert session.get(StaffChat, 1).chosen


def test_the_owners_are_offered_a_group_the_bot_was_added_to(store):
    with store.session() as session:
        team.offer_staff_chat(session, -100777, "Team Morgenrot", (LENA, MAX), NOW)
    with store.reading() as session:
        offers = session.exec(select(OutboxMessage).order_by(OutboxMessage.chat_id)).all()
    assert [row.chat_id for row in offers] == [LENA, MAX]
    assert offers[0].payload["params"] == {"title": "Team Morgenrot"}
    assert offers[0].payload["buttons"][0][0]["callback"] == "setup:group:-100777"


@pytest.mark.parametrize("text", ["ABCD-EFGH", "abcd efgh", "ABCDEFGH", " abcd-efgh "])
def test_what_looks_like_a_code(text):
    import re
    assert re.search(owners.CODE_SHAPE, text)


@pytest.mark.parametrize("text", ["hallo", "Wann habt ihr offen?", "ABCD-EFG", "ABCD-EFGHI"])
def test_what_does_not_look_like_a_code(text):
    import re
    assert not re.search(owners.CODE_SHAPE, text)
