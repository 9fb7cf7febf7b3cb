"""Pure business rules: no database, no clock of their own, no I/O.

Everything here takes plain values and returns plain values (points for an amount, a tier for
a points total, NPS of a list of scores, the deadline of a ticket in business hours, a German
time or amount read from text, the topics of a comment). Use cases in ``domain`` call these;
tests call them directly. Imports only the standard library, ``domain.config`` and each other,
and PyYAML for the keyword lexicons in ``lexicons/``: data that ships with the code, read once at
import like the code itself, never while a rule runs.
"""
