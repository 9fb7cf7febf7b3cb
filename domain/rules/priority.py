"""How urgent a complaint is, and why, without I/O; and a category guess from its words.

Three levels, so staff can act without asking anyone:

- ``urgent``: someone may be hurt (food poisoning, glass splinters, an allergic reaction, mould).
  Health comes before any SLA; the owner hears of it at once.
- ``high``: a strong signal: a lawyer or the authorities, fraud, a public review, "nie wieder",
  money back, a repeated complaint, a very low NPS score (0-3 by default), a customer of the top
  tier; or two weak signals together.
- ``normal``: everything else.

Weak signals are shouting (caps lock, "!!!") and a mild detractor score (4-6): anger and a
lukewarm score each say little alone. The words per reason are data an owner can extend,
``lexicons/priority.yml`` next to this module, matched like topic keywords (see ``topics``), and
negation is not looked at on purpose: "ich will nicht gleich mit dem Anwalt drohen" still goes
high, because a false alarm costs a minute and a missed one costs the customer.

The reasons come back as keys (for the texts of the staff alert), strongest first, including weak
signals that did not raise the priority, so staff see everything that was noticed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.config import LoyaltySection, TierConfig
from domain.rules.nps import Group, classify
from domain.rules.topics import DEFAULT_LEXICON, Lexicon, load_lexicon, main_topic


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


# Words that raise a complaint, by reason key, from ``lexicons/priority.yml`` (read once). Keys in
# URGENT_REASONS make it urgent, the others high.
WORD_REASONS = ("health_risk", "legal_threat", "fraud_accusation", "public_threat", "churn_threat", "refund_demand")
URGENT_REASONS = frozenset({"health_risk"})
PRIORITY_LEXICON = load_lexicon("priority", WORD_REASONS)
PRIORITY_KEYWORDS: dict[str, tuple[str, ...]] = dict(PRIORITY_LEXICON.entries)
# Phrases blanked out before matching, because a keyword in them means something else.
PRIORITY_IGNORED: tuple[str, ...] = PRIORITY_LEXICON.ignore

# The order reasons are shown in: strongest first.
REASONS = (*WORD_REASONS, "repeat_complaint", "detractor_score", "vip_customer", "shouting", "mild_detractor_score")
WEAK_REASONS = frozenset({"shouting", "mild_detractor_score"})


@dataclass(frozen=True)
class PriorityRules:
    """The knobs of complaint priority (config: ``complaints.priority``)."""

    high_score_max: int = 3          # NPS scores 0..this are high; up to 6 they are a weak signal
    repeat_window_days: int = 30     # an earlier complaint within this many days makes it high
    vip_is_high: bool = True         # customers of the top tier are high
    shout_min_letters: int = 12      # shorter texts ("OK!!") are not shouting
    shout_caps_share: float = 0.7    # this share of capital letters is caps lock
    shout_exclamations: int = 3      # this many "!" in a row (or twice as many in all) is shouting

    def __post_init__(self) -> None:
        if not 0 <= self.high_score_max <= 6:
            raise ValueError("high_score_max is a detractor score, 0 to 6")
        if self.repeat_window_days < 0:
            raise ValueError("repeat_window_days cannot be negative")


@dataclass(frozen=True)
class Assessment:
    priority: Priority
    reasons: tuple[str, ...]


def is_vip(tier: TierConfig, rules: LoyaltySection) -> bool:
    """The top tier; with a single tier everybody is in it, so nobody is a VIP."""
    return len(rules.tiers) > 1 and tier == rules.tiers[-1]


def is_shouting(text: str, rules: PriorityRules = PriorityRules()) -> bool:
    letters = [char for char in text or "" if char.isalpha()]
    caps = (len(letters) >= rules.shout_min_letters
            and sum(char.isupper() for char in letters) >= rules.shout_caps_share * len(letters))
    exclamations = ("!" * rules.shout_exclamations in (text or "")
                    or (text or "").count("!") >= 2 * rules.shout_exclamations)
    return caps or exclamations


def assess_priority(text: str, *, score: int | None = None, now: datetime | None = None,
                    previous_complaints: Iterable[datetime] = (), vip: bool = False,
                    rules: PriorityRules = PriorityRules(), lexicon: Lexicon = PRIORITY_LEXICON) -> Assessment:
    """The priority of a complaint and the reasons for it.

    ``score`` is the NPS score that led to the complaint, if any; ``previous_complaints`` are the
    times of the customer's earlier complaints (``now`` is needed to judge them).
    """
    found = set(lexicon.matches(text))
    if score is not None and classify(score) is Group.DETRACTOR:  # classify also refuses 11 or 7.5
        if score <= rules.high_score_max:
            found.add("detractor_score")
        else:
            found.add("mild_detractor_score")
    if _repeated(previous_complaints, now, rules):
        found.add("repeat_complaint")
    if vip and rules.vip_is_high:
        found.add("vip_customer")
    if is_shouting(text, rules):
        found.add("shouting")
    reasons = tuple(reason for reason in REASONS if reason in found)
    return Assessment(_level(reasons), reasons)


def _repeated(previous: Iterable[datetime], now: datetime | None, rules: PriorityRules) -> bool:
    previous = list(previous)
    if not previous:
        return False
    if now is None:
        raise ValueError("judging earlier complaints needs the current time (now)")
    window = timedelta(days=rules.repeat_window_days)
    return any(now - window <= at <= now for at in previous)


def _level(reasons: tuple[str, ...]) -> Priority:
    if any(reason in URGENT_REASONS for reason in reasons):
        return Priority.URGENT
    strong = [reason for reason in reasons if reason not in WEAK_REASONS]
    weak = [reason for reason in reasons if reason in WEAK_REASONS]
    return Priority.HIGH if strong or len(weak) >= 2 else Priority.NORMAL


def priority_lexicon(extra: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
    """The built-in priority words plus an owner's ``extra`` ones per reason key."""
    return PRIORITY_LEXICON.extended(extra) if extra else PRIORITY_LEXICON


def guess_category(text: str, lexicon: Lexicon = DEFAULT_LEXICON) -> str:
    """The complaint's category: the topic its words name most often (see ``topics.main_topic``)."""
    return main_topic(text, lexicon)
