"""Parse latency through the bot's NLU client versus a raw HTTP call to the same Rasa server.

Both use one persistent HTTP connection and the same texts, interleaved, so the difference
is the client's own overhead (request building, JSON mapping to a typed result).
Target: overhead at p95 <= 10 ms.
"""

from __future__ import annotations

import time

import httpx

from bench.stats import percentile, summary_ms
from nlu.client import NluClient
from nlu.dataset import load_dataset
from nlu.server import RasaServer
from nlu.settings import NluSettings
from nlu.training import ensure_model

ROUNDS = 300


async def main() -> None:
    texts = [e.plain_text for e in load_dataset()][::4][:ROUNDS]
    settings = NluSettings()
    async with RasaServer(ensure_model(settings), settings) as server:
        client = NluClient(server.url, timeout=10)
        raw = httpx.AsyncClient(base_url=server.url, timeout=10)
        for text in texts[:20]:  # warm up both paths and the model
            await client.parse(text)
            await raw.post("/model/parse", json={"text": text})
        through_client, through_raw = [], []
        for text in texts:
            started = time.perf_counter()
            await raw.post("/model/parse", json={"text": text})
            through_raw.append(time.perf_counter() - started)
            started = time.perf_counter()
            await client.parse(text)
            through_client.append(time.perf_counter() - started)
        await client.aclose()
        await raw.aclose()
    print(f"raw HTTP to Rasa : {summary_ms(through_raw)}")
    print(f"bot's NLU client : {summary_ms(through_client)}")
    overhead_p50 = (percentile(through_client, 0.5) - percentile(through_raw, 0.5)) * 1000
    overhead_p95 = (percentile(through_client, 0.95) - percentile(through_raw, 0.95)) * 1000
    print(f"client overhead  : p50 {overhead_p50:+.1f} ms, p95 {overhead_p95:+.1f} ms (target p95 <= 10 ms)")
