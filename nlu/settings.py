"""Where Rasa's environment and the trained models live, from the environment. The one
definition of these variables: ``python -m nlu`` reads them here, the bot's Settings extends
this class, and nlu's functions take the values as an argument (they read no environment)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nlu.paths import REPO_DIR


class NluSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    # The Python 3.10 environment that holds Rasa.
    rasa_venv: Path = Field(REPO_DIR / ".venv-rasa", alias="STAMMGAST_RASA_VENV")
    # The interpreter that creates it; unset: python3.10 on PATH, pyenv's and uv's are searched.
    rasa_python: str | None = Field(None, alias="RASA_PYTHON")
    pyenv_root: str = Field(default_factory=lambda: str(Path.home() / ".pyenv"), alias="PYENV_ROOT")
    # Trained models are cached here by fingerprint, shared by every checkout on the machine.
    xdg_cache_home: Path = Field(default_factory=lambda: Path.home() / ".cache", alias="XDG_CACHE_HOME")
    cache_dir: Path = Field(default_factory=lambda data: data["xdg_cache_home"] / "stammgast",
                            alias="STAMMGAST_CACHE_DIR")

    @field_validator("rasa_python", mode="before")
    @classmethod
    def _empty_python_is_unset(cls, value):
        return value or None
