"""Create the separate Python 3.10 environment that runs Rasa.

Rasa 3.6 supports Python 3.8-3.10 only, so the bot's Python cannot run it. This module finds
a Python 3.10 (``RASA_PYTHON``, then ``python3.10`` on PATH, then pyenv's and uv's installs),
creates ``.venv-rasa`` (``STAMMGAST_RASA_VENV``) with uv and installs ``rasa==3.6.21`` into it.
A marker file records a finished install, so an interrupted one is repeated rather than trusted.
Where to look comes from an ``NluSettings``; nothing here reads the environment, except that
Rasa's processes inherit it (``rasa_subprocess_env``)."""

from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from nlu.paths import RASA_VERSION
from nlu.settings import NluSettings

log = logging.getLogger(__name__)

MARKER_NAME = ".stammgast-rasa-ok"

NO_PYTHON_HELP = """\
Rasa 3.6 needs Python 3.10, and none was found.
Looked at: $RASA_PYTHON, python3.10 on PATH, pyenv ($PYENV_ROOT/versions/3.10.*) and uv's Pythons.
Install one of these and run the command again:
  - Debian/Ubuntu:  apt-get install python3.10 python3.10-venv   (where the distribution has it)
  - pyenv:          pyenv install 3.10.13
  - uv:             uv python install 3.10
or point RASA_PYTHON at an existing interpreter, e.g. RASA_PYTHON=/opt/python3.10/bin/python3.10"""


class RasaSetupError(RuntimeError):
    """The Rasa environment cannot be created; the message says what to do."""


def _python_310(candidate: str) -> str | None:
    """The interpreter's own path when ``candidate`` is a working Python 3.10, else None.

    Asked of the interpreter itself: a pyenv shim on PATH is a script that chooses a Python anew
    on each call, and the environment should be made by (and record) the real one."""
    try:
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
            capture_output=True, text=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = probe.stdout.split("\n")
    if probe.returncode != 0 or len(lines) < 2 or lines[0].strip() != "3.10":
        return None
    resolved = lines[1].strip()
    return resolved if resolved and os.access(resolved, os.X_OK) else candidate


def _candidates(settings: NluSettings) -> list[str]:
    found: list[str] = []
    if settings.rasa_python:
        found.append(settings.rasa_python)
    on_path = shutil.which("python3.10")
    if on_path:
        found.append(on_path)
    found += sorted(glob.glob(f"{settings.pyenv_root}/versions/3.10.*/bin/python3.10"), reverse=True)
    found += ["/usr/bin/python3.10", "/usr/local/bin/python3.10"]
    uv = find_uv()
    if uv:
        managed = subprocess.run(
            [uv, "python", "find", "--no-python-downloads", "3.10"],
            capture_output=True, text=True,
        )
        if managed.returncode == 0 and managed.stdout.strip():
            found.append(managed.stdout.strip())
    return found


def find_python310(settings: NluSettings) -> str:
    """Return a working Python 3.10 interpreter (its real path, not a shim's), or raise with
    install instructions."""
    explicit = settings.rasa_python
    if explicit and not _python_310(explicit):
        raise RasaSetupError(f"RASA_PYTHON={explicit} is not a working Python 3.10.\n{NO_PYTHON_HELP}")
    for candidate in _candidates(settings):
        resolved = _python_310(candidate)
        if resolved:
            return resolved
    raise RasaSetupError(NO_PYTHON_HELP)


def find_uv() -> str | None:
    """uv from PATH or from the bot's own environment (it is one of its dependencies)."""
    beside_python = Path(sys.executable).parent / "uv"
    return shutil.which("uv") or (str(beside_python) if beside_python.exists() else None)


def rasa_executable(settings: NluSettings) -> Path:
    return settings.rasa_venv / "bin" / "rasa"


def is_ready(settings: NluSettings) -> bool:
    marker = settings.rasa_venv / MARKER_NAME
    return marker.exists() and marker.read_text().strip() == RASA_VERSION and rasa_executable(settings).exists()


def ensure_rasa_env(settings: NluSettings, progress=print) -> Path:
    """Make sure ``.venv-rasa`` holds a working Rasa; return the path of its ``rasa`` command."""
    if is_ready(settings):
        return rasa_executable(settings)
    uv = find_uv()
    if not uv:
        raise RasaSetupError("uv is not installed; run ./stammgast setup (it installs uv) or `pip install uv`.")
    python = find_python310(settings)
    venv = settings.rasa_venv
    progress(f"Setting up the Rasa NLU environment in {venv} with {python}.")
    progress(f"Installing rasa=={RASA_VERSION} (about 1 GB with TensorFlow; takes a few minutes the first time) ...")
    _run([uv, "venv", "--quiet", "--allow-existing", "-p", python, str(venv)])
    _run([uv, "pip", "install", "--python", str(venv / "bin" / "python"), f"rasa=={RASA_VERSION}"])
    _run([str(venv / "bin" / "python"), "-c", "import rasa, sys; print('Rasa', rasa.__version__, 'on Python', sys.version.split()[0])"])
    (venv / MARKER_NAME).write_text(RASA_VERSION + "\n")
    progress("Rasa environment ready.")
    return rasa_executable(settings)


def _run(command: list[str]) -> None:
    result = subprocess.run(command)
    if result.returncode != 0:
        raise RasaSetupError(f"Command failed with exit code {result.returncode}: {' '.join(command)}")


def rasa_subprocess_env() -> dict[str, str]:
    """Environment for Rasa processes: no telemetry (no network), quiet TensorFlow."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    # The bot's virtualenv must not leak into Rasa's interpreter.
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    return env
