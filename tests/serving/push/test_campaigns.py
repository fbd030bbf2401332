"""Campaign planning over the small served world, and the transactional outbox."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from features.online import OnlineProfiles, Profile
from features.store import open_store
from powerhall.errors import NotFoundError
from powerhall.settings import ContactPolicy, Settings
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.auth import find_caller
from serving.db.engine import make_engine, session_factory
from serving.db.tables import Customer, SuggestionServed
from serving.push.campaigns import Plan, plan_campaign, queue_campaign
from serving.push.dispatcher import Dispatcher
from serving.push.outbox import idempotency_key
from serving.push.schemas import CampaignCreate
from serving.push.tables import Campaign, OutboxMessage
from serving.suggestions import Suggester
from serving.suggestions.candidates import Catalogue
from serving.suggestions.champions import Champions
from tests.serving.conftest import Keys
from tests.serving.push.gateway import Gateway, running
from tests.serving.suggestions.factories import profile

DAY = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
"""A Monday, 11:00 in Shanghai."""
NIGHT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
"""22:00 in Shanghai: quiet hours."""
LINK = "powerhall://inbox/{suggestion_id}"


def engine_with(policy: ContactPolicy) -> Suggester:
    """The engine without champions (the world's batch scores are all it needs)."""
    return Suggester(
        catalogue=Catalogue(load_tips(), load_catalogue()),
        policy=policy,
        timezone="Asia/Shanghai",
        defaults={},
        champions=Champions(names=()),
    )


@pytest.fixture(scope="module")
def suggester() -> Suggester:
    return engine_with(ContactPolicy())


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def profiles(settings: Settings) -> OnlineProfiles:
    return OnlineProfiles(open_store(settings))


def campaign(**fields: Any) -> CampaignCreate:
    return CampaignCreate.model_validate({"name": "spring", "dry_run": True} | fields)


def plan(
    session: Session, suggester: Suggester, profiles: OnlineProfiles, now: datetime, **fields: Any
) -> Plan:
    return plan_campaign(
        session, campaign(**fields), suggester=suggester, profiles=profiles, now=now
    )


def counts(session: Session) -> tuple[int, int, int]:
    """Campaigns, outbox rows, served rows."""
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(table))
        for table in (Campaign, OutboxMessage, SuggestionServed)
    )


def directory(session: Session) -> list[str]:
    return list(session.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))


def admin_key(session: Session, keys: Keys) -> int:
    caller = find_caller(session, keys.admin)
    assert caller is not None
    return caller.key_id


def test_a_dry_run_counts_each_rule_and_writes_nothing(
    session: Session, suggester: Suggester, profiles: OnlineProfiles
) -> None:
    ids = directory(session)
    everyone = plan(session, suggester, profiles, DAY)
    assert everyone.customers == len(ids) and len(everyone.recipients) == len(ids)
    session.execute(
        update(Customer).where(Customer.customer_id == ids[0]).values(push_consent=False)
    )
    session.execute(update(Customer).where(Customer.customer_id == ids[1]).values(has_app=False))
    session.execute(update(Customer).where(Customer.customer_id == ids[2]).values(closed_at=DAY))
    session.commit()

    day = plan(session, suggester, profiles, DAY)
    night = plan(session, suggester, profiles, NIGHT)

    assert day.excluded["no_consent"] > 0 and day.excluded["no_app"] > 0
    assert day.excluded["closed"] == 1 and day.excluded["quiet_hours"] == 0
    assert {p.customer.customer_id for p in day.recipients} == set(ids[3:])
    assert day.messages == len(ids) - 3  # one push each by default
    assert night.recipients == [] and night.excluded["quiet_hours"] > 0
    assert counts(session) == (0, 0, 0)


def test_a_campaign_queues_its_pushes_with_the_served_rows(
    session: Session, suggester: Suggester, profiles: OnlineProfiles, keys: Keys
) -> None:
    request = campaign(dry_run=False, limit_per_customer=2)
    planned = plan_campaign(session, request, suggester=suggester, profiles=profiles, now=DAY)
    campaign_id = queue_campaign(
        session, planned, request, key_id=admin_key(session, keys), deep_link=LINK, now=DAY
    )

    assert counts(session) == (1, planned.messages, planned.messages) != (1, 0, 0)
    rows = session.scalars(select(OutboxMessage)).all()
    assert {r.idempotency_key for r in rows} == {
        idempotency_key(campaign_id, r.customer_id, r.suggestion_id) for r in rows
    }
    assert all(r.status == "pending" and r.next_attempt_at == DAY for r in rows)
    served = session.scalars(select(SuggestionServed)).all()
    assert {(s.customer_id, s.suggestion_id) for s in served} == {
        (r.customer_id, r.suggestion_id) for r in rows
    }
    assert all(s.channel == "app" and s.payload["campaign_id"] == campaign_id for s in served)
    stored = session.get(Campaign, campaign_id)
    assert stored is not None and stored.stats["messages"] == planned.messages

    # A day later what was pushed is not pushed again (the next best may be), and with one
    # push a week allowed the queued pushes use it up.
    later = DAY + timedelta(days=1)
    again = plan(session, suggester, profiles, later, limit_per_customer=2)
    assert again.excluded["recently_shown"] == planned.messages
    pushed = {(r.customer_id, r.suggestion_id) for r in rows}
    assert not pushed & {
        (p.customer.customer_id, s.suggestion_id) for p in again.recipients for s in p.pushes
    }
    weekly = engine_with(ContactPolicy(push_per_week=1))
    capped = plan(session, weekly, profiles, later, limit_per_customer=2)
    assert capped.recipients == [] and capped.excluded["weekly_cap"] == again.messages > 0


def test_a_failure_mid_transaction_writes_nothing(
    session: Session, engine: Engine, suggester: Suggester, profiles: OnlineProfiles, keys: Keys
) -> None:
    request = campaign(dry_run=False)
    planned = plan_campaign(session, request, suggester=suggester, profiles=profiles, now=DAY)
    key_id = admin_key(session, keys)

    def fail_on_served(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("INSERT INTO suggestions_served"):
            raise RuntimeError("disk full")

    event.listen(engine, "before_cursor_execute", fail_on_served)
    try:
        with pytest.raises(RuntimeError, match="disk full"):
            queue_campaign(session, planned, request, key_id=key_id, deep_link=LINK, now=DAY)
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_served)
    assert counts(session) == (0, 0, 0)


def test_only_the_campaigns_kinds_are_pushed(
    session: Session, suggester: Suggester, profiles: OnlineProfiles
) -> None:
    tips = plan(session, suggester, profiles, DAY, kinds=["tip"], limit_per_customer=4)
    tariffs = plan(session, suggester, profiles, DAY, kinds=["tariff"], limit_per_customer=4)
    assert tips.by_kind().keys() <= {"tip"} and tariffs.by_kind().keys() <= {"tariff"}
    assert tips.excluded["other_kind"] + tariffs.excluded["other_kind"] > 0
    # Every suggestion the engine made is either pushed or counted as of another kind.
    assert (
        tips.messages + tips.excluded["other_kind"]
        == tariffs.messages + tariffs.excluded["other_kind"]
    )


def test_audience_filters_and_unknown_customers(
    session: Session, suggester: Suggester, profiles: OnlineProfiles
) -> None:
    ids = directory(session)
    assert plan(session, suggester, profiles, DAY, customer_ids=ids[:2]).customers == 2
    assert plan(session, suggester, profiles, DAY, segments=["industrial"]).customers == 0
    assert plan(session, suggester, profiles, DAY, regions=["shanghai"]).customers == len(ids)
    with pytest.raises(NotFoundError, match="1 customers are not in the directory: NOPE"):
        plan(session, suggester, profiles, DAY, customer_ids=[ids[0], "NOPE"])


def test_without_the_online_store_the_plan_is_degraded(
    session: Session, suggester: Suggester
) -> None:
    degraded = plan_campaign(session, campaign(), suggester=suggester, profiles=None, now=DAY)
    assert degraded.degraded == degraded.customers > 0


def test_a_queued_campaign_reaches_the_gateway(
    settings: Settings,
    session: Session,
    engine: Engine,
    suggester: Suggester,
    profiles: OnlineProfiles,
    keys: Keys,
) -> None:
    request = campaign(dry_run=False, language="en")
    planned = plan_campaign(session, request, suggester=suggester, profiles=profiles, now=DAY)
    queue_campaign(
        session, planned, request, key_id=admin_key(session, keys), deep_link=LINK, now=DAY
    )
    with running(Gateway()) as gateway:
        configured = settings.model_copy(update={"push_webhook_url": gateway.url})
        with Dispatcher(session_factory(engine), configured, clock=lambda: DAY) as dispatcher:
            report = dispatcher.drain(100)
    assert report.delivered == planned.messages == len(gateway.applied)
    sent = {body["suggestion_id"]: body for body in gateway.applied.values()}
    for p in planned.recipients:
        (push,) = p.pushes
        body = sent[push.suggestion_id]
        assert body["customer_id"] == p.customer.customer_id
        assert (body["title"], body["message"]) == (push.title, push.message)
        assert uuid.UUID(body["campaign_id"])


class Advised:
    """Profiles whose batch scores advise every other customer to stay on their tariff
    and the others to switch to time-of-use (the served world's scores advise neither)."""

    def get_many(self, customer_ids: list[str], *, at: datetime | None = None) -> list[Profile]:
        return [
            profile(cid, **({"tariff_advice": "stay"} if i % 2 == 0 else {}))
            for i, cid in enumerate(customer_ids)
        ]


def test_advice_to_stay_is_never_pushed(session: Session, suggester: Suggester) -> None:
    ids = directory(session)
    session.execute(
        update(Customer).values(
            segment="residential", region="shanghai", tariff_id="shanghai-res-tiered"
        )
    )
    session.commit()
    advised = cast(OnlineProfiles, Advised())
    request = campaign(kinds=["tariff"])
    tariffs = plan_campaign(session, request, suggester=suggester, profiles=advised, now=DAY)
    assert {p.customer.customer_id for p in tariffs.recipients} == set(ids[1::2])
    assert {s.item_id for p in tariffs.recipients for s in p.pushes} == {"shanghai-res-tou"}
    assert tariffs.excluded["no_value"] == len(ids[::2])
    # Those advised to stay get their best tip instead of the advice.
    anything = plan_campaign(session, campaign(), suggester=suggester, profiles=advised, now=DAY)
    assert len(anything.recipients) == len(ids)
    assert all(
        (s.kind == "tip") == (i % 2 == 0)
        for i, p in enumerate(anything.recipients)
        for s in p.pushes
    )
