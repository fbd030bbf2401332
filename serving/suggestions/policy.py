"""The contact policy, applied in one place: which ranked candidates may reach the customer.

Rules run in a fixed order and a candidate is counted once, under the first rule that
removes it, so the counts add up to what was removed:
1. app only, about the customer: `no_app`, `no_consent`, `quiet_hours` remove everything;
2. about the item: `opted_out` (a kind the customer asked not to receive, on every
   channel), `accepted` (an accepted item is never offered again; an accepted
   tariff silences tariff offers for `accepted_tariff_days`), `declined_kind` (a kind
   declined or dismissed within `declined_days`), `recently_shown` (the same suggestion
   shown within `repeat_days`, except within `repeat_grace_minutes`: the same visit);
3. `one_per_kind`: the best of each kind stays;
4. app only: `weekly_cap`, `monthly_cap`: only as many as the pushes left in the rolling
   7 and 30 days, best first.
On the counter a service-recovery item then goes first after a recent outage or when
the complaint risk is high. Times are compared in UTC; quiet hours in local time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from powerhall.contract import Outcome, SuggestionKind
from powerhall.errors import ContractError
from powerhall.settings import ContactPolicy
from serving.suggestions.model import Channel, ContactHistory, CustomerRecord

NO_APP: Final = "no_app"
NO_CONSENT: Final = "no_consent"
QUIET_HOURS: Final = "quiet_hours"
OPTED_OUT: Final = "opted_out"
ACCEPTED: Final = "accepted"
DECLINED_KIND: Final = "declined_kind"
RECENTLY_SHOWN: Final = "recently_shown"
ONE_PER_KIND: Final = "one_per_kind"
WEEKLY_CAP: Final = "weekly_cap"
MONTHLY_CAP: Final = "monthly_cap"
RULES: Final = (
    NO_APP,
    NO_CONSENT,
    QUIET_HOURS,
    OPTED_OUT,
    ACCEPTED,
    DECLINED_KIND,
    RECENTLY_SHOWN,
    ONE_PER_KIND,
    WEEKLY_CAP,
    MONTHLY_CAP,
)
"""Every rule, in the order applied; each answer counts all of them (0 when idle)."""
WEEK: Final = timedelta(days=7)
MONTH: Final = timedelta(days=30)
DECLINES: Final = frozenset({Outcome.DECLINED, Outcome.DISMISSED})


class Offer(Protocol):
    @property
    def suggestion_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def item_id(self) -> str: ...


OfferT = TypeVar("OfferT", bound=Offer)


@dataclass(frozen=True)
class Verdict(Generic[OfferT]):
    kept: tuple[OfferT, ...]
    excluded: dict[str, int]


@dataclass(frozen=True)
class Context:
    """What the policy knows of the customer beyond the contact history."""

    days_since_outage: float | None = None
    complaint_risk: float | None = None


def is_quiet(now: datetime, policy: ContactPolicy, zone: ZoneInfo) -> bool:
    """Whether `now` falls in the quiet hours of the customer's local day."""
    local = now.astimezone(zone).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _within(at: datetime, now: datetime, span: timedelta) -> bool:
    return now - span < at <= now


def recovery_first(context: Context, policy: ContactPolicy) -> bool:
    """On the counter, service recovery leads after a recent outage or at high risk."""
    outage = context.days_since_outage
    risk = context.complaint_risk
    return (outage is not None and outage <= policy.recovery_days) or (
        risk is not None and risk >= policy.high_complaint_risk
    )


def app_gate(
    customer: CustomerRecord, *, now: datetime, policy: ContactPolicy, zone: ZoneInfo, push: bool
) -> str | None:
    """The rule that closes the app to the customer now, whatever is suggested (`no_app`,
    then for a push `no_consent` and `quiet_hours`); None when it is open. A campaign asks
    it first, so that it does not build suggestions nobody can receive."""
    if not customer.has_app:
        return NO_APP
    if push and not customer.push_consent:
        return NO_CONSENT
    if push and is_quiet(now, policy, zone):
        return QUIET_HOURS
    return None


def apply_policy(
    candidates: Sequence[OfferT],
    *,
    customer: CustomerRecord,
    history: ContactHistory,
    channel: Channel,
    now: datetime,
    policy: ContactPolicy,
    zone: ZoneInfo,
    context: Context = Context(),
    push: bool = False,
) -> Verdict[OfferT]:
    """Candidates (best first) the policy lets through, and how many each rule removed.

    `push`: the answer is sent unasked (a campaign's app push), so consent, quiet hours and
    the push caps apply; a customer who opens the app and asks is answered at any hour.
    """
    if now.tzinfo is None:
        raise ContractError("the time of a suggestion must be timezone-aware (UTC)")
    if push and channel is not Channel.APP:
        raise ContractError(f"pushes go to the app, not to the {channel} channel")
    excluded = dict.fromkeys(RULES, 0)
    remaining = list(candidates)
    if channel is Channel.APP:
        gate = app_gate(customer, now=now, policy=policy, zone=zone, push=push)
        if gate is not None:
            excluded[gate] = len(remaining)
            return Verdict((), excluded)

    accepted_items, tariff_accepted, declined = _answers(history, now, policy)
    grace = timedelta(minutes=policy.repeat_grace_minutes)
    shown = {
        s.suggestion_id
        for s in history.shown
        if _within(s.at, now, timedelta(days=policy.repeat_days)) and not _within(s.at, now, grace)
    }
    kept: list[OfferT] = []
    kinds: set[str] = set()
    for c in remaining:
        if c.kind in history.opted_out:
            rule = OPTED_OUT
        elif (c.kind, c.item_id) in accepted_items or (
            tariff_accepted and c.kind == SuggestionKind.TARIFF
        ):
            rule = ACCEPTED
        elif c.kind in declined:
            rule = DECLINED_KIND
        elif c.suggestion_id in shown:
            rule = RECENTLY_SHOWN
        elif c.kind in kinds:
            rule = ONE_PER_KIND
        else:
            kinds.add(c.kind)
            kept.append(c)
            continue
        excluded[rule] += 1

    if push:
        kept = _capped(kept, history.pushes, now, policy, excluded)
    elif channel is Channel.COUNTER and recovery_first(context, policy):
        kept.sort(key=lambda c: c.kind != SuggestionKind.SERVICE_RECOVERY)  # stable
    return Verdict(tuple(kept), excluded)


def _answers(
    history: ContactHistory, now: datetime, policy: ContactPolicy
) -> tuple[set[tuple[str, str]], bool, set[str]]:
    """Accepted items, whether a tariff was accepted recently, kinds declined recently."""
    accepted: set[tuple[str, str]] = set()
    tariff_accepted = False
    declined: set[str] = set()
    for f in history.outcomes:
        if f.outcome == Outcome.ACCEPTED:
            accepted.add((f.kind, f.item_id))
            if f.kind == SuggestionKind.TARIFF and _within(
                f.at, now, timedelta(days=policy.accepted_tariff_days)
            ):
                tariff_accepted = True
        elif f.outcome in DECLINES and _within(f.at, now, timedelta(days=policy.declined_days)):
            declined.add(f.kind)
    return accepted, tariff_accepted, declined


def _capped(
    kept: list[OfferT],
    pushes: Sequence[datetime],
    now: datetime,
    policy: ContactPolicy,
    excluded: dict[str, int],
) -> list[OfferT]:
    """The best candidates that the pushes left this week and month allow."""
    week_left = policy.push_per_week - sum(_within(p, now, WEEK) for p in pushes)
    month_left = policy.push_per_month - sum(_within(p, now, MONTH) for p in pushes)
    allowed = max(min(week_left, month_left), 0)
    if len(kept) > allowed:
        excluded[WEEKLY_CAP if week_left <= month_left else MONTHLY_CAP] += len(kept) - allowed
    return kept[:allowed]
