"""The workspace: the world and powerhall's deployment at the start of the rounds.

`prepare` builds what every policy starts from, as `make run` would at that date: the
world generated up to the simulation's end, the lake ingested with what is known at the
start (`simulation.clock`), every weekly profile snapshot, tips and tariff_fit trained
through the promotion gate, every customer scored, the online store loaded. Any number of
runs (`simulation.loop.run`) reuse a workspace without changing it. `deploy` is the
nightly pipeline once the lake is up to date, at the start and between rounds.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from features.materialize import materialize
from features.profiles import build_profiles
from features.store import apply_definitions, open_store
from powerhall.contract import LOCAL_TIMEZONE
from powerhall.errors import PowerhallError
from powerhall.settings import Settings
from powerhall.synthetic import DEFAULT_END, generate
from simulation.clock import ROUND_DAYS, Clock, arrive
from training import tariff_fit, tips, tracking
from training.score import score

logger = logging.getLogger(__name__)

WORKSPACE_FILE: Final = "workspace.json"
RUN_FILE: Final = "run.json"
"""Markers of the directories this package writes (and may therefore empty)."""
WORLD: Final = "world"
HISTORY_DAYS: Final = 450
"""Days of data before the first round: the 270 days tariff advice needs, and half a year
of past tips and offers to test the models on."""
RETRAIN: Final = (tips.NAME, tariff_fit.NAME)
"""The models the suggestions' outcomes train: the tips ranker and tariff_fit's acceptance
model. Churn and complaint learn from churn and complaints, which no round produces: the
simulation neither trains nor serves them (no retention or risk-driven care)."""

Progress = Callable[[str], None]


def quiet(message: str) -> None:
    logger.info(message)


@dataclass(frozen=True)
class Workspace:
    """What `prepare` built: the world at the start, its registry, and the rounds' clock."""

    root: Path
    clock: Clock
    customers: int
    history_days: int
    seed: int

    @property
    def world(self) -> Settings:
        return Settings(data_dir=self.root / WORLD, seed=self.seed, timezone=self.clock.timezone)

    @property
    def tracking_uri(self) -> str:
        return tracking.default_tracking_uri(self.root)

    def save(self, *, prepared: bool) -> None:
        """Written when `prepare` starts (the directory is then the simulation's to empty
        again) and when it has finished (only then does `load` accept it)."""
        document = {
            "prepared": prepared,
            "customers": self.customers,
            "history_days": self.history_days,
            "seed": self.seed,
            "start": self.clock.start.isoformat(),
            "rounds": self.clock.rounds,
            "timezone": self.clock.timezone,
        }
        (self.root / WORKSPACE_FILE).write_text(json.dumps(document, indent=2) + "\n")

    @classmethod
    def load(cls, root: Path) -> Workspace:
        path = root / WORKSPACE_FILE
        if not path.exists():
            raise PowerhallError(f"{root} is not a simulation workspace (no {WORKSPACE_FILE})")
        doc = json.loads(path.read_text())
        if not doc.get("prepared"):
            raise PowerhallError(f"{root}: its preparation did not finish; prepare it again")
        clock = Clock(date.fromisoformat(doc["start"]), doc["rounds"], doc["timezone"])
        return cls(root, clock, doc["customers"], doc["history_days"], doc["seed"])


def claim_directory(directory: Path) -> None:
    """Empty `directory` for a new workspace or run; refuse one this module did not write."""
    if directory.exists() and any(directory.iterdir()):
        if not any((directory / marker).exists() for marker in (WORKSPACE_FILE, RUN_FILE)):
            raise PowerhallError(f"{directory} is not empty and not a simulation's: refusing")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)


def last_sunday(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def prepare(
    root: Path,
    *,
    customers: int,
    rounds: int,
    seed: int,
    history_days: int = HISTORY_DAYS,
    timezone: str = LOCAL_TIMEZONE,
    models: Sequence[str] = RETRAIN,
    progress: Progress = quiet,
) -> Workspace:
    """Generate the world and deploy powerhall on what is known at the first round, with
    `models` trained (without tariff_fit there is no tariff advice to push)."""
    if customers < 1:
        raise PowerhallError(f"customers must be at least 1, got {customers}")
    if history_days < 1:
        raise PowerhallError(f"history_days must be at least 1, got {history_days}")
    if unknown := sorted(set(models) - set(RETRAIN)):
        raise PowerhallError(f"the simulation trains {', '.join(RETRAIN)}, not {unknown}")
    end = last_sunday(DEFAULT_END)
    clock = Clock.ending(end, rounds, timezone)
    claim_directory(root)
    workspace = Workspace(root, clock, customers, history_days, seed)
    workspace.save(prepared=False)
    world = workspace.world
    progress(f"generating {customers} customers, {history_days} days before {clock.start}")
    generate(
        customers=customers,
        days=history_days + rounds * ROUND_DAYS,
        seed=seed,
        out=world.raw_dir,
        end=end,
    )
    progress(f"ingesting what is known on {clock.start}")
    arrive(
        world.raw_dir,
        world.lake_dir,
        world.quarantine_dir,
        since=None,
        until=clock.start,
        clock=clock,
    )
    deploy(
        world,
        workspace.tracking_uri,
        models=models,
        at=clock.local(clock.start),
        progress=progress,
    )
    store = open_store(world)
    apply_definitions(store)
    materialize(store, world, full=True)
    workspace.save(prepared=True)
    return workspace


def deploy(
    settings: Settings,
    tracking_uri: str,
    *,
    models: Sequence[str],
    at: datetime,
    progress: Progress = quiet,
    plots: bool = True,
) -> dict[str, dict[str, str]]:
    """The nightly pipeline after the lake is up to date: every profile snapshot rebuilt,
    `models` retrained through the gate, everyone scored at `at`. Returns each model's
    new version and the gate's verdict. `plots` False: the training runs log their
    metrics and models without plots (the rounds' retraining: nobody looks at each)."""
    progress("building every profile snapshot")
    build_profiles(settings.lake_dir, settings.offline_dir, timezone=settings.timezone)
    gated = {}
    for name in models:
        progress(f"training {name}")
        if name == tips.NAME:
            result: Any = tips.train_tips(settings, tracking_uri=tracking_uri, plots=plots)
        elif name == tariff_fit.NAME:
            result = tariff_fit.train_tariff_fit(settings, tracking_uri=tracking_uri, plots=plots)
        else:
            raise PowerhallError(f"the simulation retrains {', '.join(RETRAIN)}, not {name!r}")
        gated[name] = {
            "version": result.version,
            "alias": result.decision.alias,
            "reason": result.decision.reason,
        }
    progress("scoring every customer")
    score(settings, scored_at=at, tracking_uri=tracking_uri)
    return gated
