"""``python -m bot import-customers FILE.csv [--dry-run]`` and ``import-purchases``: the same
import the owners get by sending the file to the bot, from the shell (see docs/import.md).

Exit codes: 0 imported (or the dry run found nothing wrong), 1 bad rows (nothing imported),
2 the file, configuration or database could not be used.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

EXIT_OK, EXIT_BAD_ROWS, EXIT_PROBLEM = 0, 1, 2
PROBLEMS_PRINTED = 1000


def main(kind: str, path: str, dry_run: bool, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``kind`` is "customers" or "purchases"; prints the report (English) and returns the exit code."""
    from bot.settings import load_shop_config
    from bot.handlers.imports import file_error_text, plain, report_text
    from bot.settings import Settings
    from bot.texts import Texts, TextsError, Voice
    from domain import imports
    from domain.clock import SystemClock
    from domain.config import ConfigError
    from storage.db import Store

    out, err = out or sys.stdout, err or sys.stderr
    if kind not in imports.KINDS:
        print(f"error: unknown import {kind!r}; use import-customers or import-purchases", file=err)
        return EXIT_PROBLEM
    data = _read(Path(path), err, imports.MAX_BYTES)
    if data is None:
        return EXIT_PROBLEM
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
    voice = Voice("en")
    store = Store(settings.database_url)
    try:
        store.migrate()
        with store.session() as session:
            report = imports.run_import(session, data, config.loyalty, ZoneInfo(config.shop.timezone),
                                        SystemClock().now(), kind=kind, dry_run=dry_run)
    except imports.FileError as error:
        print(f"error: {path}: {plain(file_error_text(texts, voice, error))}", file=err)
        return EXIT_PROBLEM
    except SQLAlchemyError as error:
        print(f"error: database {store.engine.url.render_as_string(hide_password=True)}: "
              f"{str(error).splitlines()[0]}", file=err)
        return EXIT_PROBLEM
    finally:
        store.dispose()
    print(plain(report_text(texts, voice, report, limit=PROBLEMS_PRINTED)), file=out)
    if not report.ok:
        return EXIT_BAD_ROWS
    if report.dry_run:
        command = f"import-{kind}"
        print(f"\nNothing was changed (dry run). To import: python -m bot {command} {path}", file=out)
    return EXIT_OK


def _read(path: Path, err: TextIO, max_bytes: int) -> bytes | None:
    try:
        if path.stat().st_size > max_bytes:
            print(f"error: {path}: the file is too large – at most {max_bytes // (1024 * 1024)} MB", file=err)
            return None
        return path.read_bytes()
    except OSError as error:
        print(f"error: {path}: {error.strerror or error}", file=err)
        return None
