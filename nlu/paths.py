"""Where the NLU project lives (the Rasa environment's and the model cache's places are
settings: nlu.settings)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
PROJECT_DIR = PACKAGE_DIR / "project"
PIPELINE_CONFIG = PROJECT_DIR / "config.yml"
INTENT_DATA_DIR = PROJECT_DIR / "data"
ENGLISH_INTENT_DATA_DIR = PROJECT_DIR / "data_en"
HELD_OUT_DIR = PACKAGE_DIR / "heldout"
FAQ_FILE = PACKAGE_DIR / "faq.yml"
REPORTS_DIR = PACKAGE_DIR / "reports"

RASA_VERSION = "3.6.21"

