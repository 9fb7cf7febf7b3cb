"""Where the NLU project, its virtual environment and its cached models live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
PROJECT_DIR = PACKAGE_DIR / "project"
PIPELINE_CONFIG = PROJECT_DIR / "config.yml"
INTENT_DATA_DIR = PROJECT_DIR / "data"
FAQ_FILE = PACKAGE_DIR / "faq.yml"
REPORTS_DIR = PACKAGE_DIR / "reports"

RASA_VERSION = "3.6.21"


def rasa_venv_dir() -> Path:
    """The Python 3.10 environment that holds Rasa (override with STAMMGAST_RASA_VENV)."""
    return Path(os.environ.get("STAMMGAST_RASA_VENV", REPO_DIR / ".venv-rasa"))


def cache_dir() -> Path:
    """Trained models are cached here by fingerprint, shared by every checkout on the machine."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "stammgast"
    return Path(os.environ.get("STAMMGAST_CACHE_DIR", default))
