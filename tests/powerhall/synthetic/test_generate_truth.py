"""Events and outcomes follow the hidden truth, and the truth is consistent with the data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from powerhall.contract import EventKind, Segment
from powerhall.synthetic.events import LONG_WAIT_MINUTES
from powerhall.synthetic.tips import TIP_IDS
from tests.powerhall.synthetic.generated import Generated, local_day


def _days_of(events: pd.DataFrame, kind: EventKind) -> pd.DataFrame:
    rows = events[events["kind"] == kind.value]
    return pd.DataFrame({"customer_id": rows["customer_id"], "day": local_day(rows["ts"])})


def test_complaints_are_more_likely_after_an_outage(generated: Generated) -> None:
    events = generated.table("service_events")
    outages = _days_of(events, EventKind.OUTAGE).drop_duplicates()
    complaints = _days_of(events, EventKind.COMPLAINT)
    pairs = outages.merge(complaints, on="customer_id", suffixes=("_outage", "_complaint"))
    gap = (pairs["day_complaint"] - pairs["day_outage"]).dt.days
    followed = pairs[(gap > 0) & (gap <= 30)][["customer_id", "day_outage"]].drop_duplicates()
    after_outage = len(followed) / len(outages)
    customer_days = len(generated.table("readings"))
    anytime = 1 - (1 - len(complaints) / customer_days) ** 30
    assert after_outage > 1.5 * anytime


def test_the_complaint_oracle_ranks_complainers_first(generated: Generated) -> None:
    daily = generated.truth("complaint_daily").sort_values(["customer_id", "date"])
    ahead = daily.groupby("customer_id")["complained"].transform(
        lambda s: s[::-1].rolling(30, min_periods=1).max()[::-1]
    )
    positive = daily.loc[ahead.astype(bool), "complaint_prob_30d"]
    negative = daily.loc[~ahead.astype(bool), "complaint_prob_30d"]
    assert len(positive) > 0
    assert positive.mean() > 1.5 * negative.mean()


def test_surveys_score_lower_after_a_long_wait(generated: Generated) -> None:
    events = generated.table("service_events").sort_values(["customer_id", "ts"])
    previous = events.groupby("customer_id")[["kind", "wait_minutes"]].shift()
    surveys = events["kind"] == EventKind.SURVEY.value
    after_visit = surveys & (previous["kind"] == EventKind.HALL_VISIT.value)
    long_wait = previous["wait_minutes"] > LONG_WAIT_MINUTES
    scores = events["satisfaction"].astype(float)
    assert scores[after_visit & long_wait].mean() < scores[after_visit & ~long_wait].mean() - 0.5


def test_only_businesses_churn_and_churners_leave_at_a_month_end(generated: Generated) -> None:
    truth = generated.truth("customers").set_index("customer_id")
    customers = generated.table("customers").set_index("customer_id")
    assert not truth.loc[truth["segment"] == Segment.RESIDENTIAL.value, "churned"].any()
    closed = customers["closed_at"].notna()
    assert closed.equals(truth["churned"])
    close_day = local_day(customers.loc[closed, "closed_at"])
    assert (close_day.dt.is_month_end).all()
    monthly = generated.truth("churn_monthly")
    assert monthly["churned"].sum() == closed.sum()
    leaving = monthly.loc[monthly["churned"], "churn_prob_90d"].mean()
    assert leaving > monthly.loc[~monthly["churned"], "churn_prob_90d"].mean()


def test_outcomes_follow_the_true_acceptance_probability(generated: Generated) -> None:
    outcomes = generated.table("suggestion_outcomes").merge(
        generated.truth("suggestions"), on=["suggestion_id", "customer_id", "kind", "item_id"]
    )
    assert len(outcomes) == len(generated.table("suggestion_outcomes"))
    accepted = outcomes["outcome"] == "accepted"
    assert outcomes.loc[accepted, "p_accept"].mean() > outcomes.loc[~accepted, "p_accept"].mean()
    assert outcomes["p_accept"].between(0, 1).all()


def test_tip_benefits_need_the_appliance(generated: Generated) -> None:
    truth = generated.truth("customers").set_index("customer_id")
    tips = generated.truth("tip_propensity")
    assert set(tips["tip_id"]) <= set(TIP_IDS)
    ev_tip = tips[tips["tip_id"] == "tip-ev-valley-charging"].set_index("customer_id")
    no_ev = ~truth.loc[ev_tip.index, "has_ev"]
    assert (ev_tip.loc[no_ev, "benefit_cny_year"] == 0).all()
    assert (ev_tip["p_accept_counter"] > 0).all()
    relevant = ev_tip["benefit_cny_year"] > 0
    assert (
        ev_tip.loc[relevant, "p_accept_app"].mean() > ev_tip.loc[~relevant, "p_accept_app"].mean()
    )


def test_tariff_offer_benefit_is_the_engine_bill_difference(generated: Generated) -> None:
    """An offer's true benefit: the last 12 months billed under the current tariff minus the
    same months under the offered one, as the engine billed them (truth/tariff_bills)."""
    offers = generated.truth("suggestions").query("kind == 'tariff'")
    outcomes = generated.table("suggestion_outcomes").set_index("suggestion_id")
    bills = generated.table("bills").set_index(["customer_id", "period"])["tariff_id"]
    options = generated.truth("tariff_bills").set_index(["customer_id", "tariff_id", "period"])
    checked = 0
    for offer in offers.itertuples():
        shown = local_day(outcomes.loc[[offer.suggestion_id], "shown_at"]).iloc[0]
        months = pd.period_range(shown.to_period("M") - 12, shown.to_period("M") - 1, freq="M")
        periods = [str(p) for p in months]
        current = bills.get((offer.customer_id, str(shown.to_period("M"))))  # in force then
        if current is None or current == offer.item_id:
            continue
        mine = options.loc[(offer.customer_id, current)]["amount_cny"].reindex(periods)
        theirs = options.loc[(offer.customer_id, offer.item_id)]["amount_cny"].reindex(periods)
        both = mine.notna() & theirs.notna()
        expected = (mine[both] - theirs[both]).sum() * 12 / both.sum()
        np.testing.assert_allclose(offer.benefit_cny_year, expected, rtol=1e-9, atol=1e-6)
        checked += 1
    assert checked >= 5
