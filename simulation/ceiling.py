"""The ceiling of acceptance: the most any policy could expect of its first pushes.

At the first campaign every policy meets the same customers with the same clean history,
so their pushes compare like with like. The hidden truth gives each customer's chance of
accepting every tip of the catalogue (eligible or not) and every switch to another tariff
of their segment and region; the best of them is the most that any policy, the oracle
included, could expect of one push to that customer. Its mean over the customers a policy
reached, against that policy's own expected acceptance (the truth's probability of what it
pushed), bounds the ratio any ranking can reach over it: if even the ceiling is not twice
the most-popular policy's, no ranking is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select

from powerhall.contract import SuggestionKind
from powerhall.errors import PowerhallError
from serving.db.engine import make_engine, session_factory
from serving.db.tables import Customer
from serving.suggestions import Channel
from serving.suggestions.candidates import Catalogue
from simulation.loop import SimulationRun
from simulation.truth import Truth

FIRST_CAMPAIGN = 1


@dataclass(frozen=True)
class Ceiling:
    """Per policy, over the customers it pushed in the first campaign: its expected
    acceptance and the ceiling's, the best probability of any item for each customer."""

    table: pd.DataFrame
    """policy, customers, expected (the mean probability of its pushes), ceiling."""

    def ceiling_over(self, policy: str) -> float:
        """The ceiling on `policy`'s customers against `policy`'s own expected acceptance."""
        row = self.table.set_index("policy").loc[policy]
        return float(row["ceiling"] / row["expected"])

    def expected_over(self, policy: str, other: str) -> float:
        """`policy`'s expected acceptance against `other`'s, in the first campaign."""
        rows = self.table.set_index("policy")
        return float(rows.loc[policy, "expected"] / rows.loc[other, "expected"])


def best_acceptance(truth: Truth, catalogue: Catalogue, customer: Customer, at: datetime) -> float:
    """The customer's highest true acceptance of any tip or any other tariff of their
    segment and region, pushed on the app at `at`."""
    options = [(SuggestionKind.TIP, tip_id) for tip_id in catalogue.tips.ids]
    options += [
        (SuggestionKind.TARIFF, tariff_id)
        for tariff_id, info in catalogue.tariffs.items()
        if (info.segment, info.region) == (customer.segment, customer.region)
        and tariff_id != customer.tariff_id
    ]
    return max(
        truth.respond(customer.customer_id, kind, item, Channel.APP, at).p_accept
        for kind, item in options
    )


def first_push_ceiling(
    run: SimulationRun, truth: Truth, catalogue: Catalogue, policies: Sequence[str]
) -> Ceiling:
    """Each policy's first campaign against the ceiling on the same customers."""
    first = run.pushes[run.pushes["campaign"] == FIRST_CAMPAIGN]
    if first.empty:
        raise PowerhallError("the run made no push in its first campaign")
    at = pd.Timestamp(first["at"].iloc[0]).to_pydatetime()
    reached = sorted(set(first["customer_id"]))
    engine = make_engine(next(iter(run.databases.values())))
    with session_factory(engine)() as session:
        customers = list(session.scalars(select(Customer).where(Customer.customer_id.in_(reached))))
    engine.dispose()
    best = {c.customer_id: best_acceptance(truth, catalogue, c, at) for c in customers}
    rows = []
    for policy in policies:
        mine = first[first["policy"] == policy]
        rows.append(
            {
                "policy": policy,
                "customers": int(mine["customer_id"].nunique()),
                "expected": float(mine["p_accept"].mean()) if len(mine) else float("nan"),
                "ceiling": float(mine["customer_id"].drop_duplicates().map(best).mean())
                if len(mine)
                else float("nan"),
            }
        )
    return Ceiling(pd.DataFrame(rows))
