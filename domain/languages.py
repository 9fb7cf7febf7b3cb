"""The languages the bot speaks: every text exists in each (bot/locales/<language>.yml), a
customer chooses one of them and the shop's config names one."""

from __future__ import annotations

from typing import Literal, get_args

Language = Literal["de", "en"]
LANGUAGES: tuple[str, ...] = get_args(Language)
