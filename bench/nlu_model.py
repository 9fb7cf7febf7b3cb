"""What the NLU model costs: its file size, the Rasa server's start time (from the process start
to the port accepting requests) and its memory once loaded, and the parse latency.

``python -m bench nlu_model`` measures the model of the current training data (trained first
if it is not cached); ``STAMMGAST_BENCH_MODEL=/path/model.tar.gz`` measures another one (an
older model, to compare before and after). Training time is printed by ``python -m nlu train``
itself ("Model trained in N s").
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from bench.stats import summary_ms
from nlu.dataset import held_out_examples
from nlu.server import RasaServer
from nlu.settings import NluSettings
from nlu.training import ensure_model

STARTS = 3


def resident_mb(pid: int) -> float:
    """The resident memory of a process and its children (Rasa may fork), from /proc."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # the process ended meanwhile
        if int(fields.get("Pid", 0)) == pid or int(fields.get("PPid", 0)) == pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total / 1024


async def main() -> None:
    settings = NluSettings()
    model = Path(os.environ.get("STAMMGAST_BENCH_MODEL") or ensure_model(settings))
    print(f"model            : {model.name}, {model.stat().st_size / 1e6:.1f} MB")
    texts = [e.plain_text for name in ("de_clean", "en") for e in held_out_examples(name)]
    for attempt in range(1, STARTS + 1):
        server = RasaServer(model, settings)
        started = time.perf_counter()
        await server.start()
        took = time.perf_counter() - started
        memory = resident_mb(server.process.pid)
        if attempt == STARTS:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                timings = []
                for text in texts:
                    began = time.perf_counter()
                    (await http.post("/model/parse", json={"text": text})).raise_for_status()
                    timings.append(time.perf_counter() - began)
            print(f"parse (raw HTTP) : {summary_ms(timings[20:])}")
        await server.stop()
        print(f"server start {attempt}   : {took:.1f} s, resident memory after loading {memory:.0f} MB")
