"""The database's address from the environment (DATABASE_URL): the one definition, read by
``python -m storage`` and extended by the bot's Settings."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import default_database_url


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_default(cls, value):
        return value or default_database_url()
