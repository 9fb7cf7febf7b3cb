"""The Telegram adapter of Stammgast: PTB handlers, keyboards, texts, the outbox dispatcher
and the command line (``python -m bot``). The only package that imports telegram.

Handlers stay thin: they identify the customer, hand the work to ``domain`` and answer with
texts from ``bot/locales``.
"""

import os

# PTB 22 reports durations (RetryAfter.retry_after among them) as int seconds with a
# deprecation warning, or as timedelta once this is set; the dispatcher reads both, and opting
# in keeps the warning out of the operator's log.
os.environ.setdefault("PTB_TIMEDELTA", "true")
