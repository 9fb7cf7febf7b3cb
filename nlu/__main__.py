"""Command line of the NLU service.

    python -m nlu setup      create the Rasa environment (Python 3.10 + rasa 3.6)
    python -m nlu train      train the model unless one for the same inputs is cached
    python -m nlu serve      train if needed and run the Rasa server (default port 5005)
    python -m nlu evaluate   train on a split, report per-intent scores to nlu/reports/

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
    commands.add_parser("train", help="train the model (cached by fingerprint)")
    serve = commands.add_parser("serve", help="run the Rasa NLU server")
    serve.add_argument("--port", type=int, default=5005)
    evaluate = commands.add_parser("evaluate", help="held-out evaluation with a report")
    evaluate.add_argument("--min-macro-f1", type=float, default=0.0,
                          help="exit with 1 when macro-F1 is below this value")
    args = parser.parse_args(argv)
    settings = NluSettings()
    try:
        if args.command == "setup":
            ensure_rasa_env(settings)
        elif args.command == "train":
            from nlu.training import ensure_model

            print(f"NLU model: {ensure_model(settings)}")
        elif args.command == "serve":
            _serve(settings, args.port)
        elif args.command == "evaluate":
            from nlu.evaluation import run

            return 0 if run(settings).macro_f1 >= args.min_macro_f1 else 1
    except (RasaSetupError, FaqError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
