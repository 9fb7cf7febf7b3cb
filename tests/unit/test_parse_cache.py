"""The NLU client's parse cache: repeated questions are answered without asking Rasa again."""

from __future__ import annotations

import httpx

from nlu.client import NluClient, NluUnavailable


class Rasa:
    """Answers /model/parse like Rasa (an intent per text) and /status with a model id."""

    def __init__(self, model_id: str = "model-a"):
        self.model_id = model_id
        self.parsed: list[str] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_id": self.model_id})
        text = __import__("json").loads(request.content)["text"]
        self.parsed.append(text)
        entities = [{"entity": "date", "value": "3. Mai", "start": 0, "end": 6}] if "mai" in text.lower() else []
        return httpx.Response(200, json={"text": text, "intent": {"name": "faq", "confidence": 0.9},
                                         "entities": entities})


def client_of(rasa: Rasa, model_id: str | None = None) -> NluClient:
    client = NluClient("http://nlu", model_id=model_id)
    client._http = httpx.AsyncClient(base_url="http://nlu", transport=httpx.MockTransport(rasa))
    return client


async def test_the_same_question_is_asked_once_whatever_its_case_and_spacing():
    rasa = Rasa()
    client = client_of(rasa, model_id="nlu-abc.tar.gz")
    first = await client.parse("Habt ihr heute offen?")
    again = await client.parse("  habt ihr   HEUTE offen? ")
    assert again == first
    assert rasa.parsed == ["habt ihr heute offen?"]  # Rasa reads the normalised text
    assert client.cache_hits == 1


async def test_results_with_entities_and_long_texts_are_not_cached():
    rasa = Rasa()
    client = client_of(rasa, model_id="m")
    await client.parse("3. Mai")
    await client.parse("3. Mai")
    long_text = "Ich wollte nur sagen " * 20
    await client.parse(long_text)
    await client.parse(long_text)
    assert len(rasa.parsed) == 4


async def test_without_a_known_model_the_server_is_asked_which_model_it_serves():
    rasa = Rasa(model_id="first")
    client = client_of(rasa)
    await client.parse("hallo")  # learns the model, and keeps its answer
    await client.parse("hallo")
    assert rasa.parsed == ["hallo"]
    rasa.down = True
    try:
        await client.parse("tschüss")
    except NluUnavailable:
        pass
    rasa.down, rasa.model_id = False, "second"  # back, with another model: nothing old is served
    await client.parse("hallo")
    await client.parse("hallo")
    assert rasa.parsed == ["hallo", "hallo"]


async def test_the_cache_keeps_only_the_most_recent_questions():
    rasa = Rasa()
    client = NluClient("http://nlu", model_id="m", cache_size=2)
    client._http = httpx.AsyncClient(base_url="http://nlu", transport=httpx.MockTransport(rasa))
    for text in ("a", "b", "c", "a"):
        await client.parse(text)
    assert rasa.parsed == ["a", "b", "c", "a"]
