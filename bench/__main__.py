"""Run benchmarks: ``python -m bench`` runs all, ``python -m bench nlu_latency`` one."""

from __future__ import annotations

import asyncio
import importlib
import sys

BENCHMARKS = ("nlu_model", "nlu_latency", "e2e_latency", "flood", "restart", "loyalty", "segments", "broadcast", "reports")


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    for name in names or BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        asyncio.run(importlib.import_module(f"bench.{name}").main())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
