"""Properties of the segment language (``domain.segments.parse``): every input is a segment or a
``SegmentError``, never another exception; generated valid expressions are accepted; the
canonical text of a segment parses to the same segment again."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from domain.config import LoyaltySection, TierConfig
from domain.segments import MAX_CHARS, MAX_DAYS, MAX_TERMS, NPS_GROUPS, Rules, Segment, SegmentError, parse
from tests.unit.property_strategies import mixed

RULES = Rules(loyalty=LoyaltySection(tiers=(TierConfig(name="Bronze", threshold=0),
                                            TierConfig(name="Silber", threshold=250),
                                            TierConfig(name="Gold", threshold=600),
                                            TierConfig(name="Gold Plus", threshold=1000))))
REASONS = {"empty", "unknown_term", "term_missing", "days_missing", "days_invalid", "tier_missing", "unknown_tier",
           "nps_group_missing", "unknown_nps_group", "category_missing", "too_long"}

category_names = st.one_of(
    st.sampled_from(["Kaffee", "Kuchen", "Kaffee to go", "Süßes", "Tee & Co", "Bäckerei", "oder", "und", "ohne",
                     "a,b", "x:y", "Brot|Brötchen"]),
    # any name without quote marks (the language has no way to write a quote mark inside quotes)
    st.text(st.characters(categories=("L", "N", "Zs", "P", "S"), exclude_characters='"„“”'), min_size=1, max_size=15),
)


def _quote(value: str) -> str:
    return f'"{value}"' if '"' not in value else f"„{value}“"


terms = st.one_of(
    st.sampled_from(["alle", "neu", "stamm", "vip", "geburtstag", "Stammkunden", "Neukunden", "VIPs", "jeder",
                     "Geburtstagskinder", "stammgäste"]),
    st.integers(1, MAX_DAYS).map(lambda days: f"inaktiv:{days}"),
    st.integers(1, MAX_DAYS).map(lambda days: f"inaktiv: {days} Tage"),
    st.sampled_from(["bronze", "Silber", "GOLD", '"gold plus"', "„Gold Plus“"]).map(lambda tier: f"stufe:{tier}"),
    st.sampled_from(["promoter", "passiv", "detraktor", "Fans", "kritiker", "detractors"]).map(lambda g: f"nps:{g}"),
    category_names.map(lambda name: f"kategorie:{_quote(name)}"),
)
literals = st.builds(lambda negation, term: negation + term,
                     st.sampled_from(["", "", "ohne ", "nicht ", "außer ", "-", "!"]), terms)
clauses = st.lists(literals, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" ", " und ", " & "]).map(lambda joint: joint.join(parts)))
expressions = st.lists(clauses, min_size=1, max_size=3).flatmap(
    lambda parts: st.sampled_from([" oder ", ", ", ","]).map(lambda joint: joint.join(parts)))


def _same(a: Segment, b: Segment) -> bool:
    return a.text == b.text and a.clauses == b.clauses


@given(mixed(expressions))
@example('kategorie:"' + "a" * 400)
@example("inaktiv:" + "9" * 290)
@example("- ! ohne")
@example('kategorie:„a"b“')
@example("kategorie:“")
@example("alle " * 21)
def test_a_segment_or_a_refusal(text):
    try:
        segment = parse(text, RULES)
    except SegmentError as error:
        assert error.reason in REASONS
        return
    assert segment.clauses and all(segment.clauses)
    assert sum(len(clause) for clause in segment.clauses) <= MAX_TERMS
    assert _same(parse(segment.text, RULES), segment)  # the canonical form reads back


@given(expressions)
def test_a_valid_expression_is_accepted(text):
    if len(" ".join(text.split())) > MAX_CHARS:
        return
    segment = parse(text, RULES)
    assert _same(parse(segment.text, RULES), segment)
    for clause in segment.clauses:
        for literal in clause:
            if literal.term.kind == "nps":
                assert literal.term.value in NPS_GROUPS
            if literal.term.kind == "inaktiv":
                assert 1 <= literal.term.value <= MAX_DAYS


@given(st.integers(MAX_DAYS + 1, 10**200) | st.just(0))
def test_days_out_of_range_are_refused(days):
    try:
        parse(f"inaktiv:{days}", RULES)
    except SegmentError as error:
        assert error.reason in {"days_invalid", "too_long"}
    else:
        raise AssertionError("accepted")
