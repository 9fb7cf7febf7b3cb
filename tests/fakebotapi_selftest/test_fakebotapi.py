"""Self-tests of the fake Bot API, driven by PTB's real client objects.

``telegram.Bot`` and a small ``telegram.ext.Application`` (polling, echo handler,
inline-keyboard handler) talk HTTP to :class:`FakeBotApi`; the driver plays the users.
Nothing sleeps: waits are event-driven with timeouts that only matter on failure.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakebotapi import FakeBotApi, parse_html
from tests.fakebotapi.errors import MESSAGE_NOT_MODIFIED, QUERY_TOO_OLD

TOKEN = "123456:SELFTEST-token-for-the-fake-bot-api"


# ---------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------
@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN, bot_username="morgenrot_bot") as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def _menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Ja", callback_data="yes"), InlineKeyboardButton("Nein", callback_data="no")]]
    )
    await update.effective_message.reply_text("<b>Kommst du?</b>", parse_mode="HTML", reply_markup=keyboard)


async def _pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Du hast {query.data} gewählt")
    await query.edit_message_text(f"Antwort: {query.data}")


async def _my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot_data["member_updates"].put(update.my_chat_member)


@pytest.fixture
async def echo_app(api: FakeBotApi) -> AsyncIterator[Application]:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.bot_data["member_updates"] = asyncio.Queue()
    app.add_handler(CommandHandler("menu", _menu))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_pressed))
    app.add_handler(ChatMemberHandler(_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=5, allowed_updates=Update.ALL_TYPES)
        await api.wait_until_polling()
        yield app
        await app.updater.stop()
        await app.stop()


def _seconds(retry_after: int | dtm.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after


# ---------------------------------------------------------------------------------------
# protocol basics
# ---------------------------------------------------------------------------------------
async def test_get_me_token_and_unknown_method(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "morgenrot_bot", True)

    with pytest.raises(InvalidToken, match="rejected by the server") as rejected:
        async with Bot("123456:wrong-token", base_url=api.base_url):
            pass
    assert str(rejected.value.__cause__) == "Unauthorized"
    assert len(api.calls("getMe", status=401)) == 1

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})
    assert api.calls("sendTelepathy")[0].status == 404


async def test_json_query_string_and_case_insensitive_methods(api: FakeBotApi) -> None:
    anna = api.new_user("Anna")
    async with aiohttp.ClientSession() as http:
        body = {
            "chat_id": anna.id,
            "text": "per JSON",
            "reply_markup": {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]},
        }
        async with http.post(f"{api.base_url}{TOKEN}/SENDMESSAGE", json=body) as response:
            assert response.status == 200
            assert (await response.json())["result"]["reply_markup"] == body["reply_markup"]
        query = f"{api.base_url}{TOKEN}/sendMessage?chat_id={anna.id}&text=per%20Query"
        async with http.get(query) as response:
            assert (await response.json())["ok"] is True
    first, second = await anna.next_message(), await anna.next_message()
    assert (first.text, first.callback_data, second.text) == ("per JSON", ["ok"], "per Query")
    assert api.calls("sendmessage")[1].params == {"chat_id": anna.id, "text": "per Query"}


async def test_get_updates_offsets_and_long_polling(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    for text in ("eins", "zwei", "drei"):
        await anna.send_text(text)

    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["eins", "zwei", "drei"]
    assert [u.update_id for u in updates] == sorted({u.update_id for u in updates})

    again = await bot.get_updates(offset=updates[1].update_id, timeout=0)
    assert [u.message.text for u in again] == ["zwei", "drei"]  # "eins" confirmed
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert api.pending_updates == []

    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
    await api.wait_until(lambda: any(c.status is None for c in api.calls("getUpdates")))
    await anna.send_text("vier")
    fresh = await poll
    assert [u.message.text for u in fresh] == ["vier"]
    assert time.monotonic() - started < 4, "long polling must return as soon as an update arrives"


async def test_second_poller_terminates_first_with_conflict(api: FakeBotApi, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5, read_timeout=10))
    await api.wait_until(lambda: any(c.status is None for c in api.calls("getUpdates")))
    async with Bot(TOKEN, base_url=api.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first

    with pytest.raises(BadRequest, match="(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook")
    assert api.webhook_url == "https://example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    await bot.delete_webhook()
    assert api.webhook_url is None


# ---------------------------------------------------------------------------------------
# the driver against a real Application
# ---------------------------------------------------------------------------------------
async def test_echo_round_trip(api: FakeBotApi, echo_app: Application) -> None:
    anna = api.new_user("Anna", username="anna_k")
    sent = await anna.send_text("Wann habt ihr offen?")
    assert sent["chat"] == {"id": anna.id, "type": "private", "first_name": "Anna", "username": "anna_k"}

    reply = await anna.next_message()
    assert reply.text == "Wann habt ihr offen?"
    assert reply.stored.sender.is_bot
    await anna.expect_no_message(within=0.2)

    ben = api.new_user("Ben")
    await ben.send_text("Hallo")
    assert (await ben.next_message()).text == "Hallo"
    assert [m.text for m in anna.messages] == ["Wann habt ihr offen?"]


async def test_next_message_timeout_explains_what_happened(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    await anna.send_text("Hallo?")
    with pytest.raises(BadRequest):
        await bot.send_message(anna.id, "kaputt <br>", parse_mode="HTML")
    with pytest.raises(AssertionError) as failure:
        await anna.next_message(timeout=0.05)
    report = str(failure.value)
    assert "Anna: Hallo?" in report
    assert 'sendMessage -> 400 Bad Request: can\'t parse entities: Unsupported start tag "br"' in report


async def test_inline_keyboard_press_answer_and_edit(api: FakeBotApi, echo_app: Application) -> None:
    anna = api.new_user("Anna")
    command = await anna.send_command("/menu")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]

    menu = await anna.next_message()
    assert (menu.text, menu.html, menu.parse_mode) == ("Kommst du?", "<b>Kommst du?</b>", "HTML")
    assert menu.buttons == [["Ja", "Nein"]]
    assert menu.callback_data == ["yes", "no"]

    query_id = await anna.press("Ja")
    answer = await anna.next_callback_answer()
    assert answer["callback_query_id"] == query_id
    assert answer["text"] == "Du hast yes gewählt"
    assert answer["show_alert"] is False

    edit = await anna.next_edit()
    assert (edit.method, edit.text, edit.before.text) == ("editMessageText", "Antwort: yes", "Kommst du?")
    assert edit.message == menu
    assert menu.text == "Antwort: yes"  # live view
    assert menu.reply_markup is None  # editing without reply_markup removes the keyboard
    assert [e.text for e in menu.edits] == ["Antwort: yes"]


async def test_double_tap_on_old_message(api: FakeBotApi, echo_app: Application) -> None:
    anna = api.new_user("Anna")
    await anna.send_command("/menu")
    menu = await anna.next_message()
    await anna.press("Ja", message=menu)
    await anna.next_edit()

    with pytest.raises(AssertionError, match="no button 'Ja'"):
        await anna.press("Ja", message=menu)  # the keyboard is gone ...
    since = api.mark()
    await anna.press("Ja", message=menu, stale_ok=True)  # ... unless the client is stale
    assert (await anna.next_callback_answer())["text"] == "Du hast yes gewählt"
    failed = await api.wait_for_call("editMessageText", since=since)
    assert failed.status == 400
    assert failed.description == f"Bad Request: {MESSAGE_NOT_MODIFIED}"


async def test_blocked_user(api: FakeBotApi, echo_app: Application) -> None:
    anna = api.new_user("Anna")
    await anna.block()
    member_update = await asyncio.wait_for(echo_app.bot_data["member_updates"].get(), 10)
    assert member_update.chat.id == anna.id
    assert (member_update.old_chat_member.status, member_update.new_chat_member.status) == ("member", "kicked")

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await echo_app.bot.send_message(anna.id, "Angebot!")
    with pytest.raises(RuntimeError, match="blocked"):
        await anna.send_text("geht nicht")

    await anna.unblock()
    member_update = await asyncio.wait_for(echo_app.bot_data["member_updates"].get(), 10)
    assert member_update.new_chat_member.status == "member"
    await echo_app.bot.send_message(anna.id, "Willkommen zurück")
    assert (await anna.next_message()).text == "Willkommen zurück"


async def test_unreachable_chats(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(999_999, "Hallo")
    stranger = api.new_user("Stranger", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "Hallo")
    gone = api.new_user("Gone")
    await gone.deactivate()
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(gone.id, "Hallo")

    staff = api.new_group("Team Morgenrot")
    chef = api.new_user("Chef")
    await staff.kick_bot(by=chef)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(staff.id, "Neue Bestellung")
    deleted = api.new_group("Alt")
    await deleted.delete()
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(deleted.id, "Hallo")


# ---------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------
async def test_html_validation(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(anna.id, "<script>alert(1)</script>", parse_mode="HTML")
    assert api.calls("sendMessage")[0].description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 0'
    )
    with pytest.raises(BadRequest, match='(?i)unsupported start tag "" at byte offset 2'):
        await bot.send_message(anna.id, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(anna.id, "Kaffee & Kuchen", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Can't find end tag corresponding to start tag"):
        await bot.send_message(anna.id, "<b>offen", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)Unmatched end tag"):
        await bot.send_message(anna.id, "<b>offen</i>", parse_mode="HTML")
    assert api.sent_messages() == []

    escaped = html.escape('Öffnungszeiten <Mo-Fr> & "Sa"')
    raw = f'<b>{escaped}</b>\n<a href="https://morgenrot.de/?a=1&b=2">Web</a>'
    sent = await bot.send_message(anna.id, raw, parse_mode="HTML")
    assert sent.text == 'Öffnungszeiten <Mo-Fr> & "Sa"\nWeb'
    assert sent.entities[0].type == "bold"
    assert sent.entities[1].url == "https://morgenrot.de/?a=1&b=2"
    received = await anna.next_message()
    assert (received.html, received.text) == (raw, sent.text)

    plain = await bot.send_message(anna.id, "1 < 2 & <b> ist ok ohne parse_mode")
    assert plain.text == "1 < 2 & <b> ist ok ohne parse_mode"


def test_html_parser_details() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre> 😀<i>i</i>')
    assert parsed.text == "x = 1 😀i"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "italic", "offset": 8, "length": 1},  # the emoji counts 2 UTF-16 units
    ]
    assert parse_html("AT&T", strict_ampersand=False).text == "AT&T"  # real Telegram's leniency


async def test_text_and_caption_limits(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    await bot.send_message(anna.id, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(anna.id, "x" * 4097)
    await bot.send_message(anna.id, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")  # limit after parsing
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(anna.id, "  \n ")
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_document(anna.id, b"data", filename="a.txt", caption="c" * 1025)
    assert [len(m.text) for m in api.sent_messages()] == [4096, 4096]


async def test_callback_data_limit(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="d" * 64)]])
    await bot.send_message(anna.id, "64 bytes", reply_markup=ok)
    for data in ("d" * 65, "ä" * 33):  # bytes, not characters
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("zu lang", callback_data=data)]])
        with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(anna.id, "zu lang", reply_markup=markup)
    assert [m.text for m in api.sent_messages()] == ["64 bytes"]


async def test_edit_delete_and_callback_errors(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    message = await bot.send_message(anna.id, "Termin am Montag")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=anna.id, message_id=message.message_id + 50)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Termin am Montag", chat_id=anna.id, message_id=message.message_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Absagen", callback_data="cancel")]])
    await bot.edit_message_reply_markup(anna.id, message.message_id, reply_markup=keyboard)
    assert (await anna.next_edit()).callback_data == ["cancel"]

    query_id = await anna.press("Absagen")
    assert await bot.answer_callback_query(query_id, text="Abgesagt", show_alert=True)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)  # answered twice
    with pytest.raises(BadRequest, match="(?i)" + QUERY_TOO_OLD[:20]):
        await bot.answer_callback_query("123")
    assert (await anna.next_callback_answer())["show_alert"] is True

    assert await bot.delete_message(anna.id, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(anna.id, message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("neu", chat_id=anna.id, message_id=message.message_id)
    assert anna.messages[0].deleted


async def test_reply_keyboard_with_contact_request(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna", phone_number="+4917612345678")
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("📱 Nummer teilen", request_contact=True)]], one_time_keyboard=True
    )
    await bot.send_message(anna.id, "Deine Nummer?", reply_markup=keyboard)
    assert (await anna.next_message()).buttons == [["📱 Nummer teilen"]]

    await anna.press_reply_button("Nummer teilen")
    assert anna.reply_keyboard is None  # one-time keyboard hides after use
    await anna.share_contact("+4915100000000", own=False)
    updates = await bot.get_updates(timeout=0)
    own, foreign = (u.message.contact for u in updates)
    assert (own.phone_number, own.user_id) == ("+4917612345678", anna.id)
    assert foreign.user_id != anna.id

    group = api.new_group()
    with pytest.raises(BadRequest, match="(?i)phone number can be requested in private chats only"):
        await bot.send_message(group.id, "Nummer?", reply_markup=keyboard)


async def test_group_privacy_mode_and_replies(api: FakeBotApi, bot: Bot) -> None:
    staff = api.new_group("Team Morgenrot")
    chef = api.new_user("Chef")
    ticket = await bot.send_message(staff.id, "Ticket #7: Rückruf erbeten")
    assert (await staff.next_message()).text == "Ticket #7: Rückruf erbeten"

    await staff.send_text(chef, "Wer übernimmt?")  # not for the bot (privacy mode)
    await staff.send_command(chef, "/tickets", with_username=True)
    await staff.reply_to(chef, ticket.message_id, "Ich rufe an")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["/tickets@morgenrot_bot", "Ich rufe an"]
    reply = updates[1].message
    assert (reply.chat.type, reply.from_user.id) == ("supergroup", chef.id)
    assert reply.reply_to_message.message_id == ticket.message_id
    assert reply.reply_to_message.from_user.is_bot
    assert len(api.state.swallowed_updates) == 1


# ---------------------------------------------------------------------------------------
# failure injection
# ---------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter int
async def test_injected_429_surfaces_as_retry_after(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    api.inject_error("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(anna.id, "eins")
    assert _seconds(flood.value.retry_after) == 7
    await bot.send_message(anna.id, "zwei")  # only the next call was affected
    assert [m.text for m in api.sent_messages()] == ["zwei"]
    assert [c.response["parameters"] for c in api.calls(status=429)] == [{"retry_after": 7}]


async def test_injected_server_errors(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    other = api.new_user("Ben")
    api.inject_error("sendMessage", 500, chat_id=anna.id)
    api.inject_error("sendmessage", 502, chat_id=anna.id)
    await bot.send_message(other.id, "nicht betroffen")
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(anna.id, "eins")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(anna.id, "zwei")
    await bot.send_message(anna.id, "drei")
    assert [m.text for m in api.sent_messages(anna.id)] == ["drei"]
    assert [c.status for c in api.calls("sendMessage", chat_id=anna.id)] == [500, 502, 200]


async def test_latency_causes_client_timeout_but_message_arrives(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    api.set_latency(2.0, methods=["sendMessage"])
    with pytest.raises(TimedOut):
        await bot.send_message(anna.id, "langsam", read_timeout=0.2)
    assert (await anna.next_message()).text == "langsam"  # Telegram delivered it anyway


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter int
async def test_rate_limit_mode() -> None:
    now = [1_000.0]
    async with FakeBotApi(token=TOKEN, clock=lambda: now[0]) as limited:
        limited.enforce_rate_limits(global_per_second=30, per_chat_per_second=1, per_group_per_minute=20)
        anna, ben = limited.new_user("Anna"), limited.new_user("Ben")
        staff = limited.new_group()
        async with Bot(TOKEN, base_url=limited.base_url) as client:
            await client.send_message(anna.id, "eins")
            with pytest.raises(RetryAfter) as flood:
                await client.send_message(anna.id, "zwei")
            assert _seconds(flood.value.retry_after) == 1
            await client.send_message(ben.id, "andere Chats sind frei")
            now[0] += 1.0
            await client.send_message(anna.id, "drei")

            for _ in range(20):
                now[0] += 1.0
                await client.send_message(staff.id, "Gruppe")
            now[0] += 1.0
            with pytest.raises(RetryAfter) as group_flood:
                await client.send_message(staff.id, "eine zu viel")
            assert _seconds(group_flood.value.retry_after) == 40  # oldest of 20 leaves in 40 s

        assert limited.rate_limit_hits == 2
        assert limited.rate_limit_hits_for(anna.id) == 1
        assert [m.text for m in limited.sent_messages(anna.id)] == ["eins", "drei"]


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------
async def test_bot_document_upload_is_stored(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    data = b"name;punkte\nAnna;12\n"
    sent = await bot.send_document(anna.id, data, filename="export.csv", caption="<i>Export</i>", parse_mode="HTML")
    assert sent.document.file_name == "export.csv"
    assert sent.document.file_size == len(data)

    call = api.calls("sendDocument")[0]
    assert call.files["document"].filename == "export.csv"  # multipart upload
    received = await anna.next_message()
    assert (received.document, received.filename, received.mime_type) == (data, "export.csv", "text/csv")
    assert (received.caption, received.caption_html) == ("Export", "<i>Export</i>")

    again = await bot.send_document(anna.id, sent.document.file_id)  # re-send by file_id
    assert again.document.file_unique_id == sent.document.file_unique_id
    assert (await anna.next_message()).document == data
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(anna.id, "no-such-file-id")

    photo = await bot.send_photo(anna.id, b"\x89PNG\r\n\x1a\n" + b"\0" * 8 + (64).to_bytes(4, "big") * 2)
    assert (photo.photo[-1].width, photo.photo[-1].height) == (64, 64)
    assert (await anna.next_message()).kind == "photo"


async def test_user_document_download(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    data = "Kundennummer;Name\n1;Müller\n".encode()
    await anna.send_document("kunden.csv", data, caption="Import")
    (update,) = await bot.get_updates(timeout=0)
    document = update.message.document
    assert (document.file_name, document.mime_type, document.file_size) == ("kunden.csv", "text/csv", len(data))
    assert update.message.caption == "Import"

    telegram_file = await document.get_file()
    assert telegram_file.file_path.startswith(api.base_file_url)
    assert bytes(await telegram_file.download_as_bytearray()) == data
    assert api.state.file_downloads == [telegram_file.file_path.rsplit(TOKEN + "/", 1)[1]]
    with pytest.raises(BadRequest, match="(?i)wrong file_id"):
        await bot.get_file("unknown")


async def test_bot_sends_voice_video_audio_and_animation_with_captions(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    voice = await bot.send_voice(anna.id, b"OggS voice", caption="<b>Anna</b> (#1)", parse_mode="HTML",
                                 duration=3, disable_notification=True)
    assert (_seconds(voice.voice.duration), voice.voice.file_size, voice.caption) == (3, 10, "Anna (#1)")
    assert voice.voice.file_id.startswith("AwAC")  # Telegram's file ids name their type
    received = await anna.next_message()
    assert (received.kind, received.method, received.voice) == ("voice", "sendVoice", b"OggS voice")
    assert received.caption_html == "<b>Anna</b> (#1)" and received.disable_notification

    video = await bot.send_video(anna.id, b"mp4 video", caption="Video", duration=9, width=640, height=360)
    assert (video.video.width, video.video.height, _seconds(video.video.duration)) == (640, 360, 9)
    assert (await anna.next_message()).video == b"mp4 video"
    audio = await bot.send_audio(anna.id, b"ID3 song", filename="song.mp3", performer="Band", title="Lied",
                                 duration=200)
    assert (audio.audio.performer, audio.audio.title, audio.audio.file_name) == ("Band", "Lied", "song.mp3")
    assert (await anna.next_message()).audio == b"ID3 song"
    animation = await bot.send_animation(anna.id, b"gif as mp4", caption="lol")
    assert animation.animation is not None and animation.document is not None  # both, as Telegram does
    assert animation.caption == "lol" and (await anna.next_message()).animation == b"gif as mp4"

    again = await bot.send_voice(anna.id, voice.voice.file_id)  # re-sent by file id
    assert again.voice.file_unique_id == voice.voice.file_unique_id
    assert (await anna.next_message()).voice == b"OggS voice"
    with pytest.raises(BadRequest, match="(?i)can.t use file of type voice as document"):
        await bot.send_document(anna.id, voice.voice.file_id)
    edited = await bot.edit_message_caption(anna.id, voice.message_id, caption="neu")
    assert edited.caption == "neu"


async def test_a_video_note_is_round_and_has_no_caption(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    note = await bot.send_video_note(anna.id, b"round mp4", duration=5, length=240)
    assert (note.video_note.length, _seconds(note.video_note.duration), note.caption) == (240, 5, None)
    assert note.video_note.file_id.startswith("DQAC")
    received = await anna.next_message()
    assert (received.kind, received.method, received.video_note) == ("video_note", "sendVideoNote", b"round mp4")
    with pytest.raises(BadRequest, match="(?i)there is no caption in the message to edit"):
        await bot.edit_message_caption(anna.id, note.message_id, caption="Hallo")
    with pytest.raises(BadRequest, match="(?i)can.t use file of type videonote as video"):
        await bot.send_video(anna.id, note.video_note.file_id)


async def test_users_send_voice_messages_videos_video_notes_audio_and_gifs(api: FakeBotApi, bot: Bot) -> None:
    anna = api.new_user("Anna")
    await anna.send_voice(b"OggS hallo", caption="Hört ihr mich?", duration=7)
    await anna.send_video(b"mp4 clip", caption="So sah es aus")
    await anna.send_video_note(b"mp4 round", length=320)
    await anna.send_audio(b"ID3", filename="lied.mp3", performer="Anna", title="Lied")
    await anna.send_animation(b"gif")
    voice, video, note, audio, animation = [update.message for update in await bot.get_updates(timeout=0)]
    assert (_seconds(voice.voice.duration), voice.voice.mime_type, voice.caption) == (7, "audio/ogg", "Hört ihr mich?")
    assert bytes(await (await voice.voice.get_file()).download_as_bytearray()) == b"OggS hallo"
    assert (await voice.voice.get_file()).file_path.endswith(".oga")
    assert (video.video.width, video.video.height, video.caption) == (1280, 720, "So sah es aus")
    assert (note.video_note.length, note.caption) == (320, None)
    assert (audio.audio.file_name, audio.audio.performer, audio.audio.title) == ("lied.mp3", "Anna", "Lied")
    assert animation.animation.file_id == animation.document.file_id  # a GIF is a document too
    assert (animation.effective_attachment.file_id, animation.animation.mime_type) == (
        animation.animation.file_id, "video/mp4")


# ---------------------------------------------------------------------------------------
# bot settings
# ---------------------------------------------------------------------------------------
async def test_commands_per_scope_and_language(api: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Starten"), BotCommand("hilfe", "Hilfe")], language_code="de")
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("karte", "Stempelkarte")], scope=private, language_code="de")

    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start", "hilfe"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert await bot.get_my_commands() == ()
    assert api.commands({"type": "all_private_chats"}, "de") == [{"command": "karte", "description": "Stempelkarte"}]

    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start!", "kaputt")])
    await bot.delete_my_commands(language_code="en")
    assert api.commands(language_code="en") == []

    assert await bot.set_chat_menu_button()
    assert (await bot.get_chat_menu_button()).type == "default"
