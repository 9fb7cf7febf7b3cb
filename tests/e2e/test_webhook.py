"""Webhook mode: the bot registers its public HTTPS URL and receives updates by POST.

The fake Bot API plays Telegram and the reverse proxy in front of the bot: it delivers
to the bot's local listener, keeping the registered path.
"""

import aiohttp

from nlu.server import free_port
from tests.e2e.journeys import customer_of


async def test_updates_arrive_by_webhook_with_the_secret(bots, api, db):
    port = free_port()
    delivery = api.route_webhooks_to(f"http://127.0.0.1:{port}")
    await bots(TELEGRAM_WEBHOOK_URL="https://bot.example.test/telegram/hook-7f3a",
               TELEGRAM_WEBHOOK_PORT=str(port), TELEGRAM_WEBHOOK_SECRET="s3cret-token")
    assert api.webhook_url == "https://bot.example.test/telegram/hook-7f3a"
    assert not api.calls("getUpdates")
    anna = api.new_user(first_name="Anna")
    await anna.send_command("/start")
    assert (await anna.next_message()).text.startswith("Hallo Anna!")
    assert customer_of(db, anna) is not None
    assert delivery.deliveries[-1][1] == 200

    async with aiohttp.ClientSession() as http:  # a forger without the secret gets nowhere
        forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/stop",
                                             "chat": {"id": anna.id, "type": "private"}}}
        async with http.post(f"http://127.0.0.1:{port}/telegram/hook-7f3a", json=forged,
                             headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
            assert response.status == 403
