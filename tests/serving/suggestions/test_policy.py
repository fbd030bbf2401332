"""The contact policy: each rule removes exactly what it should, counted under its name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from powerhall.errors import ContractError
from powerhall.settings import ContactPolicy, Settings
from serving.suggestions.model import Channel, ContactHistory
from serving.suggestions.policy import RULES, Context, apply_policy, is_quiet
from tests.serving.suggestions.factories import NOW, customer, outcome, shown

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Item:
    suggestion_id: str
    kind: str
    item_id: str


TARIFF = Item("s-tariff", "tariff", "shanghai-res-tou")
TIP_A = Item("s-tip-a", "tip", "tip-a")
TIP_B = Item("s-tip-b", "tip", "tip-b")
RETENTION = Item("s-retention", "retention", "retention-account-review")
RECOVERY = Item("s-recovery", "service_recovery", "recovery-outage")
CANDIDATES = (TARIFF, TIP_A, TIP_B, RETENTION, RECOVERY)


def run(
    *,
    channel: Channel = Channel.COUNTER,
    history: ContactHistory | None = None,
    now: datetime = NOW,
    context: Context | None = None,
    policy: ContactPolicy | None = None,
    push: bool | None = None,
    **record: object,
):
    """The policy on CANDIDATES; an app answer is a push unless `push=False` says so."""
    return apply_policy(
        CANDIDATES,
        customer=customer(**record),
        history=history or ContactHistory(),
        channel=channel,
        now=now,
        policy=policy or ContactPolicy(),
        zone=SHANGHAI,
        context=context or Context(),
        push=channel is Channel.APP if push is None else push,
    )


def pushes(*days_ago: float) -> ContactHistory:
    return ContactHistory(pushes=tuple(NOW - timedelta(days=d) for d in days_ago))


CASES = [
    # id, arguments, kept, non-zero exclusions
    ("nothing_in_the_way", {}, (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("no_app", {"channel": Channel.APP, "has_app": False}, (), {"no_app": 5}),
    ("no_consent", {"channel": Channel.APP, "push_consent": False}, (), {"no_consent": 5}),
    ("consent_is_not_needed_at_the_counter", {"push_consent": False, "has_app": False},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("quiet_hours", {"channel": Channel.APP, "now": datetime(2026, 3, 2, 14, tzinfo=UTC)},
     (), {"quiet_hours": 5}),
    ("accepted_item_never_again",
     {"history": ContactHistory(outcomes=(outcome("tip", "tip-a", "accepted", 300),))},
     (TARIFF, TIP_B, RETENTION, RECOVERY), {"accepted": 1}),
    ("accepted_tariff_silences_tariffs",
     {"history": ContactHistory(outcomes=(outcome("tariff", "other-tariff", "accepted", 364),))},
     (TIP_A, RETENTION, RECOVERY), {"accepted": 1, "one_per_kind": 1}),
    ("accepted_tariff_a_year_ago_no_longer_silences",
     {"history": ContactHistory(outcomes=(outcome("tariff", "other-tariff", "accepted", 366),))},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("declined_kind",
     {"history": ContactHistory(outcomes=(outcome("tip", "tip-z", "declined", 89),))},
     (TARIFF, RETENTION, RECOVERY), {"declined_kind": 2}),
    ("dismissed_counts_as_declined",
     {"history": ContactHistory(outcomes=(outcome("retention", "x", "dismissed", 1),))},
     (TARIFF, TIP_A, RECOVERY), {"declined_kind": 1, "one_per_kind": 1}),
    ("declined_90_days_ago_is_forgiven",
     {"history": ContactHistory(outcomes=(outcome("tip", "tip-z", "declined", 91),))},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("clicked_suppresses_nothing",
     {"history": ContactHistory(outcomes=(outcome("tip", "tip-a", "clicked", 1),))},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("recently_shown",
     {"history": ContactHistory(shown=(shown("s-tip-a", "tip", "tip-a", 29),))},
     (TARIFF, TIP_B, RETENTION, RECOVERY), {"recently_shown": 1}),
    ("shown_31_days_ago_may_return",
     {"history": ContactHistory(shown=(shown("s-tip-a", "tip", "tip-a", 31),))},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("shown_minutes_ago_is_the_same_visit",
     {"history": ContactHistory(shown=(shown("s-tip-a", "tip", "tip-a", 10 / 1440),))},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
    ("first_rule_counts",
     {"history": ContactHistory(
         shown=(shown("s-tip-a", "tip", "tip-a", 5),),
         outcomes=(outcome("tip", "tip-a", "accepted", 5), outcome("tip", "tip-b", "declined", 5)),
     )},
     (TARIFF, RETENTION, RECOVERY), {"accepted": 1, "declined_kind": 1}),
    ("app_below_caps", {"channel": Channel.APP, "history": pushes(8, 20)},
     (TARIFF, TIP_A), {"one_per_kind": 1, "weekly_cap": 2}),
    ("weekly_cap_reached", {"channel": Channel.APP, "history": pushes(1, 6)},
     (), {"one_per_kind": 1, "weekly_cap": 4}),
    ("weekly_cap_leaves_one", {"channel": Channel.APP, "history": pushes(3)},
     (TARIFF,), {"one_per_kind": 1, "weekly_cap": 3}),
    ("last_week_only_counts_weekly", {"channel": Channel.APP, "history": pushes(7.5)},
     (TARIFF, TIP_A), {"one_per_kind": 1, "weekly_cap": 2}),
    ("monthly_cap_reached", {"channel": Channel.APP, "history": pushes(8, 10, 15, 29)},
     (), {"one_per_kind": 1, "monthly_cap": 4}),
    ("monthly_cap_leaves_one", {"channel": Channel.APP, "history": pushes(8, 10, 15)},
     (TARIFF,), {"one_per_kind": 1, "monthly_cap": 3}),
    ("older_pushes_do_not_count", {"channel": Channel.APP, "history": pushes(31, 40, 50, 60)},
     (TARIFF, TIP_A), {"one_per_kind": 1, "weekly_cap": 2}),
    ("caps_do_not_apply_at_the_counter", {"history": pushes(1, 2, 3, 4, 5)},
     (TARIFF, TIP_A, RETENTION, RECOVERY), {"one_per_kind": 1}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "kept", "excluded"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_excludes_exactly_what_it_should(args: dict, kept: tuple, excluded: dict) -> None:
    verdict = run(**args)
    assert verdict.kept == kept
    assert verdict.excluded == dict.fromkeys(RULES, 0) | excluded
    assert sum(verdict.excluded.values()) == len(CANDIDATES) - len(kept)


def test_a_customer_asking_in_the_app_is_answered_whatever_the_push_rules() -> None:
    night = datetime(2026, 3, 2, 14, tzinfo=UTC)  # 22:00 in Shanghai
    verdict = run(channel=Channel.APP, push=False, now=night, history=pushes(1, 2, 3, 4, 5),
                  push_consent=False)  # fmt: skip
    assert verdict.kept == (TARIFF, TIP_A, RETENTION, RECOVERY)
    assert run(channel=Channel.APP, push=False, has_app=False).excluded["no_app"] == 5


def test_only_the_app_takes_pushes() -> None:
    with pytest.raises(ContractError, match="pushes go to the app"):
        run(channel=Channel.COUNTER, push=True)


def test_caps_come_from_the_policy() -> None:
    policy = ContactPolicy(push_per_week=1, push_per_month=1)
    verdict = run(channel=Channel.APP, policy=policy)
    assert verdict.kept == (TARIFF,)
    assert verdict.excluded["weekly_cap"] == 3


@pytest.mark.parametrize(
    ("context", "first"),
    [
        (Context(days_since_outage=3.0), RECOVERY),
        (Context(days_since_outage=7.0), RECOVERY),
        (Context(days_since_outage=7.5), TARIFF),
        (Context(complaint_risk=0.3), RECOVERY),
        (Context(complaint_risk=0.29), TARIFF),
        (Context(), TARIFF),
    ],
)
def test_service_recovery_first_on_the_counter(context: Context, first: Item) -> None:
    verdict = run(context=context)
    assert verdict.kept[0] == first
    assert set(verdict.kept) == {TARIFF, TIP_A, RETENTION, RECOVERY}
    assert verdict.kept[1:] == tuple(c for c in (TARIFF, TIP_A, RETENTION, RECOVERY) if c != first)


def test_recovery_order_is_for_the_counter_only() -> None:
    verdict = run(channel=Channel.APP, context=Context(days_since_outage=1.0))
    assert verdict.kept[0] == TARIFF


@pytest.mark.parametrize(
    ("utc", "quiet"),
    [
        (datetime(2026, 3, 2, 12, 59, tzinfo=UTC), False),  # 20:59 in Shanghai
        (datetime(2026, 3, 2, 13, 0, tzinfo=UTC), True),  # 21:00
        (datetime(2026, 3, 2, 16, 0, tzinfo=UTC), True),  # midnight
        (datetime(2026, 3, 2, 23, 59, tzinfo=UTC), True),  # 07:59 the next day
        (datetime(2026, 3, 3, 0, 0, tzinfo=UTC), False),  # 08:00
    ],
)
def test_quiet_hours_across_the_local_boundary(utc: datetime, quiet: bool) -> None:
    assert is_quiet(utc, ContactPolicy(), SHANGHAI) is quiet
    # The same instant written in another offset is the same instant.
    other = utc.astimezone(ZoneInfo("America/New_York"))
    assert is_quiet(other, ContactPolicy(), SHANGHAI) is quiet


def test_quiet_hours_follow_the_customers_zone() -> None:
    utc_21 = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
    assert is_quiet(utc_21, ContactPolicy(), ZoneInfo("Europe/London"))  # 21:00 in London
    assert is_quiet(utc_21, ContactPolicy(), SHANGHAI)  # 05:00 the next day
    assert not is_quiet(utc_21 + timedelta(hours=3), ContactPolicy(), SHANGHAI)  # 08:00
    assert not is_quiet(utc_21, ContactPolicy(), ZoneInfo("America/Los_Angeles"))  # 13:00


def test_quiet_window_within_one_day_and_none() -> None:
    night = ContactPolicy(quiet_start=time(1, 0), quiet_end=time(5, 0))
    assert is_quiet(datetime(2026, 3, 2, 2, 0, tzinfo=SHANGHAI), night, SHANGHAI)
    assert not is_quiet(datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI), night, SHANGHAI)
    never = ContactPolicy(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not is_quiet(datetime(2026, 3, 2, 23, 0, tzinfo=SHANGHAI), never, SHANGHAI)


def test_policy_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERHALL_CONTACT_POLICY__PUSH_PER_WEEK", "1")
    monkeypatch.setenv("POWERHALL_CONTACT_POLICY__QUIET_START", "22:30")
    policy = Settings().contact_policy
    assert policy.push_per_week == 1
    assert policy.quiet_start == time(22, 30)
    assert policy.push_per_month == 4


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ContractError, match="timezone-aware"):
        run(now=datetime(2026, 3, 2, 12, 0))
