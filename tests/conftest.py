"""Shared fixtures: databases (a SQLite file and a fresh PostgreSQL database per session) and\nthe real Rasa NLU server with the trained model.

PostgreSQL runs at 127.0.0.1:5432 (override with STAMMGAST_TEST_POSTGRES_URL). Without it the
PostgreSQL variants are reported as not run, loudly; with STAMMGAST_REQUIRE_POSTGRES=1 (CI)
they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import Store

POSTGRES_ADMIN_URL = os.environ.get("STAMMGAST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("STAMMGAST_REQUIRE_POSTGRES") == "1"
_postgres_missing: list[str] = []


# Hypothesis fails an example that takes longer than 200 ms by default. On a two-core machine
# that trains an NLU model beside the tests, a single example can be that slow without anything
# being wrong: no deadline (the numbers of examples stay as they are).
settings.register_profile("stammgast", deadline=None)
settings.load_profile("stammgast")


def pytest_configure(config):
    from bot.settings import opt_in_ptb_timedelta

    opt_in_ptb_timedelta()  # as `python -m bot` does, for the PTB objects tests build themselves


# Training a model takes 8-30 minutes on two cores, depending on the machine. The test run mostly
# waits (bots, timers and servers in other processes: load average under 1 on two cores during
# the end-to-end tests), so a missing model trains in the background, started as soon as the
# tests are collected, and the tests that need the NLU run last: on a fresh machine the unit,
# handler, storage and use-case tests run while the main model trains, and the held-out split's
# model (at a lower priority) trains while the end-to-end tests run. A fixture that needs a model
# waits for its training (``ensure_model`` takes the same lock). The trainings' output goes to
# *-training.log in the model cache.
NEEDS_NLU = "nlu_model"
SPLIT_TEST = "test_held_out_split_reaches_its_floor"
_background_training: dict[str, tuple[subprocess.Popen, Path]] = {}  # kind -> (process, its log)


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected and pytest-randomly has shuffled
def pytest_collection_modifyitems(session, config, items):
    needs_model = {id(item) for item in items if NEEDS_NLU in getattr(item, "fixturenames", ())}
    # Stable, so pytest-randomly's shuffle stands within each part; the split's test waits longest.
    items.sort(key=lambda item: (item.name == SPLIT_TEST, id(item) in needs_model))
    if config.option.collectonly:
        return
    if needs_model and not os.environ.get("STAMMGAST_TEST_NLU_MODEL"):
        from nlu.settings import NluSettings
        from nlu.training import cached_model

        if cached_model(NluSettings()) is None:
            _background_training["main"] = _train_in_background("model-training.log", [])
    if any(item.name == SPLIT_TEST for item in items):
        _background_training["split"] = _train_in_background("split-model-training.log", ["--split"], nice=10)


def _train_in_background(log_name: str, options: list[str], nice: int = 0) -> tuple[subprocess.Popen, Path]:
    from nlu.settings import NluSettings

    cache = NluSettings().cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    log_path = cache / log_name
    print(f"\nTraining an NLU model in the background (python -m nlu train {' '.join(options)}; "
          f"log: {log_path}); the tests that need it run last.", file=sys.stderr, flush=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "nlu", "train", *options], stdout=log,
                                   stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1],
                                   # Its own process group (so it can be stopped with its Rasa), but
                                   # not its own session: Linux schedules each session as a group of
                                   # its own (autogroup), where a lower priority would mean nothing.
                                   preexec_fn=lambda: os.nice(nice), process_group=0)
    return process, log_path


def wait_for_background_training(kind: str) -> None:
    """Wait for the background training of ``kind`` (if one runs); fail with its log if it failed."""
    if kind not in _background_training:
        return
    process, log_path = _background_training[kind]
    if process.poll() is None:
        print(f"\nWaiting for the background training of the NLU model ({log_path}) ...",
              file=sys.stderr, flush=True)
    if process.wait() != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        pytest.fail(f"training the NLU model in the background failed (exit code {process.returncode}); "
                    f"the end of {log_path}:\n{tail}")


def pytest_sessionfinish(session, exitstatus):
    """A run that ended before the tests that need a model (stopped, or failed with -x) stops its training."""
    import signal

    for process, _log in _background_training.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()


def _admin_engine():
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server_url():
    """A fresh, empty PostgreSQL database for this test session, dropped at the end."""
    name = f"stammgast_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        reason = f"PostgreSQL not reachable at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {str(error).splitlines()[0]}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (STAMMGAST_REQUIRE_POSTGRES=1)")
        _postgres_missing.append(reason)
        pytest.skip(reason + " - the PostgreSQL tests did NOT run")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The URL of an empty database: a SQLite file, then (second run) PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'stammgast.db'}"
    url = request.getfixturevalue("postgres_server_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    store.migrate()
    yield store
    store.dispose()


def pytest_terminal_summary(terminalreporter):
    if _postgres_missing:
        terminalreporter.section("PostgreSQL", sep="!", red=True, bold=True)
        terminalreporter.line("The PostgreSQL tests did NOT run: " + _postgres_missing[0], red=True)
        terminalreporter.line("Start PostgreSQL on 127.0.0.1:5432 (database 'test', trust auth) "
                              "or set STAMMGAST_TEST_POSTGRES_URL.", red=True)


SHARED_RASA_START_SECONDS = 900


@pytest.fixture(scope="session")
def nlu_settings():
    """Where the Rasa environment and the model cache are (STAMMGAST_RASA_VENV, STAMMGAST_CACHE_DIR, ...)."""
    from nlu.settings import NluSettings

    return NluSettings()


@pytest.fixture(scope="session")
def nlu_model(nlu_settings):
    """The trained model for the current training data (trained once, then cached).
    STAMMGAST_TEST_NLU_MODEL=path uses a given model instead (while editing training data)."""
    from nlu.training import ensure_model

    if os.environ.get("STAMMGAST_TEST_NLU_MODEL"):
        return Path(os.environ["STAMMGAST_TEST_NLU_MODEL"])
    wait_for_background_training("main")
    return ensure_model(nlu_settings, progress=lambda line: print(line, file=sys.stderr, flush=True))


@pytest.fixture(scope="session")
async def rasa_url(nlu_model, nlu_settings):
    """A real Rasa NLU server with the trained model, shared by the whole session."""
    from nlu.server import RasaServer

    server = RasaServer(nlu_model, nlu_settings)
    # Every e2e test shares this server, and a failed session fixture fails them all: give the
    # first start (a fresh Rasa environment compiles its modules) time on a machine that is busy.
    await server.start(timeout=SHARED_RASA_START_SECONDS)
    yield server.url
    await server.stop()
