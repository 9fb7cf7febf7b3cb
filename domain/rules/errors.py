"""The one kind of error the domain raises for input or requests it cannot accept.

A refusal is not a bug: the handler that called the use case answers it kindly in the user's
language. ``reason`` names the text to show (``<feature>.errors.<reason>`` and the like),
``value`` is what the user typed (cut short in the text), ``params`` fill in the rest. A use
case that raises one rolls its transaction back, so a refusal never changes anything.
"""

from __future__ import annotations

from typing import Any


class Refusal(ValueError):
    def __init__(self, reason: str, value: Any = "", **params: Any):
        super().__init__(f"{reason}: {value!r}" if value != "" else (f"{reason}: {params}" if params else reason))
        self.reason = reason
        self.value = value
        self.params = params
