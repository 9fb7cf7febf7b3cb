"""The FAQ catalog: one owner-editable YAML file with, per topic, a title, the answer in
German (optionally a separate formal "Sie" version) and English, and example questions.

The bot answers from it; the Rasa training data for the retrieval intent ``faq/<topic>`` is
generated from the same file, so an edit changes both (and triggers retraining).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nlu.paths import FAQ_FILE

REQUIRED_TOPICS = (
    "opening_hours", "location", "shipping", "returns",
    "payment", "loyalty_program", "gift_cards", "contact",
)
MIN_EXAMPLES = 5
TOPIC_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")  # it travels in 64-byte button data


class FaqError(ValueError):
    """The FAQ file is invalid; the message names the topic and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Titles(_Strict):
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Answers(_Strict):
    de: str = Field(min_length=1)
    en: str = Field(min_length=1)
    de_sie: str | None = None


class FaqTopic(_Strict):
    key: str
    title: Titles
    answer: Answers
    examples: tuple[str, ...] = Field(min_length=MIN_EXAMPLES)
    # English questions, so English-speaking customers are understood too (optional per topic).
    examples_en: tuple[str, ...] = ()

    @field_validator("examples", "examples_en")
    @classmethod
    def _examples_are_text(cls, examples: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(e.strip() for e in examples)
        if any(not e for e in cleaned):
            raise ValueError("examples must not be empty")
        return cleaned

    def title_for(self, language: str) -> str:
        return self.title.en if language == "en" else self.title.de

    def answer_for(self, language: str, formal: bool = False) -> str:
        if language == "en":
            return self.answer.en.strip()
        if formal and self.answer.de_sie:
            return self.answer.de_sie.strip()
        return self.answer.de.strip()


class FaqCatalog(_Strict):
    topics: dict[str, FaqTopic]

    def get(self, key: str) -> FaqTopic | None:
        return self.topics.get(key)

    def answers(self) -> list[str]:
        """Every answer, in every language and form (the owner's checklist reads them)."""
        return [text for topic in self.topics.values()
                for text in (topic.answer.de, topic.answer.de_sie, topic.answer.en) if text]


def load_catalog(path: Path = FAQ_FILE) -> FaqCatalog:
    """Read and validate the FAQ file; raise FaqError with a readable message."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise FaqError(f"{path}: cannot be read as YAML: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), dict):
        raise FaqError(f"{path}: expected a top-level 'topics:' mapping of topic keys to entries")
    topics = {}
    for key, entry in raw["topics"].items():
        if not isinstance(key, str) or not TOPIC_KEY.match(key):
            raise FaqError(f"{path}: topics.{key}: a topic key is lower-case letters, digits and _ "
                           "(at most 40), e.g. opening_hours")
        if not isinstance(entry, dict):
            raise FaqError(f"{path}: topics.{key}: expected title, answer and examples")
        try:
            topics[key] = FaqTopic(key=key, **entry)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise FaqError(f"{path}: topics.{key}.{where}: {problem['msg']}") from error
    missing = [t for t in REQUIRED_TOPICS if t not in topics]
    if missing:
        raise FaqError(f"{path}: missing topics: {', '.join(missing)}")
    return FaqCatalog(topics=topics)
