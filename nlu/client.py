"""The bot's client for the Rasa NLU server: one async call, ``parse(text)``, that returns a
typed result or raises ``NluUnavailable``.

The timeout is short so a slow or dead NLU server never stalls the bot; the client logs the
outage once when it begins and once when it ends, not for every message.

The text is normalised first (nlu.normalise), exactly as the training examples were, and
entities found in it are pointed back into the customer's own text.

A busy shop hears the same questions all day ("Habt ihr heute offen?"): the client keeps the
last answers in a small cache keyed by the model and the normalised text, so repeated
questions do not reach Rasa at all.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

import httpx

from nlu.normalise import normalise_with_origin

log = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
RETRIEVAL_INTENT = "faq"
# Trained on off-topic messages so they do not land in the nearest shop intent; for the bot
# it means the same as a low-confidence guess.
OUT_OF_SCOPE_INTENT = "out_of_scope"
MAX_TEXT_CHARS = 1000  # longer messages are cut: intent lives in the first sentences
CACHE_SIZE = 2048  # parse results kept (a few hundred bytes each)
RANKING_SIZE = 3  # the runner-ups kept from Rasa's intent ranking
CACHED_TEXT_CHARS = 200  # longer texts are rarely asked twice: not worth a place in the cache


class NluUnavailable(Exception):
    """The NLU server did not answer in time or answered with an error."""


@dataclass(frozen=True)
class Entity:
    type: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class ParseResult:
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    faq_topic: str | None = None
    faq_confidence: float = 0.0
    # The intents the model considered, most likely first (for a question when it is torn).
    ranking: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """The intent, with the FAQ topic for the retrieval intent: ``faq/opening_hours``."""
        if self.intent == RETRIEVAL_INTENT and self.faq_topic:
            return f"{RETRIEVAL_INTENT}/{self.faq_topic}"
        return self.intent

    def entity(self, entity_type: str) -> str | None:
        return next((e.value for e in self.entities if e.type == entity_type), None)


def canonical_intent(name: str) -> str:
    return FALLBACK_INTENT if name == OUT_OF_SCOPE_INTENT else name


def parse_response(payload: dict) -> ParseResult:
    """Turn Rasa's ``/model/parse`` JSON into a ParseResult."""
    intent = payload.get("intent") or {}
    name = canonical_intent(intent.get("name") or FALLBACK_INTENT)
    faq_topic, faq_confidence = None, 0.0
    selected = (payload.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    response = selected.get("response") or {}
    key = response.get("intent_response_key") or ""
    if key.startswith(RETRIEVAL_INTENT + "/"):
        faq_topic, faq_confidence = key.split("/", 1)[1], float(response.get("confidence") or 0.0)
    entities = tuple(
        Entity(e["entity"], str(e.get("value", "")), int(e.get("start", 0)), int(e.get("end", 0)))
        for e in payload.get("entities") or []
        if "entity" in e
    )
    entities = _merge_adjacent(entities, payload.get("text") or "")
    ranking = tuple((canonical_intent(str(r.get("name"))), float(r.get("confidence") or 0.0))
                    for r in (payload.get("intent_ranking") or [])[:RANKING_SIZE] if isinstance(r, dict))
    return ParseResult(name, float(intent.get("confidence") or 0.0), entities, faq_topic, faq_confidence, ranking)


def _merge_adjacent(entities: tuple[Entity, ...], text: str) -> tuple[Entity, ...]:
    """DIET may tag "3. Mai" as two entities, "3" and "Mai"; join neighbours of one type that
    only punctuation or spaces separate, taking the value from the original text."""
    merged: list[Entity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        previous = merged[-1] if merged else None
        gap = text[previous.end:entity.start] if previous else None
        if previous and previous.type == entity.type and gap is not None and len(gap) <= 3 and not gap.strip(" .,/-"):
            merged[-1] = Entity(entity.type, text[previous.start:entity.end], previous.start, entity.end)
        else:
            merged.append(entity)
    return tuple(merged)


def point_into(result: ParseResult, original: str, origin: list[int]) -> ParseResult:
    """Move entity positions from the normalised text the model read back into the customer's
    own text, with the value as they wrote it ("3. Mai", not "3. mai")."""
    if not result.entities:
        return result
    entities = []
    for entity in result.entities:
        if not 0 <= entity.start < entity.end <= len(origin):
            continue
        start = origin[entity.start]
        end = origin[entity.end] if entity.end < len(origin) else len(original)
        value = original[start:end].rstrip()
        entities.append(Entity(entity.type, value, start, start + len(value)))
    return replace(result, entities=tuple(entities))


def cache_key(text: str) -> str:
    """What two messages share when the model would read them alike: case and spacing do not
    matter to it (its featurizers lower-case, its tokenizer splits on whitespace)."""
    return " ".join(text.casefold().split())


class NluClient:
    """``model_id`` names the model the server serves (the bundled model's file name); without
    it, the client asks the server (``/status``) before it caches anything, and again after an
    outage, since another model may be served then."""

    def __init__(self, base_url: str, timeout: float = 2.0, model_id: str | None = None,
                 cache_size: int = CACHE_SIZE):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._available = True
        self._fixed_model_id = model_id
        self._model_id = model_id
        self._cache: OrderedDict[tuple[str, str], ParseResult] = OrderedDict()
        self._cache_size = cache_size
        self.cache_hits = 0

    @property
    def available(self) -> bool:
        """False after a failed call, until a call succeeds again."""
        return self._available

    async def parse(self, text: str) -> ParseResult:
        original = text[:MAX_TEXT_CHARS]
        text, origin = normalise_with_origin(original)
        key = self._key(text)
        if key is not None and (cached := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return cached
        try:
            response = await self._http.post("/model/parse", json={"text": text})
            response.raise_for_status()
            result = point_into(parse_response(response.json()), original, origin)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            self._mark_unavailable(error)
            raise NluUnavailable(str(error) or type(error).__name__) from error
        if not self._available:
            self._available = True
            log.info("nlu server reachable again", extra={"nlu_url": self.base_url})
        if self._model_id is None:
            self._model_id = await self._served_model()
            key = self._key(text)  # the first answer of this model is worth keeping too
        if key is not None and not result.entities:  # entities point into their own text
            self._remember(key, result)
        return result

    def _key(self, text: str) -> tuple[str, str] | None:
        if self._model_id is None or len(text) > CACHED_TEXT_CHARS:
            return None
        return self._model_id, cache_key(text)

    def _remember(self, key: tuple[str, str], result: ParseResult) -> None:
        self._cache[key] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _served_model(self) -> str | None:
        try:
            response = await self._http.get("/status")
            response.raise_for_status()
            status = response.json()
            return status.get("model_id") or status.get("model_file") or None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    def _mark_unavailable(self, error: Exception) -> None:
        if self._fixed_model_id is None:
            self._model_id = None  # whoever answers next may serve another model
        if self._available:
            self._available = False
            log.warning(
                "nlu server unreachable; free text gets the fallback answer until it is back",
                extra={"nlu_url": self.base_url, "error": repr(error)},
            )

    async def aclose(self) -> None:
        await self._http.aclose()
