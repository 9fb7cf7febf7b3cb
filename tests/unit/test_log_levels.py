"""STAMMGAST_LOG_LEVEL=DEBUG turns on the bot's own debug lines, never PTB's (which carry whole
updates: names and message texts)."""

import logging

from bot.logging_setup import OWN_LOGGERS, configure_logging


def test_debug_is_for_our_own_loggers_only():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(secrets=[], level=logging.DEBUG)
        assert logging.getLogger("bot.handlers.conversation").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("telegram.ext.Application").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("telegram.Bot").isEnabledFor(logging.DEBUG)
        configure_logging(secrets=[], level=logging.INFO)
        assert not logging.getLogger("bot.handlers.conversation").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for own in OWN_LOGGERS:
            logging.getLogger(own).setLevel(logging.NOTSET)
