"""The training examples as data: read from the intent files and the FAQ catalog, split for
evaluation, and written out as a Rasa project.

Examples keep Rasa's entity markup (``[3. Mai](date)``); ``plain_text`` removes it for parsing.
"""

from __future__ import annotations

import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlu.faq import FaqCatalog, load_catalog
from nlu.normalise import normalise
from nlu.paths import ENGLISH_INTENT_DATA_DIR, FAQ_FILE, HELD_OUT_DIR, INTENT_DATA_DIR, PIPELINE_CONFIG

RETRIEVAL_INTENT = "faq"
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


@dataclass(frozen=True)
class Example:
    label: str  # an intent, or "faq/<topic>" for the retrieval intent
    text: str  # with entity markup

    @property
    def plain_text(self) -> str:
        return plain_text(self.text)


def plain_text(marked_up: str) -> str:
    return _ENTITY_MARKUP.sub(r"\1", marked_up)


def _examples_block(block: str) -> list[str]:
    lines = [line.strip() for line in block.splitlines()]
    return [line[2:].strip() for line in lines if line.startswith("- ")]


def load_intent_examples(data_dir: Path = INTENT_DATA_DIR) -> list[Example]:
    examples = []
    for path in sorted(data_dir.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in content.get("nlu", []):
            if "intent" not in item:
                raise ValueError(f"{path}: only intent examples are supported, found {sorted(item)}")
            examples += [Example(item["intent"], text) for text in _examples_block(item["examples"])]
    return examples


def faq_examples(catalog: FaqCatalog) -> list[Example]:
    return [
        Example(f"{RETRIEVAL_INTENT}/{topic.key}", text)
        for topic in catalog.topics.values()
        for text in topic.examples + topic.examples_en
    ]


def load_dataset(data_dirs: tuple[Path, ...] = (INTENT_DATA_DIR, ENGLISH_INTENT_DATA_DIR),
                 faq_file: Path = FAQ_FILE) -> list[Example]:
    """Every example of both languages: one model understands German and English."""
    intents = [example for data_dir in data_dirs for example in load_intent_examples(data_dir)]
    return intents + faq_examples(load_catalog(faq_file))


def held_out_raw(name: str, directory: Path = HELD_OUT_DIR) -> dict:
    """A held-out set as written: ``intents`` and ``faq`` map labels to phrases, ``nonsense``
    (optional) lists off-topic messages."""
    return yaml.safe_load((directory / f"{name}.yml").read_text(encoding="utf-8"))


def held_out_examples(name: str, directory: Path = HELD_OUT_DIR) -> list[Example]:
    """A held-out set (nlu/heldout/<name>.yml) as labelled examples; never used in training."""
    raw = held_out_raw(name, directory)
    examples = [Example(intent, p) for intent, phrases in raw.get("intents", {}).items() for p in phrases]
    examples += [Example(f"{RETRIEVAL_INTENT}/{topic}", p) for topic, phrases in raw.get("faq", {}).items()
                 for p in phrases]
    return examples + [Example("out_of_scope", p) for p in raw.get("nonsense", [])]


def normalised_markup(marked_up: str) -> str:
    """The example as the model sees it (nlu.normalise), its entity markup kept intact."""
    parts, position = [], 0
    for match in _ENTITY_MARKUP.finditer(marked_up):
        parts.append(normalise(marked_up[position:match.start()]))
        parts.append(f"[{normalise(match.group(1))}]({match.group(2)})")
        position = match.end()
    return "".join(parts) + normalise(marked_up[position:])


def stratified_split(examples: list[Example], test_share: float = 0.2, seed: int = 7):
    """Hold out ``test_share`` of every label (at least one), deterministically."""
    by_label: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_label[example.label].append(example)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        group = sorted(by_label[label], key=lambda e: e.text)
        rng.shuffle(group)
        held_out = max(1, round(len(group) * test_share))
        test += group[:held_out]
        train += group[held_out:]
    return train, test


def _literal_block(dumper, text: str):
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


class _BlockDumper(yaml.SafeDumper):
    pass


_BlockDumper.add_representer(str, _literal_block)


def write_rasa_project(dest: Path, examples: list[Example], catalog: FaqCatalog) -> None:
    """Write config, NLU data and a domain holding the FAQ responses into ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "data").mkdir(parents=True)
    shutil.copyfile(PIPELINE_CONFIG, dest / "config.yml")
    by_label: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        text = normalised_markup(example.text)
        if text not in by_label[example.label]:  # two spellings may fold into one
            by_label[example.label].append(text)
    nlu = [
        {"intent": label, "examples": "".join(f"- {text}\n" for text in texts)}
        for label, texts in sorted(by_label.items())
    ]
    _dump(dest / "data" / "nlu.yml", {"version": "3.1", "nlu": nlu})
    faq_labels = sorted(label for label in by_label if label.startswith(RETRIEVAL_INTENT + "/"))
    responses = {
        f"utter_{label}": [{"text": catalog.topics[label.split("/", 1)[1]].answer_for("de")}]
        for label in faq_labels
    }
    intents = sorted({label.split("/", 1)[0] for label in by_label})
    _dump(dest / "domain.yml", {"version": "3.1", "intents": intents, "responses": responses})


def _dump(path: Path, content: dict) -> None:
    path.write_text(
        yaml.dump(content, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=1000),
        encoding="utf-8",
    )
