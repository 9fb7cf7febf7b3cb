"""The first start without any id configured, through the real bot: it prints a one-time owner
code, `doctor` shows the same code, whoever sends it becomes the owner (owner commands work at
once, and after a restart), and when the bot is added to the team's group the owner makes it the
staff group with a button - staff commands work there at once."""

import re

import pytest

from tests.e2e.harness import BotProcess, bot_environment
from tests.e2e.test_doctor import doctor

NOT_OWNER = "Berichte und Nachrichten an Kunden gibt es nur für die Inhaber des Ladens. 🙂"
CODE = re.compile(r"to become the owner: ([0-9A-Z]{4}-[0-9A-Z]{4})")
NOBODY_CONFIGURED = {"STAMMGAST_ADMIN_IDS": "", "STAMMGAST_STAFF_CHAT_ID": ""}
# Nothing here needs the language understanding: free text gets the bot's "not understood" note.
NO_NLU = "http://127.0.0.1:9"


@pytest.fixture
async def bots(api, database_url, tmp_path):
    """Start bot processes with nobody configured (a restart is a second one on the same database)."""
    started: list[BotProcess] = []

    async def start() -> BotProcess:
        process = BotProcess(api, environment(api, database_url), tmp_path / f"bot-{len(started)}.log")
        started.append(process)
        return await process.start()

    yield start
    for process in started:
        await process.stop()


def environment(api, database_url) -> dict[str, str]:
    return bot_environment(api, database_url, NO_NLU, **NOBODY_CONFIGURED)


async def test_the_first_owner_sends_the_code_and_sets_up_the_staff_group(bots, api, database_url):
    bot = await bots()
    code = CODE.search(await bot.wait_for_log("No owner yet")).group(1)
    _, output = await doctor(environment(api, database_url))
    assert f"send the owner code {code} to the bot" in output

    ines = api.new_user(first_name="Ines")
    await ines.send_text(code.lower().replace("-", " "))
    assert "Du bist jetzt Inhaber" in (await ines.next_message()).text
    await ines.send_command("/bericht")
    assert (await ines.next_message()).text != NOT_OWNER
    _, output = await doctor(environment(api, database_url))
    assert f"✔ owners: {ines.id} (set in the chat)" in output and code not in output

    team = api.new_group(title="Team Morgenrot", chat_id=-100424242)
    await team.kick_bot(ines)  # the group existed without the bot; now Ines adds it
    await team.add_bot(ines, as_admin=True)
    offer = await next_message_with(ines, "«Team Morgenrot»")  # after what /bericht sent
    assert "Administrator" in offer.text
    await ines.press(callback_data="setup:group:-100424242", message=offer)
    assert "Team-Gruppe" in (await ines.next_edit()).text
    assert "Hallo Team" in (await team.next_message()).text
    await team.send_command(ines, "/tickets")  # staff commands work in the new group at once
    assert (await team.next_message()).text

    await bot.stop()
    restarted = await bots()
    assert "No owner yet" not in restarted.log()
    await ines.send_command("/bericht")
    assert (await ines.next_message()).text != NOT_OWNER
    _, output = await doctor(environment(api, database_url))
    assert "✔ staff group: -100424242 (set in the chat)" in output


async def test_a_wrong_code_is_ordinary_text(bots, api):
    bot = await bots()
    code = CODE.search(await bot.wait_for_log("No owner yet")).group(1)
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    anna = api.new_user(first_name="Anna")
    await anna.send_text(wrong)
    await anna.send_command("/bericht")
    answers = await messages_until(anna, NOT_OWNER)  # the conversation answered the text, the report is refused
    assert len(answers) > 1 and not any("Inhaber von" in text for text in answers)


async def messages_until(user, fragment: str) -> list[str]:
    texts = []
    while not texts or fragment not in texts[-1]:
        texts.append((await user.next_message()).text or "")
    return texts


async def next_message_with(user, fragment: str):
    while fragment not in ((message := await user.next_message()).text or ""):
        pass
    return message
