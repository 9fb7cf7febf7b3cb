"""A fake Telegram Bot API server and a driver that plays users, for end-to-end tests.

The bot under test runs unchanged against :class:`FakeBotApi` (only its API base URL
differs); tests act as users through :class:`FakeUser` / :class:`FakeGroup` and observe
the bot's messages as :class:`BotMessage` objects.
"""

from .driver import BotEdit, BotMessage, ContentView, FakeGroup, FakeUser
from .errors import ApiError
from .html_parser import HtmlParseError, parse_html
from .models import ApiCall
from .server import DEFAULT_TOKEN, FakeBotApi

__all__ = [
    "DEFAULT_TOKEN",
    "ApiCall",
    "ApiError",
    "BotEdit",
    "BotMessage",
    "ContentView",
    "FakeBotApi",
    "FakeGroup",
    "FakeUser",
    "HtmlParseError",
    "parse_html",
]
