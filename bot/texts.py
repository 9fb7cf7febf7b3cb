"""The bot's texts: German (du and Sie) and English locale files that the owner can override,
rendered with escaped parameters and locale-aware numbers and dates.

Every customer-facing sentence lives in ``bot/locales/*.yml``; code only names keys. A word that
depends on a count is written ``{points} {points:Punkt|Punkte}``: after the colon the form for
one, then the form for every other count (Babel's plural rules of the language); a ``#`` in a
form stands for the number: ``{days:am letzten Tag|in den letzten # Tagen}``.
"""

from __future__ import annotations

import html
import logging
import string
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot import formatting
from domain.languages import LANGUAGES

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
FORMS = ("du", "sie")


class TextsError(ValueError):
    """A locale or override file is invalid; the message names the file and key."""


class Html(str):
    """A parameter that is already safe HTML and must not be escaped again."""


@dataclass(frozen=True)
class Voice:
    """How to talk to one recipient: language and (for German) du or Sie."""

    language: str
    formal: bool = False


def _flatten(tree: dict, source: Path, prefix: str = "") -> dict[str, str | dict[str, str]]:
    flat: dict[str, str | dict[str, str]] = {}
    for key, value in tree.items():
        full = f"{prefix}{key}"
        if isinstance(value, str):
            flat[full] = value
        elif isinstance(value, dict) and set(value) and set(value) <= set(FORMS):
            if set(value) != set(FORMS):
                raise TextsError(f"{source}: {full}: give both a 'du:' and a 'sie:' version")
            flat[full] = {form: str(text) for form, text in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, source, full + "."))
        else:
            raise TextsError(f"{source}: {full}: expected a text, got {type(value).__name__}")
    return flat


def _read(path: Path) -> dict[str, str | dict[str, str]]:
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise TextsError(f"{path}: not valid YAML ({error})") from None
    return _flatten(tree, path)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _plural_specs(template: str) -> list[tuple[str, str]]:
    """The placeholders written with a format spec, as (name, spec)."""
    return [(name, spec) for _, name, spec, _ in string.Formatter().parse(template) if name and spec]


def _variants(entry: str | dict[str, str]) -> list[str]:
    return list(entry.values()) if isinstance(entry, dict) else [entry]


class _Value(str):
    """A rendered parameter; a count keeps its plural form, so ``{n:Punkt|Punkte}`` picks a word."""

    plural = "other"

    def __format__(self, spec: str) -> str:
        if "|" in spec:
            one, other = spec.split("|", 1)
            return (one if self.plural == "one" else other).replace("#", str(self))
        return str.__format__(str(self), spec)


def _value(text: str, plural: str = "other") -> _Value:
    value = _Value(text)
    value.plural = plural
    return value


class _LenientParams(dict):
    """A placeholder without a value stays visible instead of crashing a reply."""

    def __missing__(self, key: str) -> str:
        log.warning("text placeholder without value", extra={"placeholder": key})
        return _value("{" + key + "}")


def with_links(value: Any, bot_username: str) -> Any:
    """Message parameters with their deep links (``domain.outbox.link_param``, also inside
    nested texts) made HTML links to this bot."""
    if isinstance(value, dict) and "deep_link" in value:
        url = f"https://t.me/{bot_username}?start={value['deep_link']}"
        return Html(f'<a href="{html.escape(url)}">{html.escape(str(value["label"]), quote=False)}</a>')
    if isinstance(value, dict):
        return {name: with_links(item, bot_username) for name, item in value.items()}
    if isinstance(value, list):
        return [with_links(item, bot_username) for item in value]
    return value


class Texts:
    def __init__(self, shop_name: str, override_dir: Path | None = None, timezone: str = "Europe/Berlin"):
        self.shop_name = shop_name
        self.timezone = ZoneInfo(timezone)
        self._catalogs = {lang: _read(LOCALES_DIR / f"{lang}.yml") for lang in LANGUAGES}
        if override_dir is not None:
            for lang in LANGUAGES:
                override = Path(override_dir) / f"{lang}.yml"
                if override.exists():
                    self._apply_override(lang, override)

    def _apply_override(self, lang: str, path: Path) -> None:
        catalog = self._catalogs[lang]
        for key, entry in _read(path).items():
            if key not in catalog:
                raise TextsError(f"{path}: {key}: unknown text key (see bot/locales/{lang}.yml)")
            allowed = set().union(*(_placeholders(t) for t in _variants(catalog[key]))) | {"shop"}
            for variant in _variants(entry):
                unknown = _placeholders(variant) - allowed
                if unknown:
                    raise TextsError(f"{path}: {key}: unknown placeholder {{{sorted(unknown)[0]}}}; "
                                     f"available: {', '.join('{%s}' % p for p in sorted(allowed))}")
                for name, spec in _plural_specs(variant):
                    if spec.count("|") != 1:
                        raise TextsError(f"{path}: {key}: write {{{name}:{spec}}} as one form and the other, "
                                         f"e.g. {{{name}:Punkt|Punkte}}")
            catalog[key] = entry

    def template(self, key: str, voice: Voice) -> str:
        entry = self._catalogs.get(voice.language, {}).get(key) or self._catalogs["de"][key]
        if isinstance(entry, dict):
            return entry["sie" if voice.formal else "du"]
        return entry

    def render(self, key: str, voice: Voice, **params: Any) -> str:
        values = _LenientParams(shop=_value(html.escape(self.shop_name)))
        values.update({name: self._counted(value, voice) for name, value in params.items()})
        return self.template(key, voice).format_map(values)

    def _counted(self, value: Any, voice: Voice) -> _Value:
        counts = isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        return _value(self._param(value, voice), formatting.plural_form(value, voice.language) if counts else "other")

    def _param(self, value: Any, voice: Voice) -> str:
        """Parameters that need the voice or the shop's time zone, then the plain ones."""
        if isinstance(value, dict) and "text_key" in value:  # see domain.outbox.text_param
            return Html(self.render(value["text_key"], voice, **value.get("params", {})))
        if isinstance(value, dict) and "text_keys" in value:
            parts = [self._param(item, voice) if isinstance(item, dict) else self.render(item, voice)
                     for item in value["text_keys"]]
            return Html(value.get("separator", ", ").join(parts))
        if isinstance(value, dict) and "by_language" in value:  # e.g. TierConfig.name_param
            names = value["by_language"]
            return html.escape(names.get(voice.language) or names["de"], quote=False)
        if isinstance(value, dict) and "moment" in value:  # see domain.outbox.moment_param
            moment = datetime.fromisoformat(value["moment"]).astimezone(self.timezone)
            return html.escape(formatting.weekday_time(moment, voice.language))
        if isinstance(value, dict) and "deep_link" in value:  # domain.outbox.link_param, not resolved: plain
            return html.escape(str(value["label"]), quote=False)
        if isinstance(value, dict) and "deadline" in value:  # see domain.outbox.deadline_param
            due = datetime.fromisoformat(value["deadline"]).astimezone(self.timezone)
            return html.escape(formatting.deadline(due, datetime.fromisoformat(value["as_of"]), voice.language))
        return self._format(value, voice.language)

    def plain(self, key: str, voice: Voice, **params: Any) -> str:
        """For places without HTML (button labels, command descriptions, alerts)."""
        return html.unescape(self.render(key, voice, **params))

    @staticmethod
    def _format(value: Any, language: str) -> str:
        if isinstance(value, Html):
            return str(value)
        if isinstance(value, dict) and "money_cents" in value:  # see domain.outbox.money_param
            return html.escape(formatting.money(Decimal(value["money_cents"]) / 100, language))
        if isinstance(value, dict) and "date" in value:
            return formatting.long_date(date.fromisoformat(value["date"]), language)
        if isinstance(value, bool) or value is None:
            return html.escape(str(value or ""))
        if isinstance(value, (int, float, Decimal)):
            return formatting.number(value, language)
        if isinstance(value, datetime):
            return formatting.long_date(value.date(), language)
        if isinstance(value, date):
            return formatting.long_date(value, language)
        return html.escape(str(value), quote=False)
