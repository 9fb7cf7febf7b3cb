"""``python -m bot export kunden|einkaeufe|punkte [Zeitraum] [--out FILE]``: the CSV file the
owners get with ``/export``, from the shell, without Telegram's size limit (stdout without
``--out``). The words in the cells are in the shop's language.

Exit codes: 0 written, 2 what to export, the configuration or the database could not be used.
"""

from __future__ import annotations

import io
import sys
from typing import BinaryIO, TextIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

EXIT_OK, EXIT_PROBLEM = 0, 2


def main(words: list[str], out_path: str | None, stdout: BinaryIO | None = None, err: TextIO | None = None) -> int:
    """``words``: what follows ``export`` on the command line; the file goes to ``out_path`` or
    ``stdout`` (bytes); messages (English) to ``err``."""
    from bot.handlers.exports import cell_words
    from bot.settings import Settings, load_shop_config
    from bot.texts import Texts, TextsError, Voice
    from domain import exports, owners
    from domain.clock import SystemClock
    from domain.config import ConfigError
    from domain.rules import nps
    from storage.db import Store

    err = err or sys.stderr
    typed = " ".join(words)
    try:
        settings = Settings()
        config = load_shop_config(settings)
        texts = Texts(config.shop.name, config.texts.override_dir, config.shop.timezone)
    except ValidationError as error:
        problem = error.errors()[0]
        print(f"error: environment variable {problem['loc'][0]}: {problem['msg']}", file=err)
        return EXIT_PROBLEM
    except (ConfigError, TextsError) as error:
        print(f"error: invalid configuration\n{error}", file=err)
        return EXIT_PROBLEM
    zone = ZoneInfo(config.shop.timezone)
    now = SystemClock().now()
    english = Voice("en")
    try:
        request = exports.parse_request(typed, now, zone)
    except (exports.ExportError, nps.PeriodError) as error:
        value = error.value if isinstance(error, exports.ExportError) else typed.partition(" ")[2]
        problem = texts.plain(f"export.errors.{error.reason}", english, value=value, max_days=nps.MAX_DAYS)
        print(f"error: {problem}\nusage: python -m bot export kunden|einkaeufe|punkte [period] [--out FILE]\n"
              f"periods as for /nps: 30, \"last week\", \"october 2026\", 2026; without one: all customers, "
              f"the last {exports.DEFAULT_DAYS} days of purchases and points", file=err)
        return EXIT_PROBLEM
    store = Store(settings.database_url)
    try:
        if out_path:
            target = open(out_path, "w", encoding="utf-8", newline="")
        else:
            target = io.TextIOWrapper(stdout or sys.stdout.buffer, encoding="utf-8", newline="", write_through=True)
    except OSError as error:
        print(f"error: {out_path}: {error.strerror or error}", file=err)
        return EXIT_PROBLEM
    try:
        store.migrate()  # as the bot does at start: an older database gets the columns the export reads
        with store.reading() as session:
            # the owners made in the chat are the shop's people too, not its customers
            owner_ids = frozenset(owner.telegram_user_id for owner in
                                  owners.owners(session, settings.parsed_admin_ids(), config.staff.admin_ids))
            rows = exports.export(session, target, request, zone, cell_words(texts, Voice(config.shop.language)),
                                  owner_ids)
        target.flush()
    except SQLAlchemyError as error:
        print(f"error: database {store.engine.url.render_as_string(hide_password=True)}: "
              f"{str(error).splitlines()[0]}", file=err)
        return EXIT_PROBLEM
    finally:
        if out_path:
            target.close()
        else:
            target.detach()  # the caller's stdout stays open
        store.dispose()
    if out_path:
        print(f"{rows} rows written to {out_path}", file=err)
    return EXIT_OK
