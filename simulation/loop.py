"""The rounds: campaigns, answers and, between rounds, the retrained policy's pipeline.

`run` gives each policy its own service database (the directory at the start, an app
key) and, per round of two weeks, a campaign each week (`serving.push.campaigns`: the
engine, the contact policy, the outbox), every push answered by the hidden truth at its
answer time (`serving.feedback.record_outcome`), and opt-outs. Between rounds the
retrained policy runs the nightly pipeline on its own copy of the data: the two weeks'
readings, bills and events ingested, its feedback exported (`export_outcomes`), every
profile view rebuilt at every weekly snapshot (the full `powerhall features build`: the
consumption views change with the new readings, the engagement view with the answers),
the models retrained through the gate, every customer re-scored, the online store
updated and the engine restarted (its exploration evidence with it). The other policies
keep the start's data, models and scores: they differ from it only by what they rank.
"""

from __future__ import annotations

import json
import logging
import shutil
import time as timer
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from feast import FeatureStore
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from features.materialize import materialize
from features.online import OnlineProfiles
from features.store import open_store
from powerhall.contract import Outcome, SuggestionKind
from powerhall.errors import PowerhallError
from powerhall.settings import Settings
from powerhall.synthetic.tables import recorded_outcomes
from serving.auth import Caller, Role, create_key
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.db.tables import Customer
from serving.directory import sync_customers
from serving.feedback import export_outcomes, last_shown, record_outcome
from serving.push.campaigns import plan_campaign, queue_campaign
from serving.push.schemas import CampaignCreate
from serving.schemas import FeedbackCreate
from serving.suggestions import Channel, Suggester, build_suggester
from serving.suggestions.evidence import observed_outcomes
from simulation.clock import CAMPAIGN_TIME, Clock, arrive
from simulation.policies import (
    MOST_POPULAR,
    POLICIES,
    POWERHALL,
    RANDOM,
    RETRAINED,
    STAY,
    Popularity,
    Reranked,
    arm,
    oracle_order,
    random_order,
)
from simulation.truth import Truth, response_delay_hours, uniform
from simulation.workspace import (
    RETRAIN,
    RUN_FILE,
    Progress,
    Workspace,
    claim_directory,
    deploy,
    quiet,
)
from training import tracking

logger = logging.getLogger(__name__)

CAMPAIGN_KINDS: Final = (SuggestionKind.TARIFF, SuggestionKind.TIP)
"""What the campaigns push: the kinds the hidden truth can answer (see `simulation.truth`)."""
PUSHES_PER_CAMPAIGN: Final = 1
"""Pushes per customer and campaign: the campaign API's default `limit_per_customer`."""
OPT_OUT_SHARE: Final = 0.02
"""Chance that a push the customer does not act on makes them withdraw push consent. An
assumption, not the truth: the generator has no opt-outs. Industry reports put opt-outs
at one to a few percent of pushes; every policy meets the same draws."""
MAX_ANSWER_HOURS: Final = 6 * 24.0
"""Answers come before the next weekly campaign."""
OUTCOMES: Final = tuple(Outcome)
PUSH_COLUMNS: Final = (
    "policy",
    "round",
    "campaign",
    "at",
    "customer_id",
    "kind",
    "item_id",
    "stay",
    "p_accept",
    "priced",
    "outcome",
    "accepted",
    "benefit_cny_year",
    "opted_out",
)


@dataclass
class Contender:
    """One policy's service: its settings and database, engine and online store."""

    name: str
    settings: Settings
    suggester: Suggester
    store: FeatureStore
    profiles: OnlineProfiles
    sessions: sessionmaker[Session]
    caller: Caller
    popularity: Popularity | None = None


@dataclass(frozen=True)
class SimulationRun:
    """What a run produced: every push with its answer, and the nightly pipelines."""

    directory: Path
    clock: Clock
    pushes: pd.DataFrame
    """One row per push (`PUSH_COLUMNS`); `benefit_cny_year` is what an accepted push saves,
    `stay` marks the advice to stay on the current tariff."""
    pipelines: list[dict[str, Any]]
    """After each round but the last, the retrained policy's pipeline: rows ingested,
    outcomes exported, and each model's new version with the gate's verdict."""
    databases: dict[str, str]
    """Policy -> its service database URL (its outbox is the push log)."""
    tracking_uri: str
    seconds: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def _service(
    settings: Settings, world: Settings, now: datetime
) -> tuple[sessionmaker[Session], Caller]:
    """A new service database at head, the directory as the lake knows it at the start,
    and an app key (the app posts the customers' answers)."""
    upgrade(settings.database_url)
    sessions = session_factory(make_engine(settings.database_url))
    with sessions() as session:
        sync_customers(session, world.lake_dir)
        key, _ = create_key(session, role=Role.APP, name="simulated-app", hall_id=None, now=now)
        caller = Caller(key_id=key.id, name=key.name, role=Role.APP, hall_id=None)
    return sessions, caller


def _copy_data(world: Settings, target: Path) -> None:
    """The retrained policy's own data: the lake, profiles and online store copied, the
    generated world (and its truth) shared read-only."""
    target.mkdir(parents=True)
    for name in ("lake", "features", "feast"):
        shutil.copytree(world.data_dir / name, target / name)
    (target / "raw").symlink_to(world.raw_dir.resolve(), target_is_directory=True)


def _contenders(
    workspace: Workspace, directory: Path, uri: str, exploration_share: float, truth: Truth
) -> list[Contender]:
    world = workspace.world
    start = workspace.clock.local(workspace.clock.start)

    def settings_of(name: str) -> Settings:
        data = directory / RETRAINED if name == RETRAINED else world.data_dir
        return Settings(
            data_dir=data,
            seed=workspace.seed,
            timezone=world.timezone,
            exploration_share=exploration_share,
            database_url=f"sqlite:///{(directory / f'{name}.db').resolve()}",
        )

    world_store = open_store(world)
    world_profiles = OnlineProfiles(world_store)
    engine = build_suggester(settings_of(POWERHALL), tracking_uri=uri)
    popularity = Popularity(observed_outcomes(world.lake_dir))
    contenders = []
    for name in POLICIES:
        settings = settings_of(name)
        sessions, caller = _service(settings, world, start)
        if name == POWERHALL:
            suggester: Suggester = engine
        elif name == RETRAINED:
            suggester = build_suggester(settings, tracking_uri=uri)
        elif name == RANDOM:
            suggester = Reranked(engine, random_order(workspace.seed))
        elif name == MOST_POPULAR:
            suggester = Reranked(engine, popularity.score)
        else:
            suggester = Reranked(engine, oracle_order(truth, Channel.APP))
        store = open_store(settings) if name == RETRAINED else world_store
        contenders.append(
            Contender(
                name=name,
                settings=settings,
                suggester=suggester,
                store=store,
                profiles=OnlineProfiles(store) if name == RETRAINED else world_profiles,
                sessions=sessions,
                caller=caller,
                popularity=popularity if name == MOST_POPULAR else None,
            )
        )
    return contenders


def run(
    workspace: Workspace,
    directory: Path,
    *,
    rounds: int | None = None,
    retrain: Sequence[str] = RETRAIN,
    exploration_share: float = 0.1,
    pushes_per_campaign: int = PUSHES_PER_CAMPAIGN,
    opt_out_share: float = OPT_OUT_SHARE,
    progress: Progress = quiet,
) -> SimulationRun:
    """Every policy through `rounds` rounds (default: all the workspace has) on the same
    customers; `directory` receives the run's databases, registry and retrained data."""
    clock = workspace.clock
    rounds = clock.rounds if rounds is None else rounds
    if not 1 <= rounds <= clock.rounds:
        raise PowerhallError(f"the workspace holds 1 to {clock.rounds} rounds, not {rounds}")
    if not 0 <= opt_out_share <= 1:
        raise PowerhallError(f"opt_out_share must be between 0 and 1, not {opt_out_share}")
    if unknown := sorted(set(retrain) - set(RETRAIN)):
        raise PowerhallError(f"the simulation retrains {', '.join(RETRAIN)}, not {unknown}")
    began = timer.perf_counter()
    claim_directory(directory)
    (directory / RUN_FILE).write_text(json.dumps({"workspace": str(workspace.root)}) + "\n")
    uri = tracking.default_tracking_uri(directory)
    registry = Path(uri.removeprefix("sqlite:///"))
    registry.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(workspace.tracking_uri.removeprefix("sqlite:///")), registry)
    world = workspace.world
    _copy_data(world, directory / RETRAINED)
    truth = Truth(world.raw_dir, clock.timezone)
    contenders = _contenders(workspace, directory, uri, exploration_share, truth)
    seconds = {"setup": timer.perf_counter() - began}
    rows: list[dict[str, Any]] = []
    pipelines: list[dict[str, Any]] = []
    campaign = 0
    for k in range(rounds):
        began = timer.perf_counter()
        for day in clock.campaign_days(k):
            campaign += 1
            progress(f"round {k + 1}: campaign {campaign} on {day}")
            for contender in contenders:
                pushed = _campaign(
                    contender,
                    truth,
                    at=clock.local(day, CAMPAIGN_TIME),
                    campaign=campaign,
                    seed=workspace.seed,
                    pushes_per_campaign=pushes_per_campaign,
                    opt_out_share=opt_out_share,
                )
                rows += [{"policy": contender.name, "round": k + 1, **p} for p in pushed]
                if contender.popularity is not None:
                    for p in pushed:
                        item = STAY if p["stay"] else (p["kind"], p["item_id"])
                        contender.popularity.add(item, p["accepted"])
        seconds[f"round_{k + 1}"] = timer.perf_counter() - began
        if k + 1 < rounds:
            began = timer.perf_counter()
            retrained = next(c for c in contenders if c.name == RETRAINED)
            pipeline = _nightly(retrained, workspace, uri, k, retrain, progress)
            pipelines.append({"after_round": k + 1, **pipeline})
            seconds[f"pipeline_{k + 1}"] = timer.perf_counter() - began
    return SimulationRun(
        directory=directory,
        clock=clock,
        pushes=pd.DataFrame(rows, columns=list(PUSH_COLUMNS)),
        pipelines=pipelines,
        databases={c.name: c.settings.database_url for c in contenders},
        tracking_uri=uri,
        seconds=seconds,
        parameters={
            "customers": workspace.customers,
            "history_days": workspace.history_days,
            "seed": workspace.seed,
            "rounds": rounds,
            "round_days": clock.round_days,
            "start": clock.start.isoformat(),
            "retrain": ",".join(retrain) or "none",
            "exploration_share": exploration_share,
            "pushes_per_campaign": pushes_per_campaign,
            "opt_out_share": opt_out_share,
            "campaign_kinds": ",".join(CAMPAIGN_KINDS),
            **{
                f"contact_{name}": str(value)
                for name, value in world.contact_policy.model_dump().items()
            },
        },
    )


def _campaign(
    contender: Contender,
    truth: Truth,
    *,
    at: datetime,
    campaign: int,
    seed: int,
    pushes_per_campaign: int,
    opt_out_share: float,
) -> list[dict[str, Any]]:
    """One app campaign of the contender's engine, queued in its outbox, and each push
    answered by the truth: the answer posted as feedback at its time, an opt-out written
    to the directory."""
    request = CampaignCreate(
        name=f"simulated campaign {campaign}",
        kinds=list(CAMPAIGN_KINDS),
        limit_per_customer=pushes_per_campaign,
        dry_run=False,
    )
    rows: list[dict[str, Any]] = []
    leaving: set[str] = set()
    with contender.sessions() as session:
        plan = plan_campaign(
            session, request, suggester=contender.suggester, profiles=contender.profiles, now=at
        )
        campaign_id = queue_campaign(
            session,
            plan,
            request,
            key_id=contender.caller.key_id,
            deep_link=contender.settings.push_deep_link,
            now=at,
        )
        pushed = [(p.customer, s) for p in plan.recipients for s in p.pushes]
        responses = [
            truth.respond(c.customer_id, s.kind, s.item_id, Channel.APP, at) for c, s in pushed
        ]
        draws = [
            uniform(seed, "answer", campaign, c.customer_id, s.kind, s.item_id) for c, s in pushed
        ]
        codes = recorded_outcomes(
            np.array([r.p_accept for r in responses], dtype=float),
            np.array(draws, dtype=float),
            np.ones(len(pushed), dtype=bool),
        )
        for (customer, s), response, code in zip(pushed, responses, codes, strict=True):
            cid = customer.customer_id
            outcome = OUTCOMES[int(code)]
            accepted = outcome is Outcome.ACCEPTED
            if outcome is not Outcome.IGNORED:
                served = last_shown(session, s.suggestion_id)
                if served is None:
                    raise PowerhallError(f"campaign {campaign_id} did not record {s.suggestion_id}")
                hours = response_delay_hours(s.kind, seed, campaign, cid, s.item_id)
                record_outcome(
                    session,
                    served=served,
                    body=FeedbackCreate.model_validate(
                        {"outcome": str(outcome), "customer_id": cid}
                    ),
                    caller=contender.caller,
                    idempotency_key=f"simulation-{campaign_id}-{s.suggestion_id}",
                    now=at + timedelta(hours=min(hours, MAX_ANSWER_HOURS)),
                )
            opts_out = (
                not accepted
                and cid not in leaving
                and uniform(seed, "opt-out", campaign, cid, s.kind, s.item_id) < opt_out_share
            )
            if opts_out:
                leaving.add(cid)
            rows.append(
                {
                    "campaign": campaign,
                    "at": at,
                    "customer_id": cid,
                    "kind": s.kind,
                    "item_id": s.item_id,
                    "stay": arm(s.kind, s.item_id, customer.tariff_id) == STAY,
                    "p_accept": response.p_accept,
                    "priced": response.priced,
                    "outcome": str(outcome),
                    "accepted": accepted,
                    "benefit_cny_year": response.benefit_cny_year if accepted else 0.0,
                    "opted_out": opts_out,
                }
            )
        if leaving:
            session.execute(
                update(Customer)
                .where(Customer.customer_id.in_(sorted(leaving)))
                .values(push_consent=False)
            )
            session.commit()
    return rows


def _nightly(
    contender: Contender,
    workspace: Workspace,
    uri: str,
    k: int,
    retrain: Sequence[str],
    progress: Progress,
) -> dict[str, Any]:
    """After round k: what arrived in the round ingested, the feedback exported, profiles
    rebuilt, models retrained and gated, everyone re-scored, online store and engine
    refreshed (the engine as a restarted service builds it, new evidence included)."""
    clock, settings = workspace.clock, contender.settings
    since, until = clock.round_start(k), clock.round_start(k + 1)
    at = clock.local(until)
    progress(f"after round {k + 1}: ingesting {since} to {until}, exporting feedback")
    report = arrive(
        workspace.world.raw_dir,
        settings.lake_dir,
        settings.quarantine_dir,
        since=since,
        until=until,
        clock=clock,
    )
    with contender.sessions() as session:
        exported = export_outcomes(
            session, lake_dir=settings.lake_dir, timezone=settings.timezone, now=at
        )
    gated = deploy(settings, uri, models=retrain, at=at, progress=progress, plots=False)
    materialize(contender.store, settings)
    contender.profiles = OnlineProfiles(contender.store)
    contender.suggester = build_suggester(settings, tracking_uri=uri)
    return {"rows_ingested": report.accepted, "outcomes_exported": exported, "models": gated}
