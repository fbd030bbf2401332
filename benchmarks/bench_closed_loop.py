"""The closed loop (`powerhall simulate`): acceptance per policy after the rounds, and time.

    .venv/bin/python benchmarks/bench_closed_loop.py --customers 300 --rounds 3

Goals (issue 9): after 3 rounds the retrained engine's acceptance is at least 2x the
most-popular policy's and at least 0.8x the oracle's, with no more pushes than the contact
policy allows (read back from the push log); 300 customers and 3 rounds run in under 30 s.
Every ratio is measured in this one run, on the same customers and the same answers' draws.
The first campaign's expected acceptance (the truth's probability of what each policy
pushed, to the same customers with the same clean history) is set against the ceiling,
each customer's best item (`simulation.ceiling`): what no policy can exceed.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from powerhall.tips import load_tips
from serving.suggestions.candidates import Catalogue
from simulation.ceiling import first_push_ceiling
from simulation.loop import run
from simulation.policies import MOST_POPULAR, ORACLE, POLICIES, RETRAINED
from simulation.report import GOAL_VS_ORACLE, GOAL_VS_POPULAR, report
from simulation.truth import Truth
from simulation.workspace import HISTORY_DAYS, RETRAIN, Workspace, prepare

from results import Row, record

GOAL_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history-days", type=int, default=HISTORY_DAYS)
    parser.add_argument("--retrain", nargs="*", default=list(RETRAIN))
    parser.add_argument("--out", type=Path, help="Keep the workspace and run here.")
    parser.add_argument(
        "--workspace",
        type=Path,
        help="Reuse this prepared workspace (its customers, rounds and seed): only the rounds "
        "are run and timed.",
    )
    args = parser.parse_args()
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        began = time.perf_counter()
        if args.workspace is not None:
            workspace = Workspace.load(args.workspace)
            args.customers, args.rounds, args.seed = (
                workspace.customers,
                workspace.clock.rounds,
                workspace.seed,
            )
        else:
            workspace = prepare(
                root / "workspace",
                customers=args.customers,
                rounds=args.rounds,
                seed=args.seed,
                history_days=args.history_days,
            )
        prepared = time.perf_counter() - began
        simulated = run(
            workspace,
            root / "run",
            retrain=args.retrain,
            exploration_share=settings.exploration_share,
        )
        done = report(simulated, settings.contact_policy)
        total = time.perf_counter() - began
        ceiling = first_push_ceiling(
            simulated,
            Truth(workspace.world.raw_dir, workspace.clock.timezone),
            Catalogue(load_tips(), load_catalogue()),
            POLICIES,
        )
    pushes = simulated.pushes
    last = pushes[pushes["round"] == args.rounds]
    print(
        f"{'policy':<20} {'pushes':>7} {'acceptance':>11} {'last round':>11} {'expected':>9} "
        f"{'yuan/yr':>9}"
    )
    for policy in POLICIES:
        mine, mine_last = pushes[pushes["policy"] == policy], last[last["policy"] == policy]
        print(
            f"{policy:<20} {len(mine):>7} {mine['accepted'].mean():>11.3f} "
            f"{mine_last['accepted'].mean():>11.3f} {mine['p_accept'].mean():>9.3f} "
            f"{mine['benefit_cny_year'].sum():>9,.0f}"
        )
    rows = []
    for goal in done.goals:
        verdict = "met" if goal.met else "NOT met"
        print(f"{goal.what}: {goal.measured:.2f}x, goal >= {goal.goal:g}x: {verdict}")
        rows.append(
            Row(
                goal.what,
                goal.measured,
                "x",
                ratio=None if math.isnan(goal.measured) else goal.measured,
                goal=f">= {goal.goal:g}x",
                met=goal.met,
            )
        )
    first = ceiling.table.set_index("policy")
    print(
        "first campaign, expected acceptance on the same customers: "
        + ", ".join(f"{p} {first.loc[p, 'expected']:.3f}" for p in POLICIES)
        + f"; ceiling (each customer's best item) {first.loc[MOST_POPULAR, 'ceiling']:.3f} "
        f"= {ceiling.ceiling_over(MOST_POPULAR):.2f}x most_popular's"
    )
    first_rows = [
        Row(
            "first campaign: ceiling (best item for each customer) / most_popular, expected "
            "acceptance",
            ceiling.ceiling_over(MOST_POPULAR),
            "x",
            ratio=ceiling.ceiling_over(MOST_POPULAR),
        ),
        *(
            Row(
                f"first campaign: {policy} / most_popular, expected acceptance",
                ceiling.expected_over(policy, MOST_POPULAR),
                "x",
                ratio=ceiling.expected_over(policy, MOST_POPULAR),
            )
            for policy in (ORACLE, RETRAINED)
        ),
    ]
    loop = total - prepared
    print(
        f"caps held: {done.caps_held} (most in 7 days {done.caps['most_in_7_days'].max()}, "
        f"in 30 days {done.caps['most_in_30_days'].max()}); seconds: prepare {prepared:.1f}, "
        f"rounds and pipelines {loop:.1f}, total {total:.1f} (goal <= {GOAL_SECONDS:.0f})"
    )
    for name, seconds in simulated.seconds.items():
        print(f"  {name}: {seconds:.1f} s")
    record(
        f"closed_loop_{args.customers}",
        [
            *rows,
            *first_rows,
            Row(
                "push caps held (push log)",
                float(done.caps_held),
                "bool",
                goal="1",
                met=done.caps_held,
            ),
            Row(
                f"{args.customers} customers x {args.rounds} rounds, end to end",
                total,
                "s",
                goal=f"<= {GOAL_SECONDS:.0f} s",
                met=total <= GOAL_SECONDS,
            )
            if args.workspace is None
            else Row(
                f"{args.customers} customers x {args.rounds} rounds, prepared workspace", total, "s"
            ),
            Row(
                "of which deployment at the start (generate, ingest, build, train, score)"
                + (" (workspace reused: not run)" if args.workspace else ""),
                prepared,
                "s",
            ),
            *(Row(f"of which {name}", seconds, "s") for name, seconds in simulated.seconds.items()),
        ],
        parameters={
            **vars(args),
            "out": str(args.out),
            "workspace": str(args.workspace),
            "goals": f"retrained / most_popular >= {GOAL_VS_POPULAR}, "
            f"retrained / oracle >= {GOAL_VS_ORACLE}",
        },
        series={
            "rounds": done.table.to_dict(orient="records"),
            "first_campaign": ceiling.table.to_dict(orient="records"),
        },
    )


if __name__ == "__main__":
    main()
