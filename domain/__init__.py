"""The business of Stammgast, as use cases named after what people do: a customer redeems a
reward (``rewards.confirm_redemption``), asks for a person (``tickets.ask_for_person``), answers
a survey (``surveys.answer_survey``); staff book a purchase at the counter
(``counter.book_purchase_at_counter``); an owner confirms a campaign (``campaigns.confirm``).

A use case takes a database session as its first argument and is one transaction (the caller,
``bot.services.Services.db``, opens and commits it); it returns plain values for the caller to
render, and raises ``rules.errors.Refusal`` for what it cannot accept (which changes nothing).
``domain.rules`` holds the pure rules without I/O. Proactive messages are outbox rows
(``domain.outbox``), never sends.

Imports ``storage`` only; never ``telegram``, ``bot`` or ``nlu``.
"""
