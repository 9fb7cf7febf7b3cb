"""Command line of the NLU service.

    python -m nlu setup      create the Rasa environment (Python 3.10 + rasa 3.6)
    python -m nlu train      train the model unless one for the same inputs is cached
                             (--split: the model of the held-out split that `evaluate` scores)
    python -m nlu serve      train if needed and run the Rasa server (default port 5005)
    python -m nlu evaluate   score a split and the held-out sets, report to nlu/reports/

One model understands German and English, so ``--language de`` and ``--language en`` of
``train`` and ``serve`` name the same model; the option exists so scripts can say which
language they need without knowing how the languages are served.

Where Rasa's environment and the models live comes from the environment (STAMMGAST_RASA_VENV,
RASA_PYTHON, STAMMGAST_CACHE_DIR, ...; see nlu.settings).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from nlu.faq import FaqError
from nlu.rasa_env import RasaSetupError, ensure_rasa_env
from nlu.settings import NluSettings

LANGUAGES = ("de", "en")


def _serve(settings: NluSettings, port: int) -> None:
    from nlu.server import RasaServer
    from nlu.training import ensure_model

    async def serve_forever() -> None:
        async with RasaServer(ensure_model(settings), settings, port=port) as server:
            print(f"Rasa NLU server on {server.url} (Ctrl+C stops it)", flush=True)
            await server.process.wait()

    try:
        asyncio.run(serve_forever())
    except KeyboardInterrupt:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="create the Rasa environment")
    train = commands.add_parser("train", help="train the model (cached by fingerprint)")
    serve = commands.add_parser("serve", help="run the Rasa NLU server")
    serve.add_argument("--port", type=int, default=5005)
    for command in (train, serve):
        command.add_argument("--language", choices=LANGUAGES, default=None,
                             help="the language the model must understand (one model serves both)")
    train.add_argument("--split", action="store_true",
                       help="the model trained on 80 %% of every label, which `evaluate` and the tests score")
    evaluate = commands.add_parser("evaluate", help="held-out evaluation with a report")
    evaluate.add_argument("--check", action="store_true",
                          help="exit with 1 when a held-out set scores below its floor")
    args = parser.parse_args(argv)
    settings = NluSettings()
    try:
        if args.command == "setup":
            ensure_rasa_env(settings)
        elif args.command == "train":
            if args.split:
                from nlu.evaluation import ensure_split_model

                print(f"NLU model: {ensure_split_model(settings)}")
            else:
                from nlu.training import ensure_model

                print(f"NLU model: {ensure_model(settings)}")
        elif args.command == "serve":
            _serve(settings, args.port)
        elif args.command == "evaluate":
            from nlu.evaluation import run

            misses = run(settings)
            return 1 if args.check and misses else 0
    except (RasaSetupError, FaqError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
