"""Customer segments: the small German language the owner uses to say who gets a message
(``/broadcast stamm ohne vip``), and its SQL.

Terms (case-insensitive; ä/ae, ö/oe, ü/ue and ß/ss are the same):

``alle``                every customer
``neu``                 exactly one purchase
``stamm``               at least ``regular_min_purchases`` purchases, the last one within
                        ``regular_recent_days`` days
``inaktiv:<Tage>``      no purchase in the last N days (1..3650); customers who never bought
                        count once they registered more than N days ago
``vip``                 the A-customers of an ABC analysis: those with the highest revenue who
                        together bring ``vip_revenue_share`` of all revenue
``stufe:<Name>``        in that loyalty tier now (config loyalty.tiers)
``geburtstag``          birthday in the current month (the shop's time zone)
``kategorie:<Name>``    bought from that category at least once (reversed purchases do not
                        count); a name with spaces in quotes: ``kategorie:"Kaffee to go"``
``nps:<Gruppe>``        by the score of the latest answered survey: promoter (9-10), passiv (7-8),
                        detraktor (0-6)

Terms separated by spaces or ``und`` must all match; alternatives are separated by ``,`` or
``oder`` (``und`` binds tighter: ``stamm ohne vip oder neu`` is (stamm and not vip) or neu). A
term prefixed by ``-``, ``!``, ``ohne``, ``nicht`` or ``außer`` is excluded.

Every term reads the customer row alone, where the domain keeps what segments need: the
purchase figures (``purchase_count``, ``revenue_cents``, ``last_purchase_at``) and the
categories bought from (``category_keys``), kept by ``domain.purchases.refresh_stats``; the
points in the tier window (``tier_points``, kept by ``domain.ledger``); the latest NPS score
(``nps_score``, kept by ``domain.surveys``). So a count reads each customer row once, whatever
the combination. The only figure read into Python first is the VIP revenue threshold, from the
revenue groups (``revenue_group``, also kept by ``refresh_stats``).

Who counts at all: customers, not the shop's own people. Erased customers (``erased_at``) are no
person any more and belong to no segment (their revenue still sets the VIP threshold, as it
is the shop's revenue). The owners (``team_user_ids``: the admin ids) and the staff group's
members the bot has seen (``staff_member``, kept by ``domain.team``) who wrote to the bot
privately have a customer row too; they belong to no segment unless they bought something -
then they are customers like everyone else.

"Reachable" customers are those a campaign can write to: a Telegram account that is not marked
unreachable (``customer.telegram_reachable``, kept by ``domain.customers``), and marketing
consent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from domain import ledger, purchases
from domain.config import LoyaltySection, ShopConfig
from domain.rules.topics import fold
from storage.models import Customer, RevenueGroup, StaffMember, TelegramAccount
from storage.sql import Scanned
from domain.rules.errors import Refusal

MAX_CHARS = 300  # Campaign.segment keeps what the owner typed
MAX_TERMS = 20
MAX_DAYS = 3650

ALL, NEW, REGULAR, INACTIVE, VIP, TIER, BIRTHDAY, CATEGORY, NPS = (
    "alle", "neu", "stamm", "inaktiv", "vip", "stufe", "geburtstag", "kategorie", "nps")

# What people type (folded) -> the term. Plurals and the obvious long forms are accepted too.
_KEYWORDS = {
    "alle": ALL, "jeder": ALL, "everyone": ALL,
    "neu": NEW, "neukunde": NEW, "neukunden": NEW,
    "stamm": REGULAR, "stammkunde": REGULAR, "stammkunden": REGULAR, "stammgast": REGULAR, "stammgaste": REGULAR,
    "inaktiv": INACTIVE, "inaktive": INACTIVE,
    "vip": VIP, "vips": VIP,
    "stufe": TIER,
    "geburtstag": BIRTHDAY, "geburtstage": BIRTHDAY, "geburtstagskinder": BIRTHDAY,
    "kategorie": CATEGORY, "warengruppe": CATEGORY,
    "nps": NPS,
}
_WITH_VALUE = {INACTIVE, TIER, CATEGORY, NPS}
_MISSING_REASON = {INACTIVE: "days_missing", TIER: "tier_missing", CATEGORY: "category_missing",
                   NPS: "nps_group_missing"}

PROMOTER, PASSIVE, DETRACTOR = "promoter", "passiv", "detraktor"
NPS_GROUPS = {PROMOTER: (9, 10), PASSIVE: (7, 8), DETRACTOR: (0, 6)}
_NPS_ALIASES = {
    "promoter": PROMOTER, "promoters": PROMOTER, "promotor": PROMOTER, "promotoren": PROMOTER, "fans": PROMOTER,
    "passiv": PASSIVE, "passive": PASSIVE, "passiver": PASSIVE,
    "detraktor": DETRACTOR, "detraktoren": DETRACTOR, "kritiker": DETRACTOR, "detractor": DETRACTOR,
    "detractors": DETRACTOR,
}

_AND_WORDS = {"und", "&", "+"}
_OR_WORDS = {"oder"}
_NOT_WORDS = {"ohne", "nicht", "ausser", "-", "!"}
# A token: runs of ordinary characters and quoted parts ("Kaffee to go", „Kaffee to go“), or a comma.
_TOKEN = re.compile(r'\s*(?:(?P<comma>,)|(?P<term>(?:[^\s,"„“”]|"[^"]*"|[„“”][^"„“”]*[“”"])+))')
_DAYS = re.compile(r"^(\d+)\s*(?:tage|tagen|tag|t|d)?$", re.ASCII)


class SegmentError(Refusal):
    """What the owner typed is not a segment. ``reason`` names the text
    (``segments.errors.<reason>``); ``params`` fills it."""

    def __init__(self, reason: str, value: str = "", choices: tuple[str, ...] = ()):
        # empty | unknown_term | term_missing | days_missing | days_invalid | tier_missing | unknown_tier
        # | nps_group_missing | unknown_nps_group | category_missing | too_long
        super().__init__(reason, value)
        self.choices = choices
        self.params = {"value": value, "choices": ", ".join(choices), "max_chars": MAX_CHARS,
                       "max_terms": MAX_TERMS, "max_days": MAX_DAYS}


@dataclass(frozen=True)
class Rules:
    regular_min_purchases: int = 4
    regular_recent_days: int = 60
    vip_revenue_share: Decimal = Decimal("0.8")
    loyalty: LoyaltySection = field(default_factory=LoyaltySection)
    timezone: str = "Europe/Berlin"
    # Telegram user ids of the shop's own people (the owners): no customers unless they buy
    team_user_ids: frozenset[int] = frozenset()


def rules_from(config: ShopConfig) -> Rules:
    section = config.segments
    return Rules(regular_min_purchases=section.regular_min_purchases,
                 regular_recent_days=section.regular_recent_days,
                 vip_revenue_share=Decimal(str(section.vip_revenue_share)),
                 loyalty=config.loyalty, timezone=config.shop.timezone,
                 team_user_ids=frozenset(config.staff.admin_ids))


def help_params(rules: Rules) -> dict[str, int | Decimal | str]:
    """The values the help text (``segments.help``) shows: the shop's own rules and tiers."""
    share = rules.vip_revenue_share * 100
    return {"min_purchases": rules.regular_min_purchases, "recent_days": rules.regular_recent_days,
            "vip_share": int(share) if share == int(share) else share.normalize(),
            "tiers": ", ".join(f"stufe:{_quoted(tier.name.lower())}" for tier in rules.loyalty.tiers)}


@dataclass(frozen=True)
class Term:
    kind: str
    value: str | int | None = None  # days (inaktiv), the tier's name (stufe), the category, the NPS group

    @property
    def text(self) -> str:
        if self.value is None:
            return self.kind
        value = str(self.value)
        return f"{self.kind}:{_quoted(value.lower() if self.kind in (TIER, CATEGORY) else value)}"


@dataclass(frozen=True)
class Literal:
    term: Term
    negated: bool = False


@dataclass(frozen=True)
class Segment:
    """A parsed segment: alternatives (``clauses``), each a conjunction of terms."""

    text: str  # the canonical form, e.g. "stamm ohne vip"; parse(text) gives this segment again
    clauses: tuple[tuple[Literal, ...], ...]

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(literal.term.kind for clause in self.clauses for literal in clause)


def _quoted(value: str) -> str:
    if re.search(r'[\s,:"„“”]', value) or fold(value) in _AND_WORDS | _OR_WORDS | _NOT_WORDS:
        return f"„{value}“" if '"' in value else f'"{value}"'
    return value


def _unquoted(value: str) -> str:
    return " ".join(re.sub(r'"([^"]*)"|[„“”]([^"„“”]*)[“”"]', lambda m: m.group(1) or m.group(2) or "",
                           value).split())


def _tokens(text: str, closed: bool = False) -> list[str]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:  # a quote left open: close it at the end
            if not closed:
                return _tokens(text + ("“" if "„" in text[position:] else '"'), closed=True)
            raise SegmentError("unknown_term", text[position:].strip()[:60])
        tokens.append(match.group("comma") or match.group("term"))
        position = match.end()
    return tokens


def parse(text: str, rules: Rules) -> Segment:
    """The segment the owner typed, or ``SegmentError`` with the reason for the answer."""
    original = " ".join((text or "").split())
    if not original:
        raise SegmentError("empty")
    if len(original) > MAX_CHARS:
        raise SegmentError("too_long", str(len(original)))
    # "inaktiv: 90" and "stufe : gold" are "inaktiv:90" and "stufe:gold"
    normalized = re.sub(r"\s*:\s*", ":", original)
    normalized = re.sub(r"(?i)(:\d+)\s+(tage|tagen|tag|t|d)(?=[\s,]|$)", r"\1\2", normalized)  # "inaktiv:90 Tage"
    clauses: list[list[Literal]] = [[]]
    negate: str | None = None
    separator = ""
    literals = 0
    for token in _tokens(normalized):
        word = fold(token)
        if token == "," or word in _OR_WORDS:
            if negate is not None or not clauses[-1]:
                raise SegmentError("term_missing", negate or token)
            clauses.append([])
            separator = token
            continue
        if word in _AND_WORDS:
            if negate is not None:
                raise SegmentError("term_missing", negate)
            continue
        if word in _NOT_WORDS:
            if negate is not None:
                raise SegmentError("term_missing", negate)
            negate = token
            continue
        negated = negate is not None
        if token[0] in "-!":
            if negated:
                raise SegmentError("term_missing", negate)
            negated, token = True, token[1:]
        negate = None
        literals += 1
        if literals > MAX_TERMS:
            raise SegmentError("too_long", str(len(original)))
        clauses[-1].append(Literal(_term(token, rules), negated))
    if negate is not None:
        raise SegmentError("term_missing", negate)
    if not clauses[-1]:
        raise SegmentError("term_missing", separator) if separator else SegmentError("empty")
    return _segment(clauses)


def _term(token: str, rules: Rules) -> Term:
    key, colon, raw_value = token.partition(":")
    kind = _KEYWORDS.get(fold(key))
    shown = (_unquoted(token) or token)[:60]
    if kind is None:
        raise SegmentError("unknown_term", shown)
    value = _unquoted(raw_value)
    if kind not in _WITH_VALUE:
        if colon:
            raise SegmentError("unknown_term", shown)
        return Term(kind)
    if not value:
        raise SegmentError(_MISSING_REASON[kind], key, _choices(kind, rules))
    if kind == INACTIVE:
        match = _DAYS.match(fold(value))
        if match is None or not 1 <= int(match.group(1)) <= MAX_DAYS:
            raise SegmentError("days_invalid", value[:60])
        return Term(INACTIVE, int(match.group(1)))
    if kind == TIER:
        for tier in rules.loyalty.tiers:
            if _same(tier.name, value):
                return Term(TIER, tier.name)
        raise SegmentError("unknown_tier", value[:60], _choices(TIER, rules))
    if kind == NPS:
        group = _NPS_ALIASES.get(fold(value))
        if group is None:
            raise SegmentError("unknown_nps_group", value[:60], _choices(NPS, rules))
        return Term(NPS, group)
    return Term(CATEGORY, value.lower())  # matched in any case and spelling: purchases.category_key


def _choices(kind: str, rules: Rules) -> tuple[str, ...]:
    if kind == TIER:
        return tuple(f"stufe:{_quoted(tier.name.lower())}" for tier in rules.loyalty.tiers)
    if kind == NPS:
        return tuple(f"nps:{group}" for group in NPS_GROUPS)
    return ()


def _same(a: str, b: str) -> bool:
    return " ".join(fold(a).split()) == " ".join(fold(b).split())


def _segment(clauses: list[list[Literal]]) -> Segment:
    """Duplicates dropped, ``alle`` dropped next to other terms, included terms before excluded
    ones: the canonical form names each segment one way."""
    result: list[tuple[Literal, ...]] = []
    for clause in clauses:
        unique = list(dict.fromkeys(clause))
        positive = [lit for lit in unique if not lit.negated and lit.term.kind != ALL]
        negative = [lit for lit in unique if lit.negated]
        ordered = tuple(positive or [Literal(Term(ALL))]) + tuple(negative)  # "ohne vip" is "alle ohne vip"
        if ordered not in result:
            result.append(ordered)
    text = " oder ".join(" ".join(("ohne " if lit.negated else "") + lit.term.text for lit in clause)
                         for clause in result)
    return Segment(text=text, clauses=tuple(result))


# --- SQL --------------------------------------------------------------------------------------

_customer = Customer.__table__.c
_account = TelegramAccount.__table__.c
_groups = RevenueGroup.__table__.c


@dataclass(frozen=True)
class SegmentCount:
    matching: int
    reachable: int  # a Telegram account that is not unreachable, and marketing consent


def condition(session, segment: Segment, rules: Rules, now: datetime) -> ColumnElement[bool]:
    """The segment as SQL: a condition on the customer row (reads the VIP threshold and the
    team's customer rows first when the segment needs them)."""
    resolved: dict[Term, ColumnElement[bool]] = {}
    for clause in segment.clauses:
        for literal in clause:
            if literal.term not in resolved:
                resolved[literal.term] = _term_filter(session, literal.term, rules, now)
    return and_(customers_only(session, rules),
                or_(*(and_(*(~resolved[lit.term] if lit.negated else resolved[lit.term] for lit in clause))
                      for clause in segment.clauses)))


def team_without_purchases(session, rules: Rules) -> list[int]:
    """The customer rows of the shop's own people who never bought: the owners
    (``team_user_ids``) and the staff group's members the bot has seen (``staff_member``).
    A handful of rows, found by their Telegram accounts."""
    team = or_(_account.telegram_user_id.in_(select(StaffMember.telegram_user_id)),
               *([_account.telegram_user_id.in_(sorted(rules.team_user_ids))] if rules.team_user_ids else []))
    query = (select(_customer.id).join(TelegramAccount.__table__, _account.customer_id == _customer.id)
             .where(team, _customer.purchase_count == 0))
    return sorted(session.execute(query).scalars())


def customers_only(session, rules: Rules) -> ColumnElement[bool]:
    """Who counts as a customer at all: not erased, and not one of the team unless they bought."""
    team = team_without_purchases(session, rules)
    return and_(_customer.erased_at.is_(None), *([_customer.id.not_in(team)] if team else []))


def ids_query(session, segment: Segment, rules: Rules, now: datetime) -> Select:
    """The ids of the segment's customers, by id (for checks and reports; campaigns use
    ``recipients``)."""
    return select(_customer.id).where(condition(session, segment, rules, now)).order_by(_customer.id)


def _term_filter(session, term: Term, rules: Rules, now: datetime) -> ColumnElement[bool]:
    """A condition that is never NULL (so that its negation means "all the others")."""
    c = _customer
    if term.kind == ALL:
        return true()
    if term.kind == NEW:
        return c.purchase_count == 1
    if term.kind == REGULAR:
        last = Scanned(c.last_purchase_at)
        return and_(c.purchase_count >= rules.regular_min_purchases, last.is_not(None),
                    last >= now - timedelta(days=rules.regular_recent_days))
    if term.kind == INACTIVE:
        # the last purchase, or the registration for those who never bought; most customers of
        # a shop match, so this reads the table rather than index ranges
        return func.coalesce(c.last_purchase_at, c.created_at) < now - timedelta(days=int(term.value))
    if term.kind == VIP:
        threshold = vip_threshold(session, rules)
        return false() if threshold is None else Scanned(c.revenue_cents) >= threshold
    if term.kind == BIRTHDAY:
        month = now.astimezone(ZoneInfo(rules.timezone)).month
        return and_(c.birthday_month.is_not(None), c.birthday_month == month)
    if term.kind == TIER:
        return _tier_term(session, term.value, rules, now)
    if term.kind == CATEGORY:
        key = purchases.category_key(str(term.value))
        return c.category_keys.contains(f"|{key}|", autoescape=True) if key else false()
    if term.kind == NPS:
        low, high = NPS_GROUPS[term.value]
        return and_(c.nps_score.is_not(None), c.nps_score.between(low, high))
    raise ValueError(f"unknown term {term!r}")


def _tier_term(session, name: str, rules: Rules, now: datetime) -> ColumnElement[bool]:
    """Points in the tier window decide the tier (as ``ledger.tier_status``): the highest tier
    whose threshold they reach; below the second threshold (also below 0 or without any points)
    it is the first tier."""
    tiers = rules.loyalty.tiers
    index = next(i for i, tier in enumerate(tiers) if tier.name == name)
    earned = ledger.tier_points_column(session, rules.loyalty, now)
    if len(tiers) == 1:
        return true()
    if index == 0:
        return earned < tiers[1].threshold
    if index + 1 == len(tiers):
        return earned >= tiers[index].threshold
    # points are whole numbers; BETWEEN lets SQLite work out the points once per customer
    return earned.between(tiers[index].threshold, tiers[index + 1].threshold - 1)


def vip_threshold(session, rules: Rules) -> int | None:
    """The revenue (cents) from which a customer is an A-customer, None when nobody bought.

    Customers sorted by revenue, highest first, are A-customers while the revenue of everyone
    before them is still below ``vip_revenue_share`` of the total. Customers with the same
    revenue are treated alike: a customer is in when the revenue of those with *more*
    revenue is below the share.
    """
    # one row per distinct revenue (tens of thousands at a million customers, kept by
    # purchases.refresh_stats), highest first; adding them up here is cheaper than a window
    # function in the database
    groups = session.execute(select(_groups.revenue_cents, _groups.customers).where(_groups.customers > 0)
                             .order_by(_groups.revenue_cents.desc())).all()
    total = sum(revenue * customers for revenue, customers in groups)
    if not total:
        return None
    target = math.ceil(Decimal(total) * rules.vip_revenue_share)  # before < share x total <=> before < target
    before, threshold = 0, None
    for revenue, customers in groups:
        if before >= target:
            break
        threshold, before = revenue, before + revenue * customers
    return threshold


def count_query(session, segment: Segment, rules: Rules, now: datetime) -> Select:
    """The query behind ``count``: one row (matching, reachable)."""
    reachable = case((and_(_customer.marketing_consent == true(), _customer.telegram_reachable == true()), 1))
    return select(func.count(), func.count(reachable)).where(condition(session, segment, rules, now))


def count(session, segment: Segment, rules: Rules, now: datetime) -> SegmentCount:
    """How many customers the segment holds, and how many of them a campaign can reach."""
    matching, reachable = session.execute(count_query(session, segment, rules, now)).one()
    return SegmentCount(matching=int(matching), reachable=int(reachable))


def display_name(first_name: str, last_name: str | None) -> str:
    """"Anna M.": the first name and the initial of the last name."""
    first = " ".join((first_name or "").split())
    last = " ".join((last_name or "").split())
    return f"{first} {last[0]}." if last else first


def _reachable(session, segment: Segment, rules: Rules, now: datetime, *columns) -> Select:
    """Columns of the segment's reachable customers (consent, and a chat that can be reached,
    as kept on the customer row), by id."""
    return (select(*columns)
            .where(condition(session, segment, rules, now), _customer.marketing_consent == true(),
                   _customer.telegram_reachable == true())
            .order_by(_customer.id))


def sample_names(session, segment: Segment, rules: Rules, now: datetime, limit: int = 3) -> list[str]:
    """A few reachable customers of the segment (the first by id), as "Anna M."."""
    rows = session.execute(_reachable(session, segment, rules, now, _customer.first_name,
                                      _customer.last_name).limit(limit)).all()
    return [display_name(first, last) for first, last in rows]


def recipients(session, segment: Segment, rules: Rules, now: datetime, *, after_id: int = 0,
               limit: int | None = None) -> list[tuple[int, int]]:
    """(customer id, chat id) of the reachable customers of the segment, by customer id.
    ``after_id`` and ``limit`` fetch it in pages (``after_id`` = the last id of the page before).

    A page's customers are picked from the customer rows first and joined with their accounts
    after, so the database never walks all accounts to find a page of them."""
    page = _reachable(session, segment, rules, now, _customer.id.label("id")).where(_customer.id > after_id)
    if limit is not None:
        page = page.limit(limit)
    page = page.subquery("page")
    query = (select(page.c.id, _account.chat_id)
             .join(TelegramAccount.__table__, and_(_account.customer_id == page.c.id,
                                                  _account.unreachable_since.is_(None)))
             .order_by(page.c.id))
    return [(customer_id, chat_id) for customer_id, chat_id in session.execute(query)]
