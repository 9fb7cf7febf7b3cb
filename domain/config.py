"""The shop's settings from config.yml: typed, validated at start, with errors that name the
key, the problem and an example of a valid value.

Secrets never live in this file; deployment-specific values (admin ids, staff chat) can be
overridden from the environment by the caller.
"""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.languages import Language
from domain.rules.business_hours import BusinessHours, BusinessHoursError


class ConfigError(ValueError):
    """config.yml is missing or invalid; the message is meant for the shop owner."""


def _checked_hours(value: dict) -> dict:
    """Opening hours as config.yml writes them, refused with the day and the problem."""
    try:
        hours = BusinessHours.parse(value)
    except BusinessHoursError as error:
        raise ValueError(str(error)) from None
    if not any(hours.week):
        raise ValueError("the shop needs some open time in the week (tickets count it)")
    return value


def _example(value: Any) -> dict:
    return {"json_schema_extra": {"example": value}}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShopSection(_Section):
    name: str = Field(min_length=1, max_length=100, **_example("Kaffeehaus Morgenrot"))
    language: Language = Field("de", **_example("de"))
    address_form: Literal["du", "sie"] = Field("du", **_example("du"))
    timezone: str = Field("Europe/Berlin", **_example("Europe/Berlin"))
    # The one place of the shop's opening hours: ticket deadlines count them, and the FAQ's
    # opening-hours answer is written from them. Unset: complaints.business_hours (and holidays)
    # as before, and the FAQ answers with its own text.
    opening_hours: dict[str, str | list[str] | None] | None = Field(
        None, **_example({"mo-fr": "08:00-18:00", "sa": "09:00-14:00", "so": "geschlossen"}))
    holidays: tuple[date, ...] | None = Field(None, **_example(["2026-12-25", "2026-12-26"]))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a known time zone") from None
        return value

    @field_validator("opening_hours")
    @classmethod
    def _valid_opening_hours(cls, value: dict | None) -> dict | None:
        return None if value is None else _checked_hours(value)


class StaffSection(_Section):
    admin_ids: tuple[int, ...] = Field((), **_example([123456789]))
    staff_chat_id: int | None = Field(None, **_example(-1001234567890))
    # A staff member's purchase, goodwill or redemption on their own customer account: refused,
    # or held until another member of the team or an owner confirms it. The owners hear of both.
    self_booking: Literal["refuse", "confirm"] = Field("refuse", **_example("confirm"))


class NluSection(_Section):
    timeout_seconds: float = Field(2.0, gt=0, le=30, **_example(2.0))
    faq_min_confidence: float = Field(0.3, ge=0, le=1, **_example(0.3))


class LimitsSection(_Section):
    # What one private chat may send: this many messages at once, then one every so many seconds
    # (a chat that waits for the answers is never limited). Beyond it: one "please slow down".
    messages_at_once: int = Field(5, ge=1, le=100, **_example(5))
    then_one_every_seconds: float = Field(2.0, gt=0, le=60, **_example(2.0))


class TextsSection(_Section):
    override_dir: Path | None = Field(None, **_example("texts"))


class TierConfig(_Section):
    name: str = Field(min_length=1, max_length=30, **_example("Silber"))
    name_en: str | None = Field(None, max_length=30, **_example("Silver"))
    threshold: int = Field(ge=0, **_example(250))
    multiplier: Decimal = Field(Decimal(1), ge=1, le=10, **_example(1.25))


    def name_in(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    def name_param(self) -> dict[str, dict[str, str]]:
        """The name as a message parameter, rendered in the recipient's language."""
        return {"by_language": {"de": self.name, "en": self.name_in("en")}}


class RewardConfig(_Section):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$", **_example("kaffee"))
    name: str = Field(min_length=1, max_length=60, **_example("Ein Kaffee nach Wahl"))
    name_en: str | None = Field(None, max_length=60, **_example("A coffee of your choice"))
    cost: int = Field(gt=0, **_example(100))
    valid_days: int = Field(30, ge=1, le=365, **_example(30))


class LoyaltySection(_Section):
    points_per_euro: Decimal = Field(Decimal(1), ge=0, le=100, **_example(1))
    points_per_purchase: int = Field(0, ge=0, le=1000, **_example(0))
    rounding: Literal["down", "nearest", "up"] = Field("down", **_example("down"))
    tier_window_months: int = Field(12, ge=1, le=60, **_example(12))
    tiers: tuple[TierConfig, ...] = Field((TierConfig(name="Bronze", threshold=0),), min_length=1)
    expiry_months: int | None = Field(24, ge=1, le=120, **_example(24))
    expiry_warning_days: int = Field(30, ge=1, le=180, **_example(30))
    rewards: tuple[RewardConfig, ...] = ()
    referral_bonus: int = Field(0, ge=0, le=10000, **_example(50))
    receipt_valid_minutes: int = Field(60, ge=1, le=60 * 24 * 14, **_example(60))
    max_purchase_amount: Decimal = Field(Decimal(1000), gt=0, **_example(1000))

    @model_validator(mode="after")
    def _consistent(self) -> "LoyaltySection":
        if self.points_per_euro == 0 and self.points_per_purchase == 0:
            raise ValueError("points_per_euro and points_per_purchase are both 0, so nobody earns points")
        thresholds = [t.threshold for t in self.tiers]
        if thresholds[0] != 0 or thresholds != sorted(set(thresholds)):
            raise ValueError("tiers must start at threshold 0 and rise, e.g. Bronze 0, Silber 250, Gold 600")
        keys = [r.key for r in self.rewards]
        if len(keys) != len(set(keys)):
            raise ValueError("every reward needs its own key")
        return self


class NpsSection(_Section):
    # The question goes out this many days after a purchase, at send_hour in the shop's time zone.
    delay_days: int = Field(3, ge=0, le=60, **_example(3))
    send_hour: int = Field(10, ge=6, le=21, **_example(10))
    # At most one survey per customer in this many days.
    min_days_between: int = Field(90, ge=1, le=730, **_example(90))
    review_url: str | None = Field(None, pattern=r"^https://", **_example("https://g.page/r/.../review"))


class ComplaintPriorityConfig(_Section):
    # NPS scores 0..high_score_max make a complaint high priority (up to 6 they are a weak signal).
    high_score_max: int = Field(3, ge=0, le=6, **_example(3))
    # An earlier complaint of the same customer within this many days makes it high priority.
    repeat_window_days: int = Field(30, ge=0, le=365, **_example(30))
    vip_is_high: bool = Field(True, **_example(True))
    # More words per reason, e.g. {"legal_threat": ["abmahnung*"]}, on top of domain/rules/lexicons/priority.yml.
    extra_keywords: dict[str, tuple[str, ...]] = Field(default_factory=dict,
                                                       **_example({"legal_threat": ["abmahnung*"]}))

    @field_validator("extra_keywords")
    @classmethod
    def _known_reasons(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        known = ("health_risk", "legal_threat", "fraud_accusation", "public_threat", "churn_threat", "refund_demand")
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown reason '{unknown[0]}'; use one of {', '.join(known)}")
        return value


class ComplaintsSection(_Section):
    # When the team works: the first-response time counts only these hours.
    business_hours: dict[str, str | list[str] | None] = Field(
        default_factory=lambda: {"mo-fr": "08:00-18:00", "sa": "09:00-14:00"},
        **_example({"mo-fr": "08:00-18:00", "sa": "09:00-14:00"}))
    holidays: tuple[date, ...] = Field((), **_example(["2026-12-25", "2026-12-26"]))
    first_response_minutes: int = Field(60, ge=5, le=7 * 24 * 60, **_example(60))
    # The staff chat is reminded this many business minutes before the deadline.
    reminder_minutes_before: int = Field(15, ge=0, le=24 * 60, **_example(15))
    # Who hears of breaches and high priority tickets privately; empty: the admins.
    escalate_to: tuple[int, ...] = Field((), **_example([123456789]))
    # "Ist alles wieder gut?" goes out this many days after a ticket was resolved.
    follow_up_days: int = Field(3, ge=1, le=60, **_example(3))
    follow_up_hour: int = Field(11, ge=6, le=21, **_example(11))
    goodwill_points: tuple[int, ...] = Field((25, 50, 100), min_length=1, max_length=6, **_example([25, 50, 100]))
    priority: ComplaintPriorityConfig = ComplaintPriorityConfig()

    @field_validator("business_hours")
    @classmethod
    def _valid_hours(cls, value: dict) -> dict:
        return _checked_hours(value)

    @field_validator("goodwill_points")
    @classmethod
    def _positive_points(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(points <= 0 or points > 10000 for points in value):
            raise ValueError("goodwill points are between 1 and 10000")
        return value


class CampaignsSection(_Section):
    # No marketing message goes out in these hours (shop time; may cross midnight) ...
    quiet_hours: str | None = Field("20:00-09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$",
                                    **_example("20:00-09:00"))
    # ... nor on these days (mo di mi do fr sa so) and dates; it waits for the next allowed time.
    no_send_days: tuple[Literal["mo", "di", "mi", "do", "fr", "sa", "so"], ...] = Field(("so",), **_example(["so"]))
    no_send_dates: tuple[date, ...] = Field((), **_example(["2026-12-25"]))
    # More marketing messages to one customer in seven days are skipped (with the reason recorded).
    max_marketing_per_week: int = Field(2, ge=1, le=50, **_example(2))
    # A control group: this share of a campaign's segment does not get the message, so /kampagnen
    # can compare who bought (0 = no control group; more than half would withhold too much).
    holdout_percent: int = Field(10, ge=0, le=50, **_example(10))
    # /kampagnen shows a campaign's effect this many days after its (first) run.
    effect_days: int = Field(14, ge=1, le=365, **_example(14))

    @model_validator(mode="after")
    def _some_time_left(self) -> "CampaignsSection":
        if len(set(self.no_send_days)) == 7:
            raise ValueError("no_send_days blocks the whole week, so nothing could ever be sent")
        return self


class SegmentsSection(_Section):
    # "stamm" (regulars): at least this many purchases, the last one within regular_recent_days.
    regular_min_purchases: int = Field(4, ge=2, le=1000, **_example(4))
    regular_recent_days: int = Field(60, ge=1, le=3650, **_example(60))
    # "vip": the customers with the highest revenue who together bring this share of all revenue
    # (an ABC analysis; about a fifth of the customers often bring 0.8 of the revenue).
    vip_revenue_share: float = Field(0.8, gt=0, le=1, **_example(0.8))


class ReportsSection(_Section):
    # /bericht: a person counts as a customer at a time when they bought in these many days before it.
    active_days: int = Field(365, ge=7, le=3650, **_example(365))
    # The Monday digest (last week's dashboard for the owners) is queued from this hour, shop time;
    # null: no digest.
    digest_hour: int | None = Field(8, ge=0, le=23, **_example(8))


class RetentionConfig(_Section):
    # After this many days the texts are emptied by the daily purge (domain.retention); the
    # rows, their topics, scores, categories and statuses stay, so every figure stays the same.
    message_log_days: int = Field(90, ge=1, le=3650, **_example(90))
    ticket_days: int = Field(730, ge=1, le=3650, **_example(730))  # counted from a ticket's end
    feedback_days: int = Field(730, ge=1, le=3650, **_example(730))
    survey_reason_days: int = Field(730, ge=1, le=3650, **_example(730))
    outbox_payload_days: int = Field(90, ge=1, le=3650, **_example(90))  # sent, failed or skipped rows


class PrivacySection(_Section):
    """The privacy notice customers see (Art. 13 DSGVO) and how long personal texts are kept.
    controller, contact and policy_url may be missing while testing; a production start
    refuses to run without them (``missing_notice_keys``)."""

    NOTICE_KEYS: ClassVar[tuple[str, ...]] = ("controller", "contact", "policy_url")
    # The shop as the controller: its name and postal address.
    controller: str | None = Field(None, min_length=10, max_length=300,
                                   **_example("Kaffeehaus Morgenrot GmbH, Lindenstraße 12, 10969 Berlin"))
    # Where customers ask about their data: an e-mail address or a phone number.
    contact: str | None = Field(None, max_length=100, **_example("datenschutz@kaffeehaus-morgenrot.de"))
    # The shop's full privacy policy.
    policy_url: str | None = Field(None, pattern=r"^https://\S+\.\S+$", max_length=300,
                                   **_example("https://kaffeehaus-morgenrot.de/datenschutz"))
    retention: RetentionConfig = RetentionConfig()
    # Customers without a purchase or a message for this many years are erased.
    inactive_years: int = Field(3, ge=1, le=30, **_example(3))

    @field_validator("controller", "contact")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty; write it out or leave the key away")
        return value.strip() if value is not None else None

    @field_validator("contact")
    @classmethod
    def _mail_or_phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) or re.fullmatch(r"\+?[0-9][0-9 ()/-]{5,}", value):
            return value
        raise ValueError("should be an e-mail address or a phone number")

    def missing_notice_keys(self) -> tuple[str, ...]:
        return tuple(key for key in self.NOTICE_KEYS if getattr(self, key) is None)


def notice_problems(path: Path | str, config: "ShopConfig") -> list[str]:
    """What a production start needs in the privacy section and does not find, one line per key
    in the style of the validation errors; empty when the notice is complete."""
    return [f"{path}: privacy.{key}: is required to run with Telegram (customers must be told who "
            f"keeps their data, Art. 13 DSGVO). Example: {key}: {_example_for(['privacy', key])}"
            for key in config.privacy.missing_notice_keys()]


def _check_placeholders(text: str | None, allowed: tuple[str, ...]) -> str | None:
    """An owner's wording may use only the occasion's {placeholders}."""
    if text is None:
        return None
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        raise ValueError("a { or } without its partner; write placeholders like {vorname}") from None
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {', '.join('{%s}' % p for p in allowed)}")
    return text


class _Occasion(_Section):
    # The owner's own wording instead of the texts in bot/locales (the same for every customer).
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("vorname",)
    enabled: bool = Field(True, **_example(True))
    text: str | None = Field(None, min_length=1, max_length=2000, **_example("Alles Gute, {vorname}!"))

    @field_validator("text")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        return _check_placeholders(value, cls.PLACEHOLDERS)


class _CouponGift(_Section):
    # An optional personal coupon ("Ein Stück Kuchen"), valid this many days, redeemed with /einloesen.
    coupon_offer: str | None = Field(None, min_length=1, max_length=200, **_example("Ein Stück Kuchen"))
    coupon_valid_days: int = Field(30, ge=1, le=365, **_example(30))


class BirthdayMilestone(_Occasion, _CouponGift):
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("vorname", "punkte", "angebot", "gutschein", "gueltig_bis")
    gift_points: int = Field(50, ge=0, le=10000, **_example(50))


class AnniversaryMilestone(_Occasion):
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("vorname", "jahre", "punkte")
    gift_points: int = Field(0, ge=0, le=10000, **_example(25))


class WinBackMilestone(_Occasion, _CouponGift):
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("vorname", "angebot", "gutschein", "gueltig_bis")
    # "We miss you" this many days after the last purchase (once per such pause).
    after_days: int = Field(60, ge=7, le=730, **_example(60))


class ExpiryWarningMilestone(_Occasion):
    PLACEHOLDERS: ClassVar[tuple[str, ...]] = ("vorname", "punkte", "datum")
    days_before: int = Field(30, ge=1, le=180, **_example(30))


class PostPurchaseMilestone(_Occasion):
    """The NPS question after a purchase; when and how often it goes out is set under nps:."""


class MilestonesSection(_Section):
    # The daily greetings go out at this hour (shop time); a day the bot was down is caught up
    # at the next start, at most catch_up_days back.
    send_hour: int = Field(10, ge=6, le=21, **_example(10))
    catch_up_days: int = Field(3, ge=0, le=14, **_example(3))
    birthday: BirthdayMilestone = BirthdayMilestone()
    anniversary: AnniversaryMilestone = AnniversaryMilestone()
    win_back: WinBackMilestone = WinBackMilestone()
    expiry_warning: ExpiryWarningMilestone = ExpiryWarningMilestone()
    post_purchase: PostPurchaseMilestone = PostPurchaseMilestone()


class ShopConfig(_Section):
    shop: ShopSection
    staff: StaffSection = StaffSection()
    nlu: NluSection = NluSection()
    limits: LimitsSection = LimitsSection()
    texts: TextsSection = TextsSection()
    loyalty: LoyaltySection = LoyaltySection()
    nps: NpsSection = NpsSection()
    complaints: ComplaintsSection = ComplaintsSection()
    campaigns: CampaignsSection = CampaignsSection()
    milestones: MilestonesSection = MilestonesSection()
    segments: SegmentsSection = SegmentsSection()
    reports: ReportsSection = ReportsSection()
    privacy: PrivacySection = PrivacySection()

    @property
    def formal(self) -> bool:
        return self.shop.address_form == "sie"

    @property
    def opening_hours_configured(self) -> bool:
        """Whether the shop wrote its opening hours (shop.opening_hours); only then does the FAQ
        answer with them instead of its own text."""
        return self.shop.opening_hours is not None

    def opening_hours(self) -> BusinessHours:
        """The shop's opening hours, for ticket deadlines and the FAQ. Each shop key wins over the
        old complaints key it replaces: shop.opening_hours over complaints.business_hours,
        shop.holidays over complaints.holidays (kept, so older config files still work)."""
        spec = self.shop.opening_hours if self.shop.opening_hours is not None else self.complaints.business_hours
        holidays = self.shop.holidays if self.shop.holidays is not None else self.complaints.holidays
        return BusinessHours.parse(spec, self.shop.timezone, holidays)

    def with_overrides(self, admin_ids: tuple[int, ...] | None, staff_chat_id: int | None) -> "ShopConfig":
        staff = self.staff.model_copy(update={
            k: v for k, v in {"admin_ids": admin_ids, "staff_chat_id": staff_chat_id}.items() if v is not None
        })
        return self.model_copy(update={"staff": staff})


def load_config(path: Path) -> ShopConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found. Copy the sample config.yml or set STAMMGAST_CONFIG.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', error)}).") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected sections like 'shop:' at the top level.")
    try:
        config = ShopConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError("\n".join(_describe(path, problem) for problem in error.errors())) from None
    if config.texts.override_dir and not config.texts.override_dir.is_absolute():
        config = config.model_copy(update={"texts": TextsSection(override_dir=Path(path).parent / config.texts.override_dir)})
    return config


def _describe(path: Path, problem: dict) -> str:
    loc = [str(part) for part in problem["loc"] if not isinstance(part, int)]
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"]).lstrip(".")
    message = problem["msg"].removeprefix("Value error, ")
    if problem["type"] == "extra_forbidden":
        message = "unknown key (check the spelling)"
    elif problem["type"] == "missing":
        message = "is required"
    elif "input" in problem and not isinstance(problem["input"], (dict, list, tuple)):
        message = f"{message} (got {problem['input']!r})"
    example = _example_for(loc)
    hint = f" Example: {loc[-1]}: {yaml.safe_dump(example, default_flow_style=True, allow_unicode=True).strip().removesuffix('...').strip()}" if example is not None else ""
    return f"{path}: {key}: {message}.{hint}"


def _example_for(loc: list[str]) -> Any:
    model: type[BaseModel] | None = ShopConfig
    field = None
    for part in loc:
        if model is None or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        annotation = field.annotation
        if get_origin(annotation) in (tuple, list):  # a list of sections: look into its items
            annotation = get_args(annotation)[0]
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    extra = field.json_schema_extra if field else None
    return extra.get("example") if isinstance(extra, dict) else None
