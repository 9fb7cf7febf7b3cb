"""Command line of the bot.

    python -m bot run       start the bot (long polling; webhook when TELEGRAM_WEBHOOK_URL is set)
    python -m bot doctor    check config, database, NLU server and token; say what to fix

Settings come from the environment (TELEGRAM_BOT_TOKEN, DATABASE_URL, NLU_URL, ...) and the
shop's config.yml (STAMMGAST_CONFIG); see the README.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

from bot.settings import Settings
from bot.texts import Texts, TextsError
from domain.config import ConfigError, ShopConfig, load_config

EXIT_CONFIG = 2


class StartupError(Exception):
    """A problem the operator must fix before the bot can start."""


def load_shop_config(settings: Settings) -> ShopConfig:
    config = load_config(settings.config_path)
    try:
        admin_ids = settings.parsed_admin_ids()
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return config.with_overrides(admin_ids, settings.staff_chat_id)


def run_bot(settings: Settings) -> int:
    from bot.app import build_application, run
    from bot.logging_setup import configure_logging
    from bot.services import Services
    from domain.clock import SystemClock
    from nlu.faq import load_catalog
    from storage.db import Store

    token = settings.token()
    if not token:
        raise StartupError("TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and run: "
                           "TELEGRAM_BOT_TOKEN=123456:ABC... python -m bot run")
    configure_logging(secrets=[token])
    config = load_shop_config(settings)
    texts = Texts(config.shop.name, config.texts.override_dir)
    faq = load_catalog()
    bundled_model = None
    if not settings.nlu_url:
        from nlu.training import ensure_model

        bundled_model = ensure_model(progress=lambda line: print(line, file=sys.stderr, flush=True))
    store = Store(settings.database_url)
    store.migrate()
    services = Services(settings=settings, config=config, store=store, texts=texts, faq=faq, clock=SystemClock())
    run(build_application(services, bundled_model), services)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["run", "doctor"])
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        print(f"error: environment variable {problem['loc'][0]}: {problem['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "doctor":
        from bot.doctor import diagnose

        return asyncio.run(diagnose(settings))
    try:
        return run_bot(settings)
    except (ConfigError, TextsError) as error:
        print(f"error: invalid configuration\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
