"""The suggestion engine: one customer's profile and contact history in, an `Answer` out.

`build_suggester` does the slow work once (catalogues, tariff facts, segment defaults,
champion models); `Suggester.suggest` then reads the batch scores already in the profile,
formats a few texts and applies the contact policy. Two paths cost more and run only
when they must: the tips catalogue evaluated live (the scores have no `top_tips`, a cold
start, or one of the exploring answers, see `ranking.Exploration`) and online scoring (a
real-time event arrived after the batch scores).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from features.online import LIVE_VIEW, Profile
from powerhall.errors import ContractError
from powerhall.settings import ContactPolicy, Settings
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue, Request, Tips, candidates, scored_tips
from serving.suggestions.champions import Champions
from serving.suggestions.defaults import SegmentProfiles, segment_profiles
from serving.suggestions.evidence import observed_outcomes
from serving.suggestions.features import number
from serving.suggestions.model import (
    Answer,
    Channel,
    ContactHistory,
    CustomerRecord,
    Reason,
    Risk,
    Suggestion,
)
from serving.suggestions.policy import Context, apply_policy
from serving.suggestions.ranking import (
    NO_VALUE,
    Arm,
    Candidate,
    Evidence,
    Exploration,
    Ranked,
    rank,
    with_outcomes,
    worth_pushing,
)
from serving.suggestions.risks import CHURN, COMPLAINT, RiskScore, batch_risks
from serving.suggestions.texts import LANGUAGES
from training import tracking

logger = logging.getLogger(__name__)

SCORES_VIEW: Final = "scores"
SCORING: Final = "scoring"
"""model_versions key saying where the risks came from: batch, online or none."""
SUMMARY_FEATURES: Final = (
    "kwh_365d",
    "kwh_yoy_change_90d",
    "avg_daily_kwh_90d",
    "avg_bill_cny_365d",
    "arrears_cny",
    "reading_days_365d",
    "days_since_last_outage",
    "days_since_last_complaint",
    "app_logins_90d",
)
"""What the counter screen shows of a profile, beside segment and tariff."""


def parse_versions(raw: Any) -> dict[str, str]:
    """'churn:3,complaint:5' -> {'churn': '3', 'complaint': '5'}."""
    if not isinstance(raw, str):
        return {}
    pairs = (part.split(":", 1) for part in raw.split(",") if ":" in part)
    return {name.strip(): version.strip() for name, version in pairs}


def is_stale(profile: Profile) -> bool:
    """A real-time event reached the profile after its batch scores were written."""
    live = profile.updated_at.get(LIVE_VIEW)
    scored = profile.updated_at.get(SCORES_VIEW)
    return live is not None and (scored is None or live > scored)


class Suggester:
    """Suggestions for one customer at a time; safe to share between requests (read-only,
    except `reload_models`, which swaps whole models)."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        policy: ContactPolicy,
        timezone: str,
        defaults: SegmentProfiles,
        champions: Champions,
        exploration: Exploration | None = None,
        outcomes: Mapping[Arm, tuple[int, int]] | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.policy = policy
        self.zone = ZoneInfo(timezone)
        self.defaults = defaults
        self.champions = champions
        self.exploration = exploration
        """None: every answer ranks by expected value (see `ranking.Exploration`)."""
        self.outcomes: Mapping[Arm, tuple[int, int]] = outcomes or {}
        """(kind, item) -> (shown, accepted) so far: corrects the models' acceptance
        (`ranking.with_outcomes`)."""
        self._failures: dict[str, str] = {}

    @property
    def model_versions(self) -> dict[str, str]:
        return self.champions.versions

    @property
    def reload_failures(self) -> dict[str, str]:
        """Model -> why the last reload could not load it (the earlier version still serves)."""
        return dict(self._failures)

    def reload_models(self) -> dict[str, str]:
        """Champions from the registry; a model that fails keeps its last good version."""
        report = self.champions.reload()
        self._failures = report.failed
        return report.loaded

    def suggest(
        self,
        customer: CustomerRecord,
        profile: Profile | None,
        history: ContactHistory,
        *,
        channel: Channel,
        now: datetime,
        limit: int = 3,
        language: str = "zh-CN",
        push: bool = False,
    ) -> Answer:
        """Ranked suggestions after the contact policy. `profile` None: the online store is
        unreachable (segment defaults, degraded); `profile.found` False: a cold start.
        `push`: the answer becomes an app push (consent, quiet hours and caps apply, and
        only what is worth pushing is kept: `ranking.worth_pushing`, counted as `no_value`)."""
        if language not in LANGUAGES:
            raise ContractError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
        if limit < 1:
            raise ContractError(f"limit must be at least 1, not {limit}")
        if now.tzinfo is None:
            raise ContractError("now must be timezone-aware")
        channel = Channel(channel)
        degraded = profile is None
        cold_start = profile is not None and not profile.found
        if profile is None or cold_start:
            features: dict[str, Any] = {}
            risks: dict[str, RiskScore] = {}
            versions = {SCORING: "none"}
            tips, tip_evidence = self._typical_tips(customer)
            evidence = Evidence.CATALOGUE
        else:
            features = profile.features
            risks, versions = self._risks(customer, profile, now)
            tips, tip_evidence = self._tips(customer, features)
            if self.explores(customer, now):
                tips = self._every_eligible_tip(customer, features, tips)
            evidence = Evidence.SCORES
        request = Request(
            customer=customer,
            features=features,
            language=language,
            channel=channel,
            policy=self.policy,
            risks=risks,
            evidence=evidence,
            degraded=degraded,
            today=now.astimezone(self.zone).date(),
        )
        found = candidates(request, self.catalogue, tips, tip_evidence)
        if self.outcomes:
            found = [with_outcomes(c, self.outcomes) for c in found]
        ranked = self.rank(found, customer=customer, now=now)
        worthless = 0
        if push:
            pushable = [r for r in ranked if worth_pushing(r.candidate)]
            worthless, ranked = len(ranked) - len(pushable), pushable
        complaint = risks.get(COMPLAINT)
        verdict = apply_policy(
            ranked,
            customer=customer,
            history=history,
            channel=channel,
            now=now,
            policy=self.policy,
            zone=self.zone,
            context=Context(
                days_since_outage=number(features, "days_since_last_outage"),
                complaint_risk=None if complaint is None else complaint.probability,
            ),
            push=push,
        )
        return Answer(
            customer_id=customer.customer_id,
            channel=channel,
            suggestions=tuple(_suggestion(r, i) for i, r in enumerate(verdict.kept[:limit], 1)),
            risks=self._render_risks(risks, language),
            model_versions=versions,
            degraded=degraded,
            cold_start=cold_start,
            excluded={**verdict.excluded, NO_VALUE: worthless} if push else verdict.excluded,
            profile_summary=self._summary(
                customer,
                features,
                language,
                "unavailable" if degraded else "new" if cold_start else "customer",
            ),
        )

    def answer_key(self, customer: CustomerRecord, now: datetime) -> str:
        """What an answer's exploration is decided by: the customer and their local day."""
        return f"{customer.customer_id}/{now.astimezone(self.zone).date().isoformat()}"

    def explores(self, customer: CustomerRecord, now: datetime) -> bool:
        """Whether this customer's answers explore today."""
        return self.exploration is not None and self.exploration.explores(
            self.answer_key(customer, now)
        )

    def rank(
        self, found: Sequence[Candidate], *, customer: CustomerRecord, now: datetime
    ) -> list[Ranked]:
        """The candidates best first, before the contact policy: by expected value, or in an
        exploring answer by Thompson draws (`ranking.rank`). A subclass that orders them
        otherwise keeps every other part of the engine, which is how the closed-loop
        simulation compares rankings on the same candidates and contact policy."""
        return rank(found, self.exploration, self.answer_key(customer, now))

    def _every_eligible_tip(
        self, customer: CustomerRecord, features: dict[str, Any], tips: Tips
    ) -> Tips:
        """The ranker's tips, then every other tip the catalogue finds eligible on the
        profile: in an exploring answer the tips the ranker left out gather evidence too."""
        have = {tip_id for tip_id, _, _ in tips}
        live = self.catalogue.live_tips(features, customer.segment, customer.tariff_id)
        return [*tips, *((tip_id, None, saving) for tip_id, saving in live if tip_id not in have)]

    def _risks(
        self, customer: CustomerRecord, profile: Profile, now: datetime
    ) -> tuple[dict[str, RiskScore], dict[str, str]]:
        """Batch risks, or online ones when an event made the batch scores stale."""
        versions = parse_versions(profile.features.get("scores_model_versions"))
        if is_stale(profile):
            online = self.champions.score(customer, profile.features, now)
            if online:
                versions |= {name: self.champions.versions[name] for name in online}
                return batch_risks(profile.features) | online, versions | {SCORING: "online"}
        return batch_risks(profile.features), versions | {SCORING: "batch"}

    def _tips(self, customer: CustomerRecord, features: dict[str, Any]) -> tuple[Tips, Evidence]:
        scored = scored_tips(features.get("top_tips"))
        if scored is not None:
            return list(scored), Evidence.SCORES
        live = self.catalogue.live_tips(features, customer.segment, customer.tariff_id)
        return [(tip_id, None, saving) for tip_id, saving in live], Evidence.PROFILE

    def _typical_tips(self, customer: CustomerRecord) -> tuple[Tips, Evidence]:
        """Tips of the segment's typical customer on this tariff, or the segment's
        unconditional tips when there are no segment defaults."""
        typical = self.defaults.get(customer.segment)
        if typical is None:
            generic = self.catalogue.generic_tips(customer.segment)
            return [(tip_id, None, None) for tip_id, _ in generic], Evidence.CATALOGUE
        live = self.catalogue.live_tips(typical, customer.segment, customer.tariff_id)
        return [(tip_id, None, saving) for tip_id, saving in live], Evidence.SEGMENT

    def _render_risks(self, risks: dict[str, RiskScore], language: str) -> tuple[Risk, ...]:
        high = {CHURN: self.policy.retention_churn_risk, COMPLAINT: self.policy.high_complaint_risk}
        return tuple(
            risks[name].render(language, high[name]) for name in (CHURN, COMPLAINT) if name in risks
        )

    def _summary(
        self, customer: CustomerRecord, features: dict[str, Any], language: str, profile: str
    ) -> dict[str, float | str | None]:
        """Segment, tariff and the profile's headline numbers; `profile` says whose they are
        (customer, new: not known yet, unavailable: the online store could not be read)."""
        tariff = self.catalogue.tariffs.get(customer.tariff_id)
        summary: dict[str, float | str | None] = {
            "segment": customer.segment,
            "region": customer.region,
            "tariff_id": customer.tariff_id,
            "tariff_name": None if tariff is None else tariff.name[language],
            "profile": profile,
        }
        for name in SUMMARY_FEATURES:
            value = number(features, name)
            summary[name] = None if value is None else round(value, 2)
        return summary


def _suggestion(ranked: Ranked, rank_: int) -> Suggestion:
    c = ranked.candidate
    return Suggestion(
        suggestion_id=c.suggestion_id,
        kind=str(c.kind),
        item_id=c.item_id,
        rank=rank_,
        title=c.title,
        message=c.message,
        script=c.script,
        reasons=tuple(Reason(code, text) for code, text in c.reasons),
        saving_cny=c.saving_cny,
        saving_p10_cny=c.saving_p10_cny,
        saving_p90_cny=c.saving_p90_cny,
        confidence=ranked.confidence,
        expected_value=ranked.expected_value,
    )


def build_suggester(settings: Settings, *, tracking_uri: str | None = None) -> Suggester:
    """Everything loaded once: tips and tariffs, policy, segment defaults, champions (from
    `tracking_uri`, default `training.tracking`'s: MLFLOW_TRACKING_URI or ./mlruns), and
    the outcomes observed so far (they correct the models' acceptance of each item, and
    the exploration share of answers draws from them)."""
    outcomes = observed_outcomes(settings.lake_dir)
    exploration = None
    if settings.exploration_share > 0:
        exploration = Exploration(
            settings.exploration_share, seed=settings.exploration_seed, observed=outcomes
        )
    suggester = Suggester(
        catalogue=Catalogue(load_tips(), load_catalogue()),
        policy=settings.contact_policy,
        timezone=settings.timezone,
        defaults=segment_profiles(settings),
        champions=Champions(),
        exploration=exploration,
        outcomes=outcomes,
    )
    tracking.configure(tracking_uri)
    loaded = suggester.reload_models()
    logger.info("suggester ready: champions %s, failures %s", loaded, suggester.reload_failures)
    return suggester
