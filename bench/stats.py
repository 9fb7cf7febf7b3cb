"""Small helpers for reporting latencies."""

from __future__ import annotations

import statistics


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"n={len(ms)}  p50={percentile(ms, 0.5):.1f} ms  p95={percentile(ms, 0.95):.1f} ms  "
            f"max={max(ms):.1f} ms  mean={statistics.fmean(ms):.1f} ms")
