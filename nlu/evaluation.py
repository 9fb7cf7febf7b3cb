"""Evaluate the NLU on a held-out split: train on 80 % of every label, parse the other 20 %
through the bot's own client against a real Rasa server, and report per-label precision,
recall and F1, macro-F1 and the most frequent confusions.

Labels are the intents, with the retrieval intent resolved to its topic (``faq/shipping``).
Macro-F1 averages over the shop's labels (every intent and FAQ topic); a fallback prediction
for one of them counts as a miss. The off-topic examples (``out_of_scope``, which the bot
treats as ``nlu_fallback``) are scored in their own row but left out of the average: they
measure how well nonsense is refused, not how well customers are understood.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from nlu.client import FALLBACK_INTENT, NluClient, canonical_intent
from nlu.dataset import Example, load_dataset, stratified_split
from nlu.paths import REPORTS_DIR
from nlu.server import RasaServer
from nlu.settings import NluSettings
from nlu.training import ensure_model


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    scores: list[LabelScore]
    confusions: list[tuple[str, str, int]]
    accuracy: float
    total: int

    @property
    def shop_scores(self) -> list[LabelScore]:
        return [s for s in self.scores if s.label != FALLBACK_INTENT]

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.shop_scores) / len(self.shop_scores)

    @property
    def off_topic(self) -> LabelScore | None:
        return next((s for s in self.scores if s.label == FALLBACK_INTENT), None)


def score(pairs: list[tuple[str, str]]) -> Evaluation:
    """Compute the scores from (expected, predicted) label pairs."""
    expected_counts = Counter(expected for expected, _ in pairs)
    predicted_counts = Counter(predicted for _, predicted in pairs)
    correct = Counter(expected for expected, predicted in pairs if expected == predicted)
    scores = []
    for label in sorted(expected_counts):
        precision = correct[label] / predicted_counts[label] if predicted_counts[label] else 0.0
        recall = correct[label] / expected_counts[label]
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(LabelScore(label, precision, recall, f1, expected_counts[label]))
    confusions = Counter((e, p) for e, p in pairs if e != p).most_common(15)
    accuracy = sum(correct.values()) / len(pairs)
    return Evaluation(scores, [(e, p, n) for (e, p), n in confusions], accuracy, len(pairs))


async def predict(server_url: str, examples: list[Example]) -> list[tuple[str, str]]:
    client = NluClient(server_url, timeout=10)
    try:
        return [(canonical_intent(e.label), (await client.parse(e.plain_text)).label) for e in examples]
    finally:
        await client.aclose()


async def evaluate_split(settings: NluSettings, progress=print) -> Evaluation:
    train, test = stratified_split(load_dataset())
    progress(f"Evaluating on a held-out split: {len(train)} training, {len(test)} test examples.")
    model = ensure_model(settings, train, name="nlu-eval", progress=progress)
    async with RasaServer(model, settings) as server:
        pairs = await predict(server.url, test)
    return score(pairs)


def render_report(evaluation: Evaluation) -> str:
    lines = [
        "# NLU evaluation (held-out split)",
        "",
        f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `python -m nlu evaluate`: "
        "the model is trained on 80 % of the examples of every intent and FAQ topic and "
        f"tested on the other 20 % ({evaluation.total} examples).",
        "",
        f"**Macro-F1 over the {len(evaluation.shop_scores)} intents and FAQ topics: {evaluation.macro_f1:.3f}**, "
        f"accuracy over all test examples {evaluation.accuracy:.3f}",
        "",
        "| label | precision | recall | F1 | support |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.label} | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |"
        for s in evaluation.shop_scores
    ]
    if evaluation.off_topic:
        s = evaluation.off_topic
        lines += ["", "Off-topic messages (`out_of_scope`, answered like `nlu_fallback`; not in the macro average):", "",
                  "| label | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|",
                  f"| nlu_fallback | {s.precision:.2f} | {s.recall:.2f} | {s.f1:.2f} | {s.support} |"]
    lines += ["", "## Top confusions (expected → predicted)", ""]
    lines += [f"- {e} → {p}: {n}" for e, p, n in evaluation.confusions] or ["- none"]
    return "\n".join(lines) + "\n"


def write_report(evaluation: Evaluation, directory: Path = REPORTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    report = directory / "evaluation.md"
    report.write_text(render_report(evaluation), encoding="utf-8")
    summary = {
        "macro_f1": round(evaluation.macro_f1, 4),
        "accuracy": round(evaluation.accuracy, 4),
        "total": evaluation.total,
        "labels": {s.label: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
                   for s in evaluation.scores},
        "confusions": evaluation.confusions,
    }
    (directory / "evaluation.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return report


def run(settings: NluSettings, progress=print) -> Evaluation:
    evaluation = asyncio.run(evaluate_split(settings, progress))
    report = write_report(evaluation)
    progress(render_report(evaluation))
    progress(f"Report written to {report}")
    return evaluation
