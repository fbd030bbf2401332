"""Per-call cost of `Suggester.suggest`, against building a plain dict of the same answer.

    .venv/bin/python benchmarks/bench_suggest.py --calls 2000

The service must reach at least half a bare FastAPI endpoint's throughput (DESIGN.md,
Performance notes), so the engine's share of a request has to stay small. Each path is
timed over `--calls` calls, each for a different customer with its own numbers:
- scores: the batch scores carry everything (risks, tariff advice, `top_tips`): the hot path;
- app: the same with a contact history (shown, outcomes, pushes) to check for the app;
- live tips: scores without `top_tips`, every profile different: the catalogue evaluated
  on one row per call (a cache miss each time);
- online: a real-time event newer than the scores: the complaint champion scores the row;
- dict: a dict literal of the same size (three suggestions, one risk, the summary): the
  floor of building any answer in Python.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from features.online import Profile
from powerhall.settings import ContactPolicy
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue
from serving.suggestions.champions import Champion, Champions
from serving.suggestions.engine import Suggester
from serving.suggestions.model import Channel, ContactHistory, CustomerRecord, Feedback, Shown
from training import complaint
from training.model import RiskModel

from results import Row, record

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
TIPS = ["tip-ac-26c", "tip-solar-water-heater", "tip-led-lighting", "tip-standby-power"]


def customer(i: int) -> CustomerRecord:
    return CustomerRecord(
        customer_id=f"C{i:07d}",
        account_no=f"A{i:08d}",
        segment="residential",
        region="shanghai",
        hall_id="H01",
        tariff_id="shanghai-res-tiered",
        contract_capacity_kva=None,
        has_app=True,
        push_consent=True,
        phone="13812345678",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
        closed_at=None,
    )


def features(i: int, rng: np.random.Generator, *, top_tips: bool) -> dict[str, Any]:
    saving = float(rng.uniform(50, 800))
    values: dict[str, Any] = {
        "kwh_365d": float(rng.uniform(1500, 9000)),
        "reading_days_365d": 360,
        "valley_share_365d": float(rng.uniform(0.1, 0.5)),
        "peak_share_365d": float(rng.uniform(0.2, 0.5)),
        "night_share_365d": float(rng.uniform(0.05, 0.3)),
        "evening_share_365d": float(rng.uniform(0.2, 0.5)),
        "has_ev_charger": bool(rng.random() < 0.2),
        "ev_charging_days_share_90d": float(rng.uniform(0, 0.5)),
        "has_air_conditioning": bool(rng.random() < 0.6),
        "summer_shoulder_ratio_365d": float(rng.uniform(0.9, 2.0)),
        "has_electric_heating": bool(rng.random() < 0.3),
        "winter_shoulder_ratio_365d": float(rng.uniform(0.9, 2.0)),
        "avg_bill_cny_365d": float(rng.uniform(80, 600)),
        "bills_365d": 12,
        "complaint_risk_30d": float(rng.uniform(0, 0.4)),
        "complaint_reasons": json.dumps(
            [{"feature": "outages_30d", "value": 2, "zh-CN": "近30天停电2次", "en": "2 outages"}]
        ),
        "best_tariff_id": "shanghai-res-tou",
        "best_tariff_saving_cny_365d": saving,
        "best_tariff_saving_p10_cny": saving * 0.6,
        "best_tariff_saving_p90_cny": saving * 1.4,
        "best_tariff_acceptance": float(rng.uniform(0.05, 0.5)),
        "best_tariff_bill_risk_cny": float(rng.uniform(0, 200)),
        "tariff_advice": "switch",
        "scores_model_versions": "complaint:5,tips:2,tariff_fit:3",
        "days_since_last_outage": float(rng.uniform(0, 60)),
        "days_since_last_complaint": None,
        "outages_7d": int(rng.integers(0, 2)),
        "outages_30d": int(rng.integers(0, 3)),
        "complaints_365d": int(rng.integers(0, 2)),
        "last_outage_at": NOW - timedelta(days=float(rng.uniform(0, 60))),
    }
    if top_tips:
        chosen = rng.choice(TIPS, 3, replace=False)
        values["top_tips"] = json.dumps(
            [
                {
                    "tip_id": t,
                    "score": float(rng.random()),
                    "saving_cny_365d": float(rng.uniform(10, 300)),
                }
                for t in chosen
            ]
        )
    return values


def profile(i: int, values: dict[str, Any], *, stale: bool) -> Profile:
    scored = NOW - timedelta(days=1)
    live = scored + timedelta(hours=1) if stale else scored - timedelta(days=3)
    return Profile(
        f"C{i:07d}", values, {"consumption": scored, "scores": scored, "service_live": live}
    )


def tiny_champion() -> Champion:
    """A calibrated complaint model on the complaint drivers, fitted on random rows."""
    rng = np.random.default_rng(1)
    names = tuple(complaint.DRIVERS)
    frame = pd.DataFrame(rng.gamma(1.0, 1.0, (4000, len(names))), columns=list(names))
    labels = (rng.random(4000) < 1 / (1 + np.exp(3 - frame[names[0]]))).astype(int)
    model = RiskModel.fit(names, frame[:2000], labels[:2000], frame[2000:], labels[2000:], seed=1)
    return Champion("complaint", "5", model, frozenset({"residential", "commercial", "industrial"}))


def history() -> ContactHistory:
    return ContactHistory(
        shown=tuple(
            Shown(f"s{i}", "tip", TIPS[i % 4], "app", NOW - timedelta(days=40 + i))
            for i in range(8)
        ),
        outcomes=(
            Feedback("s1", "tip", "tip-led-lighting", "declined", NOW - timedelta(days=200)),
        ),
        pushes=(NOW - timedelta(days=12),),
    )


def raw_answer(i: int, values: dict[str, Any]) -> dict[str, Any]:
    """The same answer built as a dict literal, its numbers formatted as the engine does."""
    saving = values["best_tariff_saving_cny_365d"]
    suggestion = {
        "suggestion_id": f"id-{i}",
        "kind": "tariff",
        "item_id": "shanghai-res-tou",
        "rank": 1,
        "title": "为您推荐峰谷分时电价",
        "message": f"预计每年节省约 ¥{saving:,.0f}（¥{saving * 0.6:,.0f}–¥{saving * 1.4:,.0f}）。",
        "script": f"每年大约能省 {saving:,.0f} 元。",
        "reasons": [{"code": "tariff_saving", "text": f"每年约省 ¥{saving:,.0f}"}] * 3,
        "saving_cny": saving,
        "saving_p10_cny": saving * 0.6,
        "saving_p90_cny": saving * 1.4,
        "confidence": 0.6,
        "expected_value": saving * 0.3,
    }
    return {
        "customer_id": f"C{i:07d}",
        "channel": "counter",
        "suggestions": [suggestion, dict(suggestion, rank=2), dict(suggestion, rank=3)],
        "risks": [
            {
                "name": "complaint",
                "probability": values["complaint_risk_30d"],
                "level": "low",
                "reasons": [],
            }
        ],
        "model_versions": {"complaint": "5", "scoring": "batch"},
        "degraded": False,
        "cold_start": False,
        "excluded": dict.fromkeys(
            ("accepted", "declined_kind", "recently_shown", "one_per_kind"), 0
        ),
        "profile_summary": {name: values.get(name) for name in ("kwh_365d", "avg_bill_cny_365d")},
    }


def timed(calls: int, run: Callable[[int], object]) -> np.ndarray:
    run(0)  # warm-up: first-call costs are not per-request costs
    out = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        run(i)
        out[i] = time.perf_counter_ns() - start
    return out / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    n = args.calls
    rng = np.random.default_rng(7)
    champions = Champions(names=("complaint",), loader=lambda name: tiny_champion())
    champions.reload()
    suggester = Suggester(
        catalogue=Catalogue(load_tips(), load_catalogue()),
        policy=ContactPolicy(),
        timezone="Asia/Shanghai",
        defaults={},
        champions=champions,
    )
    customers = [customer(i) for i in range(n + 1)]
    scored = [features(i, rng, top_tips=True) for i in range(n + 1)]
    unranked = [features(i, rng, top_tips=False) for i in range(n + 1)]
    fresh = [profile(i, scored[i], stale=False) for i in range(n + 1)]
    live = [profile(i, unranked[i], stale=False) for i in range(n + 1)]
    stale = [profile(i, scored[i], stale=True) for i in range(n + 1)]
    empty, contacts = ContactHistory(), history()

    def ask(
        profiles: list[Profile], channel: Channel, past: ContactHistory
    ) -> Callable[[int], object]:
        return lambda i: suggester.suggest(
            customers[i], profiles[i], past, channel=channel, now=NOW
        )

    paths = {
        "scores (counter)": timed(n, ask(fresh, Channel.COUNTER, empty)),
        "scores (app, history)": timed(n, ask(fresh, Channel.APP, contacts)),
        "live tips": timed(n, ask(live, Channel.COUNTER, empty)),
        "online scoring": timed(n, ask(stale, Channel.COUNTER, empty)),
        "dict literal": timed(n, lambda i: raw_answer(i, scored[i])),
    }
    floor = np.median(paths["dict literal"])
    print(f"Suggester.suggest, {n} calls per path (ms per call)")
    print(f"{'path':<24}{'p50':>9}{'p99':>9}{'x dict p50':>12}")
    rows = []
    for name, ms in paths.items():
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"{name:<24}{p50:>9.3f}{p99:>9.3f}{p50 / floor:>12.1f}")
        if name != "dict literal":
            rows.append(
                Row(
                    f"Suggester.suggest, {name}, p50",
                    float(p50),
                    "ms",
                    reference=float(floor),
                    reference_name="a dict literal of the same answer",
                    ratio=float(p50 / floor),
                )
            )
    record("suggest", rows, parameters=vars(args))


if __name__ == "__main__":
    main()
