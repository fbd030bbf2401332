"""Candidates of one customer: tariff advice, tips, retention, service recovery, the
peer comparison and the bill alert.

Everything that does not depend on the customer (tip texts, tariff names, price facts) is
prepared once in `Catalogue`; a request then only formats a few strings. Tips come from
the scores' `top_tips` (the ranker's order) when present, else from the catalogue
evaluated live on the profile, the one path that builds a DataFrame.

Safeguards (DESIGN.md): no tariff advice without enough readings (the answer says what is
missing, on the counter); only tariffs of the customer's segment and region; "stay" is an
answer; likely-vacant premises get no saving advice; a move to time-of-use shows its bill
risk beside the saving; a peer comparison goes to the app only, speaks of "similar
homes" and is never made for likely-vacant premises (nor, by the batch peer groups, for
very small users or against a small group).
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from features.peers import shared_attributes
from powerhall.contract import Segment, SuggestionKind
from powerhall.settings import ContactPolicy
from powerhall.tariffs import TariffCatalogue
from powerhall.tips import SEGMENT, TipCatalogue, tariff_facts
from powerhall.tips.facts import PEAK_VALLEY_SPREAD
from serving.suggestions import texts
from serving.suggestions.features import number
from serving.suggestions.model import Channel, CustomerRecord
from serving.suggestions.ranking import (
    DEFAULT_PEER_RESPONSE,
    DEFAULT_TARIFF_ACCEPTANCE,
    DEFAULT_TIP_ACCEPTANCE,
    BillFigures,
    Candidate,
    Evidence,
)
from serving.suggestions.risks import CHURN, COMPLAINT, RiskScore
from serving.suggestions.texts import LANGUAGES

logger = logging.getLogger(__name__)

NAMESPACE: Final = uuid.UUID("5b0e7a8e-3f0c-5a57-9d0e-706f77657268")
"""uuid5 namespace of suggestion ids (fixed forever: ids are stored with feedback)."""
MIN_READING_DAYS: Final = 270
MIN_COVERAGE: Final = 0.75
"""Tariff advice needs this many days of readings in the last year, covering this share."""
VACANT_KWH_365D: Final = 300.0
"""Below this a year, premises are likely vacant: no saving advice (the tips' guard too)."""
MIN_SWITCH_SAVING_CNY: Final = 50.0
"""Without the scores' own advice, a smaller saving than this is a 'stay'."""
RETENTION_ITEM: Final = "retention-account-review"
PEER_ITEM: Final = "peer-comparison"
"""One item: the repeat and decline rules pace it (at most monthly), whatever the figures."""
C_AND_I: Final = frozenset({Segment.COMMERCIAL, Segment.INDUSTRIAL})


class Advice:
    SWITCH = "switch"
    STAY = "stay"
    INSUFFICIENT_DATA = "insufficient_data"
    VACANT = "vacant"


Tips = list[tuple[str, float | None, float | None]]
"""(tip id, acceptance or None, yuan a year or None), best first."""


def suggestion_id(customer_id: str, kind: str, item_id: str) -> str:
    """Stable across requests, processes and releases: feedback finds the suggestion."""
    return str(uuid.uuid5(NAMESPACE, f"{customer_id}/{kind}/{item_id}"))


@dataclass(frozen=True)
class TariffInfo:
    name: dict[str, str]
    segment: str
    region: str | None
    time_of_use: bool
    spread: float


@dataclass(frozen=True)
class TipInfo:
    segments: frozenset[str]
    title: dict[str, str]
    message: dict[str, str]
    script: dict[str, str]
    conditions: tuple[str, ...]
    """Features of its conditions that have a phrase (`texts.CONDITIONS`)."""
    shifts_load: bool
    """Priced on the peak-valley spread: the customer's spread is a reason."""
    generic: bool
    """No conditions: fits anyone of its segments (the catalogue-only fallback)."""


class Catalogue:
    """Tips and tariffs, prepared once for every request."""

    def __init__(self, tips: TipCatalogue, tariffs: TariffCatalogue) -> None:
        self.tips = tips
        self.facts = tariff_facts(tariffs)
        self.tariffs = {
            t.id: TariffInfo(
                name={texts.ZH: t.name, texts.EN: t.name_en or t.name},
                segment=str(t.segment),
                region=None if t.region is None else str(t.region),
                time_of_use=t.is_time_of_use,
                spread=float(self.facts.loc[t.id, PEAK_VALLEY_SPREAD]),
            )
            for t in tariffs
        }
        self.tip_info = {
            tip.id: TipInfo(
                segments=frozenset(str(s) for s in tip.segments),
                title={lang: tip.text(lang).title for lang in LANGUAGES},
                message={lang: tip.text(lang).message for lang in LANGUAGES},
                script={lang: tip.text(lang).script for lang in LANGUAGES},
                conditions=tuple(
                    c.feature for c in tip.conditions if c.feature in texts.CONDITIONS
                ),
                shifts_load=getattr(tip.saving, "price", None) == "peak_valley_spread",
                generic=not tip.conditions,
            )
            for tip in tips
        }
        self._prices = {tariff_id: facts.to_dict() for tariff_id, facts in self.facts.iterrows()}
        """Each tariff's facts, as one customer's prices (none: an unknown tariff)."""

    def live_tips(
        self, features: dict[str, Any], segment: str, tariff_id: str
    ) -> tuple[tuple[str, float], ...]:
        """(tip id, yuan a year) of the eligible tips, best saving first, from the catalogue
        evaluated on one profile: cold start, scores without `top_tips`, or an exploring
        answer."""
        savings = self.tips.savings_of_one(
            features | {SEGMENT: segment}, self._prices.get(tariff_id, {})
        )
        return tuple(sorted(savings.items(), key=lambda pair: -pair[1]))

    def generic_tips(self, segment: str) -> list[tuple[str, None]]:
        """Tips without conditions for the segment: all that is known without a profile."""
        return [
            (tid, None)
            for tid, info in self.tip_info.items()
            if info.generic and segment in info.segments
        ]


@dataclass(frozen=True)
class Request:
    """One customer's request, as the candidate builders need it."""

    customer: CustomerRecord
    features: dict[str, Any]
    language: str
    channel: Channel
    policy: ContactPolicy
    risks: dict[str, RiskScore]
    evidence: Evidence
    """What the features are: the customer's own profile (SCORES), or nothing known yet."""
    degraded: bool = False
    """The profile could not be read: say nothing about the customer's tariff."""
    today: date | None = None
    """The customer's local date: a bill forecast alerts only in its own month."""

    def id(self, kind: str, item_id: str) -> str:
        return suggestion_id(self.customer.customer_id, kind, item_id)

    def reason(self, code: str, **values: Any) -> tuple[str, str]:
        return code, texts.REASONS[code][self.language].format(**values)


def advice(features: dict[str, Any], current: str) -> str | None:
    """The scores' `tariff_advice`, or the same safeguards applied here when it is absent;
    None: no tariff model has spoken (no best tariff) and nothing is to be said."""
    given = features.get("tariff_advice")
    if given is not None:
        return str(given)
    kwh = number(features, "kwh_365d")
    days = number(features, "reading_days_365d") or 0.0
    if kwh is not None and kwh < VACANT_KWH_365D:
        return Advice.VACANT
    if days < MIN_READING_DAYS or days / 365 < MIN_COVERAGE:
        return Advice.INSUFFICIENT_DATA
    best = features.get("best_tariff_id")
    if best is None:
        return None
    saving = number(features, "best_tariff_saving_cny_365d") or 0.0
    return Advice.SWITCH if best != current and saving >= MIN_SWITCH_SAVING_CNY else Advice.STAY


def tariff_candidates(req: Request, catalogue: Catalogue) -> list[Candidate]:
    customer, features, lang = req.customer, req.features, req.language
    what = advice(features, customer.tariff_id)
    kind = SuggestionKind.TARIFF
    if what == Advice.INSUFFICIENT_DATA and req.channel is Channel.COUNTER:
        days = int(number(features, "reading_days_365d") or 0)
        values = {
            "min_days": MIN_READING_DAYS,
            "coverage": texts.percent(MIN_COVERAGE),
            "days": days,
        }
        return [
            Candidate(
                suggestion_id=req.id(kind, Advice.INSUFFICIENT_DATA),
                kind=kind,
                item_id=Advice.INSUFFICIENT_DATA,
                title=texts.TARIFF["data_title"][lang],
                message=texts.TARIFF["data_message"][lang].format(**values),
                script=texts.TARIFF["data_script"][lang],
                reasons=(req.reason("insufficient_data", days=days),),
                evidence=req.evidence,
                probability=0.0,
            )
        ]
    current = catalogue.tariffs.get(customer.tariff_id)
    best_id = features.get("best_tariff_id")
    saving = number(features, "best_tariff_saving_cny_365d")
    if what == Advice.STAY and current is not None:
        reasons = [req.reason("stay_best")]
        if best_id not in (None, customer.tariff_id) and saving is not None and saving > 0:
            reasons = [req.reason("stay_small_saving", saving=texts.yuan(saving))]
        return [
            Candidate(
                suggestion_id=req.id(kind, customer.tariff_id),
                kind=kind,
                item_id=customer.tariff_id,
                title=texts.TARIFF["stay_title"][lang],
                message=texts.TARIFF["stay_message"][lang].format(tariff=current.name[lang]),
                script=texts.TARIFF["stay_script"][lang],
                reasons=tuple(reasons),
                evidence=req.evidence,
                probability=0.0,
            )
        ]
    if what != Advice.SWITCH or best_id is None or saving is None or saving <= 0:
        return []
    target = catalogue.tariffs.get(str(best_id))
    if target is None or (target.segment, target.region) != (customer.segment, customer.region):
        logger.warning("best tariff %r is not open to customer %s", best_id, customer.customer_id)
        return []
    return [_switch(req, str(best_id), target, saving)]


def _switch(req: Request, tariff_id: str, target: TariffInfo, saving: float) -> Candidate:
    features, lang, kind = req.features, req.language, SuggestionKind.TARIFF
    p10 = number(features, "best_tariff_saving_p10_cny")
    p90 = number(features, "best_tariff_saving_p90_cny")
    risk = number(features, "best_tariff_bill_risk_cny")
    name = target.name[lang]
    band = ""
    if p10 is not None and p90 is not None:
        band = texts.TARIFF["band"][lang].format(p10=texts.yuan(p10), p90=texts.yuan(p90))
    message = texts.TARIFF["switch_message"][lang].format(
        tariff=name, saving=texts.yuan(saving), band=band
    )
    script = texts.TARIFF["switch_script"][lang].format(tariff=name, saving=texts.yuan(saving))
    reasons = [req.reason("tariff_saving", saving=texts.yuan(saving))]
    if target.time_of_use:
        valley = number(features, "valley_share_365d")
        if valley is not None:
            reasons.append(req.reason("valley_share", pct=texts.percent(valley)))
        reasons.append(req.reason("peak_valley_spread", spread=f"{target.spread:.2f}"))
        if risk is not None and risk > 0:
            message += texts.TARIFF["tou_risk_message"][lang].format(risk=texts.yuan(risk))
            script += texts.TARIFF["tou_risk_script"][lang].format(risk=texts.yuan(risk))
            reasons.append(req.reason("tou_bill_risk", risk=texts.yuan(risk)))
    acceptance = number(features, "best_tariff_acceptance")
    return Candidate(
        suggestion_id=req.id(kind, tariff_id),
        kind=kind,
        item_id=tariff_id,
        title=texts.TARIFF["switch_title"][lang].format(tariff=name),
        message=message,
        script=script,
        reasons=tuple(reasons),
        evidence=req.evidence,
        probability=DEFAULT_TARIFF_ACCEPTANCE if acceptance is None else acceptance,
        saving_cny=round(saving, 2),
        saving_p10_cny=None if p10 is None else round(p10, 2),
        saving_p90_cny=None if p90 is None else round(p90, 2),
    )


def scored_tips(raw: Any) -> list[tuple[str, float, float | None]] | None:
    """The scores' `top_tips` as (tip id, score, yuan); None when absent or unreadable."""
    if raw is None:
        return None
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
        return [
            (
                str(i["tip_id"]),
                float(i["score"]),
                None if i.get("saving_cny_365d") is None else float(i["saving_cny_365d"]),
            )
            for i in items
        ]
    except (TypeError, KeyError, ValueError) as exc:
        logger.warning("unreadable top_tips %r: %s", raw, exc)
        return None


def tip_candidates(
    req: Request, catalogue: Catalogue, tips: Tips, evidence: Evidence
) -> list[Candidate]:
    """Candidates of (tip id, acceptance or None, yuan or None), for the customer's segment."""
    found = []
    lang, kind = req.language, SuggestionKind.TIP
    spread = catalogue.tariffs.get(req.customer.tariff_id)
    for tip_id, acceptance, saving in tips:
        info = catalogue.tip_info.get(tip_id)
        if info is None or req.customer.segment not in info.segments:
            continue
        message = info.message[lang]
        reasons = []
        if saving is not None and saving > 0:
            message += texts.TIP["saving_message"][lang].format(saving=texts.yuan(saving))
            code = "segment_typical" if evidence is Evidence.SEGMENT else "tip_saving"
            reasons.append(req.reason(code, saving=texts.yuan(saving)))
        if evidence is not Evidence.SEGMENT:
            reasons += [r for f in info.conditions if (r := _condition(req, f)) is not None]
        if info.shifts_load and spread is not None and spread.spread > 0:
            reasons.append(req.reason("your_spread", spread=f"{spread.spread:.2f}"))
        found.append(
            Candidate(
                suggestion_id=req.id(kind, tip_id),
                kind=kind,
                item_id=tip_id,
                title=info.title[lang],
                message=message,
                script=info.script[lang],
                reasons=tuple(reasons),
                evidence=evidence,
                probability=_acceptance(acceptance),
                saving_cny=None if saving is None else round(saving, 2),
            )
        )
    return found


def _acceptance(score: float | None) -> float:
    """The ranker's score as a probability; a score outside 0-1 is a margin: squash it."""
    if score is None:
        return DEFAULT_TIP_ACCEPTANCE
    if 0 <= score <= 1:
        return score
    return 1 / (1 + math.exp(-score))


def _condition(req: Request, feature: str) -> tuple[str, str] | None:
    value = req.features.get(feature)
    if value is None:
        return None
    template = texts.CONDITIONS[feature][req.language]
    if isinstance(value, bool):
        return (feature, template) if value else None
    amount = number(req.features, feature)
    if amount is None:
        return None
    return feature, template.format(pct=texts.percent(amount), value=texts.yuan(amount))


def retention_candidates(req: Request) -> list[Candidate]:
    churn = req.risks.get(CHURN)
    if (
        req.customer.segment not in C_AND_I
        or churn is None
        or churn.probability < req.policy.retention_churn_risk
    ):
        return []
    lang, kind = req.language, SuggestionKind.RETENTION
    monthly = number(req.features, "avg_bill_cny_365d")
    reasons = [req.reason("churn_risk", pct=texts.percent(churn.probability))]
    reasons += [(code, t[lang]) for code, t in churn.reasons]
    return [
        Candidate(
            suggestion_id=req.id(kind, RETENTION_ITEM),
            kind=kind,
            item_id=RETENTION_ITEM,
            title=texts.RETENTION["title"][lang],
            message=texts.RETENTION["message"][lang],
            script=texts.RETENTION["script"][lang],
            reasons=tuple(reasons),
            evidence=Evidence.RISK,
            probability=churn.probability,
            yearly_bill_cny=None if monthly is None else 12 * monthly,
        )
    ]


def recovery_candidates(req: Request) -> list[Candidate]:
    """An apology after a recent outage, a follow-up after a recent complaint, care at high
    complaint risk; the contact policy keeps the best one."""
    lang, window = req.language, req.policy.recovery_days
    complaint = req.risks.get(COMPLAINT)
    risk = 0.0 if complaint is None else complaint.probability
    model_reasons = [] if complaint is None else [(code, t[lang]) for code, t in complaint.reasons]
    risk_reason = (
        [] if complaint is None else [req.reason("complaint_risk", pct=texts.percent(risk))]
    )
    found = []
    for cause, feature, code in (
        ("outage", "days_since_last_outage", "recent_outage"),
        ("complaint", "days_since_last_complaint", "recent_complaint"),
    ):
        days = number(req.features, feature)
        if days is None or days > window:
            continue
        when = texts.when(days, lang)
        found.append(
            _recovery(
                req,
                cause,
                Evidence.EVENT,
                risk,
                [req.reason(code, when=when), *risk_reason, *model_reasons],
                when=when,
            )
        )
    if complaint is not None and risk >= req.policy.high_complaint_risk:
        found.append(_recovery(req, "care", Evidence.RISK, risk, [*risk_reason, *model_reasons]))
    return found


def _recovery(
    req: Request,
    cause: str,
    evidence: Evidence,
    risk: float,
    reasons: list[tuple[str, str]],
    **values: str,
) -> Candidate:
    t = texts.RECOVERY[cause]
    lang, kind = req.language, SuggestionKind.SERVICE_RECOVERY
    item_id = f"recovery-{cause}"
    return Candidate(
        suggestion_id=req.id(kind, item_id),
        kind=kind,
        item_id=item_id,
        title=t["title"][lang],
        message=t["message"][lang].format(**values),
        script=t["script"][lang].format(**values),
        reasons=tuple(reasons),
        evidence=evidence,
        probability=risk,
    )


def peer_candidates(req: Request) -> list[Candidate]:
    """The customer's use beside similar homes, on the app, when it is at least the
    policy's `peer_comparison_ratio` of their median (the batch scores' peer columns)."""
    features, lang = req.features, req.language
    ratio = number(features, "peer_ratio")
    median = number(features, "peer_median_kwh_30d")
    efficient = number(features, "peer_efficient_kwh_30d")
    size = number(features, "peer_group_size")
    group = features.get("peer_group")
    if (
        req.channel is not Channel.APP
        or ratio is None
        or median is None
        or efficient is None
        or size is None
        or not isinstance(group, str)
        or ratio < req.policy.peer_comparison_ratio
    ):
        return []
    t = texts.PEER["home" if req.customer.segment == Segment.RESIDENTIAL else "business"]
    peers = t["peers"][lang]
    pct = f"{(ratio - 1) * 100:.0f}"
    reasons = [
        req.reason(
            "peer_use", kwh=texts.kwh(ratio * median), median=texts.kwh(median), peers=peers
        ),
        req.reason("peer_group", n=f"{size:,.0f}", attributes=_shared(group, lang), peers=peers),
    ]
    saving = _peer_saving(features, (ratio - 1) * median)
    if saving is not None:
        reasons.append(req.reason("peer_saving", saving=texts.yuan(saving), peers=peers))
    kind = SuggestionKind.PEER_COMPARISON
    return [
        Candidate(
            suggestion_id=req.id(kind, PEER_ITEM),
            kind=kind,
            item_id=PEER_ITEM,
            title=t["title"][lang],
            message=t["message"][lang].format(pct=pct, efficient=texts.kwh(efficient)),
            script=t["script"][lang].format(pct=pct),
            reasons=tuple(reasons),
            evidence=Evidence.SCORES,
            probability=DEFAULT_PEER_RESPONSE,
            saving_cny=saving,
        )
    ]


def _shared(group: str, language: str) -> str:
    """What the peer group shares with the customer beyond the segment, in words."""
    words = (texts.PEER_ATTRIBUTES[name][language] for name in shared_attributes(group))
    return texts.PEER_ATTRIBUTE_SEPARATOR[language].join(words)


def _peer_saving(features: dict[str, Any], excess_kwh_a_month: float) -> float | None:
    """Yuan a year at the customer's own mean price (the last year's bills over its kWh)."""
    bill = number(features, "avg_bill_cny_365d")
    bills = number(features, "bills_365d")
    kwh = number(features, "kwh_365d")
    if bill is None or bills is None or kwh is None or kwh <= 0:
        return None
    return round(12 * excess_kwh_a_month * bill * bills / kwh, 2)


BILL_REASONS: Final = {
    "tier": "bill_tier",
    "cooling": "bill_cooling",
    "heating": "bill_heating",
    "ev": "bill_ev",
    "evening": "bill_evening",
    "higher_use": "bill_higher_use",
}
"""The batch's bill reason codes (`training.bill_forecast.Reason`) -> their phrase."""


def bill_alert_candidates(req: Request) -> list[Candidate]:
    """A warning while the month can still change: the batch forecast of this month's bill
    is a shock against the usual bill (`ContactPolicy.bill_shock`), or the next tier is
    forecast within `bill_alert_tier_days`; with its band and its likely reasons. A forecast
    of another month than the customer's current one says nothing."""
    features, lang, policy, today = req.features, req.language, req.policy, req.today
    bill = number(features, "bill_forecast_cny")
    if today is None or bill is None or features.get("bill_forecast_month") != f"{today:%Y-%m}":
        return []
    usual = number(features, "bill_usual_cny")
    tier = number(features, "tier_next")
    cross = _day(features.get("tier_cross_date"))
    near = (
        tier is not None
        and cross is not None
        and today <= cross <= today + timedelta(days=policy.bill_alert_tier_days)
    )
    if not near and (usual is None or not policy.bill_shock(bill, usual)):
        return []
    reasons = _bill_reasons(req, features.get("bill_alert_reason"))
    p10, p90 = number(features, "bill_forecast_p10_cny"), number(features, "bill_forecast_p90_cny")
    if p10 is not None and p90 is not None:
        reasons.append(req.reason("bill_forecast", p10=texts.yuan(p10), p90=texts.yuan(p90)))
    t = texts.BILL
    values = {
        "bill": texts.yuan(bill),
        "usual": "" if usual is None else t["usual"][lang].format(usual=texts.yuan(usual)),
    }
    script_usual = "" if usual is None else t["script_usual"][lang].format(usual=texts.yuan(usual))
    if near and tier is not None and cross is not None:
        values |= {"date": texts.day(cross, lang), "tier": texts.tier(int(tier), lang)}
        title = t["tier_title"][lang].format(**values)
        message = t["tier_message"][lang].format(**values)
        script = t["tier_script"][lang].format(**values | {"usual": script_usual})
    else:
        title = t["title"][lang]
        message = t["message"][lang].format(**values)
        script = t["script"][lang].format(**values | {"usual": script_usual})
    causes = [text for code, text in reasons if code not in ("bill_forecast", "bill_tier")]
    if causes:
        message += t["why"][lang].format(reason=causes[0])
    kind, month = SuggestionKind.BILL_ALERT, f"{today:%Y-%m}"
    return [
        Candidate(
            suggestion_id=req.id(kind, f"bill-{month}"),
            kind=kind,
            item_id=f"bill-{month}",
            title=title,
            message=message,
            script=script,
            reasons=tuple(reasons),
            evidence=req.evidence,
            probability=1.0,  # a forecast to know of, not an offer to accept
            bill=BillFigures(bill, p10, p90, usual),
        )
    ]


def _day(value: Any) -> date | None:
    """An ISO date of the scores ('2026-09-12'); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        logger.warning("unreadable date %r in the bill forecast", value)
        return None


def _bill_reasons(req: Request, raw: Any) -> list[tuple[str, str]]:
    """The batch's `bill_alert_reason` JSON as phrased reasons (unknown codes skipped)."""
    if not isinstance(raw, str):
        return []
    try:
        items = [(str(i["code"]), float(i["value"])) for i in json.loads(raw)]
    except (TypeError, KeyError, ValueError) as exc:
        logger.warning("unreadable bill_alert_reason %r: %s", raw, exc)
        return []
    found = []
    for code, value in items:
        phrase = BILL_REASONS.get(code)
        if phrase is None:
            continue
        if code == "tier":
            found.append(req.reason(phrase, tier=texts.tier(int(value), req.language)))
        else:
            found.append(req.reason(phrase, pct=texts.percent(value)))
    return found


def candidates(
    req: Request, catalogue: Catalogue, tips: Tips, tip_evidence: Evidence
) -> list[Candidate]:
    """Every candidate of the request, unranked; `tips` as the engine found them."""
    found = [] if req.degraded else tariff_candidates(req, catalogue)
    if advice(req.features, req.customer.tariff_id) != Advice.VACANT:
        found += tip_candidates(req, catalogue, tips, tip_evidence)
        found += peer_candidates(req)
    found += bill_alert_candidates(req)
    return found + retention_candidates(req) + recovery_candidates(req)
