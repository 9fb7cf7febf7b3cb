"""Command line of the bot.

    python -m bot run                      start the bot (long polling; webhook when TELEGRAM_WEBHOOK_URL is set)
    python -m bot doctor                   check config, database, NLU server and token; say what to fix
    python -m bot receipt 12,50 [--png F]  a one-time receipt QR code (link on stdout, image to F)
    python -m bot import-customers FILE.csv [--dry-run]
    python -m bot import-purchases FILE.csv [--dry-run]
    python -m bot export kunden|einkaeufe|punkte [Zeitraum] [--out FILE]
                                           a CSV file for the accountant or Excel (stdout without --out)

Settings come from the environment (TELEGRAM_BOT_TOKEN, DATABASE_URL, NLU_URL, ...) and the
shop's config.yml (STAMMGAST_CONFIG); see the README.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.settings import Settings, load_shop_config, opt_in_ptb_timedelta, privacy_problems
from bot.texts import Texts, TextsError
from domain.clock import Clock, SystemClock
from domain.config import ConfigError

EXIT_CONFIG = 2


class StartupError(Exception):
    """A problem the operator must fix before the bot can start."""


def run_bot(settings: Settings, clock: Clock) -> int:
    from bot.app import build_application, run
    from bot.logging_setup import configure_logging
    from bot.services import Services
    from bot.first_start import announce_owner_code, load_team
    from nlu.faq import load_catalog
    from storage.db import Store

    token = settings.token()
    if not token:
        raise StartupError("TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and run: "
                           "TELEGRAM_BOT_TOKEN=123456:ABC... python -m bot run")
    if problems := settings.security_problems():
        raise StartupError("\n".join(problems))
    configure_logging(secrets=[token, settings.receipt_key(),
                               settings.webhook_secret.get_secret_value() if settings.webhook_secret else None],
                      level=logging.getLevelName(settings.log_level))
    config = load_shop_config(settings)
    if problems := privacy_problems(settings, config):
        raise StartupError("the privacy notice is incomplete. Customers must be told who keeps their data "
                           "before the bot talks to them through Telegram (DSGVO Art. 13); fill in the "
                           "privacy section of the config file:\n" + "\n".join(problems))
    texts = Texts(config.shop.name, config.texts.override_dir, config.shop.timezone)
    faq = load_catalog()
    bundled_model = None
    if not settings.nlu_url:
        from nlu.training import ensure_model

        bundled_model = ensure_model(settings, progress=lambda line: print(line, file=sys.stderr, flush=True))
    store = Store(settings.database_url)
    store.migrate()
    services = Services(settings=settings, config=config, store=store, texts=texts, faq=faq, clock=clock)
    # Owners made in the chat, a staff group chosen there or moved (it became a supergroup).
    if owner_code := load_team(services):
        announce_owner_code(owner_code)
    run(build_application(services, bundled_model), services)
    return 0


def print_receipt(settings: Settings, amount_text: str, png_path: str | None) -> int:
    """For a till script: print the deep link of a one-time receipt token (and save its QR code)."""
    from domain import receipts
    from domain.rules.parsing import InputError, parse_amount

    try:
        config = load_shop_config(settings)
        amount = parse_amount(amount_text, maximum=config.loyalty.max_purchase_amount)
    except ConfigError as error:
        print(f"error: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except InputError as error:
        print(f"error: {amount_text!r} is not an amount we can book ({error.reason}); "
              f"write it like 12,50 (at most {config.loyalty.max_purchase_amount} €)", file=sys.stderr)
        return EXIT_CONFIG
    if not settings.receipt_key():
        print("error: STAMMGAST_RECEIPT_SECRET is not set; set the same secret as for the bot", file=sys.stderr)
        return EXIT_CONFIG
    username = settings.bot_username or asyncio.run(_ask_bot_username(settings))
    token = receipts.issue(settings.receipt_key(), amount, SystemClock().now(), config.loyalty.receipt_valid_minutes)
    link = f"https://t.me/{username}?start={receipts.PAYLOAD_PREFIX}{token}"
    if png_path:
        from bot.qr import png

        Path(png_path).write_bytes(png(link))
    print(link)
    return 0


async def _ask_bot_username(settings: Settings) -> str:
    from telegram import Bot

    if not settings.token():
        raise StartupError("set TELEGRAM_BOT_USERNAME (or TELEGRAM_BOT_TOKEN, to ask Telegram for it)")
    async with Bot(settings.token(), base_url=settings.bot_api_url) as bot:
        return bot.username


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    """The command line; ``clock`` is the bot's time (the system clock unless a test moves it)."""
    logging.captureWarnings(True)
    opt_in_ptb_timedelta()
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "doctor", "receipt", "import-customers", "import-purchases",
                                            "export"])
    parser.add_argument("argument", nargs="?", help="the amount (receipt), the CSV file (imports) or what to export")
    parser.add_argument("period", nargs="*", help="export: the period, as for /nps (30, letzte woche, 2026)")
    parser.add_argument("--png", help="receipt: write the QR code image to this file")
    parser.add_argument("--dry-run", action="store_true", help="imports: only show what would happen")
    parser.add_argument("--out", help="export: write the CSV file here instead of to stdout")
    args = parser.parse_args(argv)
    if args.command != "run" and args.command != "doctor" and not args.argument:
        parser.error(f"{args.command} needs an argument; see --help")
    if args.period and args.command != "export":
        parser.error(f"{args.command} takes one argument, not {' '.join([args.argument, *args.period])!r}")
    try:
        settings = Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        print(f"error: environment variable {problem['loc'][0]}: {problem['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "doctor":
        from bot.doctor import diagnose

        return asyncio.run(diagnose(settings))
    if args.command.startswith("import-"):
        from bot.cli_import import main as import_main

        return import_main(args.command.removeprefix("import-"), args.argument, args.dry_run)
    if args.command == "export":
        from bot.cli_export import main as export_main

        return export_main([args.argument, *args.period], args.out)
    try:
        if args.command == "receipt":
            return print_receipt(settings, args.argument, args.png)
        return run_bot(settings, clock or SystemClock())
    except (ConfigError, TextsError) as error:
        print(f"error: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
