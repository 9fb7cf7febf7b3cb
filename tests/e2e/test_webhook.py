"""Webhook mode: the bot registers its public HTTPS URL and receives updates by POST.

The fake Bot API plays Telegram and the reverse proxy in front of the bot: it delivers
to the bot's local listener, keeping the registered path. Without the secret Telegram sends
with every update, a post is refused (403) and changes nothing; without a secret at all, the
bot does not start in webhook mode.
"""

import asyncio
import sys

import aiohttp
from sqlmodel import func, select

from nlu.server import free_port
from storage.models import ConsentRecord, MessageLog
from tests.e2e.harness import REPO, bot_environment
from tests.e2e.journeys import customer_of, onboarded

SECRET = "Wq8zR3vN6tK1pY4mB7cX2hJ5sD9fG0aL"
HOOK = "https://bot.example.test/telegram/hook-7f3a"


def rows(db, table) -> int:
    with db.session() as session:
        return session.exec(select(func.count()).select_from(table)).one()


async def test_updates_arrive_by_webhook_with_the_secret(bots, api, db):
    port = free_port()
    delivery = api.route_webhooks_to(f"http://127.0.0.1:{port}")
    bot = await bots(TELEGRAM_WEBHOOK_URL=HOOK, TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_SECRET=SECRET)
    assert api.webhook_url == HOOK
    assert not api.calls("getUpdates")
    anna = await onboarded(api)
    assert customer_of(db, anna).marketing_consent is True
    assert delivery.deliveries[-1][1] == 200
    before = (rows(db, ConsentRecord), rows(db, MessageLog))

    async with aiohttp.ClientSession() as http:  # a forger without the secret gets nowhere
        forged = {"update_id": 10**6, "message": {"message_id": 99, "date": 0, "text": "/stop",
                                                  "from": {"id": anna.id, "is_bot": False, "first_name": "Anna"},
                                                  "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                                                  "chat": {"id": anna.id, "type": "private"}}}
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            async with http.post(f"http://127.0.0.1:{port}/telegram/hook-7f3a", json=forged,
                                 headers=headers) as response:
                assert response.status == 403
    await anna.expect_no_message(within=1.0)
    assert customer_of(db, anna).marketing_consent is True  # the forged /stop changed nothing
    assert (rows(db, ConsentRecord), rows(db, MessageLog)) == before
    assert SECRET not in bot.log()


async def start_and_fail(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=REPO, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, err.decode()


async def test_webhook_mode_without_a_strong_secret_does_not_start(api, database_url, rasa_url):
    env = bot_environment(api, database_url, rasa_url, TELEGRAM_WEBHOOK_URL=HOOK)
    code, err = await start_and_fail(env)
    assert code == 2 and "TELEGRAM_WEBHOOK_SECRET is not set" in err and "openssl rand -hex 32" in err
    code, err = await start_and_fail({**env, "TELEGRAM_WEBHOOK_SECRET": "s3cret-token"})
    assert code == 2 and "TELEGRAM_WEBHOOK_SECRET is too weak (12 characters" in err
    assert "s3cret-token" not in err
    assert not api.calls("setWebhook")
