"""The Telegram adapter of Stammgast: PTB handlers, keyboards, texts, the outbox dispatcher
and the command line (``python -m bot``). The only package that imports telegram.

Handlers stay thin: they identify the customer, hand the work to ``domain`` and answer with
texts from ``bot/locales``.
"""
