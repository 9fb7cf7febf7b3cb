"""Admins send a CSV file to the bot: a dry run first, then the import after confirmation.
(Being written; see domain/imports.py.)"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise NotImplementedError


async def confirm_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise NotImplementedError
