"""One chat that floods the bot is told once to slow down; the rest of its flood is dropped
before it reaches the NLU or the database, and the other customers are answered as usual."""

from tests.e2e.journeys import onboarded
from tests.e2e.test_resilience import FAQ_QUESTION, OPENING_HOURS

SLOW_DOWN = "Puh, das ging mir gerade zu schnell."
FLOOD = 30
BURST = 5  # config.yml limits.messages_at_once
# The bucket already counted the /start and the consent press a moment before the flood.
LEFT_AFTER_ONBOARDING = BURST - 2


async def test_a_flooding_chat_is_told_once_to_slow_down_and_others_are_answered(bots, api):
    bot = await bots()
    anna, ben = await onboarded(api), await onboarded(api, first_name="Ben")
    since = len(anna.messages)
    for number in range(FLOOD):
        await anna.send_text(f"{FAQ_QUESTION} {number}")
    await ben.send_text(FAQ_QUESTION)  # after the whole flood in the queue, and answered at once
    assert (await ben.next_message()).text == OPENING_HOURS
    # Ben's update was taken after all of Anna's, so hers were all let through or dropped by now.
    flood_replies = lambda: anna.messages[since:]  # noqa: E731
    await api.wait_until(lambda: sum(m.text == OPENING_HOURS for m in flood_replies()) >= LEFT_AFTER_ONBOARDING
                         and any((m.text or "").startswith(SLOW_DOWN) for m in flood_replies()),
                         30, "the burst's answers and the slow-down note")
    answered = sum(m.text == OPENING_HOURS for m in flood_replies())
    assert LEFT_AFTER_ONBOARDING <= answered <= LEFT_AFTER_ONBOARDING + 1  # and one more if the chat looked idle
    assert sum((m.text or "").startswith(SLOW_DOWN) for m in flood_replies()) == 1
    assert all(m.text == OPENING_HOURS or m.text.startswith(SLOW_DOWN) for m in flood_replies())
    assert "handler failed" not in bot.log() and '"level": "error"' not in bot.log()
