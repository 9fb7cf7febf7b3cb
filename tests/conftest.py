"""Shared fixtures: databases (a SQLite file and a fresh PostgreSQL database per session) and\nthe real Rasa NLU server with the trained model.

PostgreSQL runs at 127.0.0.1:5432 (override with STAMMGAST_TEST_POSTGRES_URL). Without it the
PostgreSQL variants are reported as not run, loudly; with STAMMGAST_REQUIRE_POSTGRES=1 (CI)
they fail instead.
"""

from __future__ import annotations

import os
import sys
import uuid

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


# The held-out split's test trains a second model when the training data changed. The test run
# mostly waits (bots, timers and servers in other processes: load average about 0.4 on two cores
# during the end-to-end tests), so that training starts in the background as soon as the test is
# collected, at a lower priority than the tests, and the test finds the model ready (or waits for
# it: ``ensure_model`` takes the same lock). On a fresh machine this saves most of a training,
# about ten minutes on two cores. Its output goes to split-model-training.log in the model cache.
SPLIT_TEST = "test_held_out_split_reaches_its_floor"
_background_training: list = []


@pytest.hookimpl(trylast=True)  # after -k / -m have deselected what does not run
def pytest_collection_modifyitems(session, config, items):
    if any(item.name == SPLIT_TEST for item in items):
        _background_training.append(_train_split_model_in_background())


def _train_split_model_in_background():
    import subprocess
    from pathlib import Path

    from nlu.settings import NluSettings

    cache = NluSettings().cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "split-model-training.log", "w") as log:
        return subprocess.Popen([sys.executable, "-m", "nlu", "train", "--split"], stdout=log,
                                stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1],
                                preexec_fn=lambda: os.nice(10), start_new_session=True)


def pytest_sessionfinish(session, exitstatus):
    """A run that ended before the split's test (stopped, or failed with -x) stops the training."""
    import signal

    for process in _background_training:
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
    from pathlib import Path

    from nlu.training import ensure_model

    if os.environ.get("STAMMGAST_TEST_NLU_MODEL"):
        return Path(os.environ["STAMMGAST_TEST_NLU_MODEL"])

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
