"""Bills are the tariff engine's, under a tariff each customer may choose."""

from __future__ import annotations

import pandas as pd

from powerhall.tariffs import bill_by_month, load_catalogue
from tests.powerhall.synthetic.generated import Generated, local_day


def test_every_tariff_is_one_the_customer_is_eligible_for(generated: Generated) -> None:
    catalogue = load_catalogue()
    customers = generated.table("customers").set_index("customer_id")
    bills = generated.table("bills")
    for customer in customers.itertuples():
        eligible = {
            t.id for t in catalogue.eligible(segment=customer.segment, region=customer.region)
        }
        assert customer.tariff_id in eligible
        assert set(bills.loc[bills["customer_id"] == customer.Index, "tariff_id"]) <= eligible


def test_bills_match_the_engine_on_the_written_readings(generated: Generated) -> None:
    catalogue = load_catalogue()
    customers = generated.table("customers").set_index("customer_id")
    readings = generated.table("readings")
    bills = generated.table("bills")
    for tariff_id, billed in bills.groupby("tariff_id"):
        ids = billed["customer_id"].unique()
        engine = bill_by_month(
            catalogue.get(tariff_id),
            readings[readings["customer_id"].isin(ids)],
            contract_capacity_kva=customers.loc[ids, "contract_capacity_kva"],
            fill_missing=True,
        )
        merged = billed.merge(engine, on=["customer_id", "period"], suffixes=("", "_engine"))
        assert len(merged) == len(billed), tariff_id
        pd.testing.assert_series_equal(
            merged["amount_cny"], merged["amount_cny_engine"], check_names=False
        )
        pd.testing.assert_series_equal(merged["kwh"], merged["kwh_engine"], check_names=False)


def test_an_accepted_offer_switches_the_tariff_next_month(generated: Generated) -> None:
    outcomes = generated.table("suggestion_outcomes")
    accepted = outcomes[(outcomes["kind"] == "tariff") & (outcomes["outcome"] == "accepted")]
    bills = generated.table("bills").set_index(["customer_id", "period"])["tariff_id"]
    switched = 0
    for offer in accepted.itertuples():
        following = str(local_day(pd.Series([offer.shown_at])).iloc[0].to_period("M") + 1)
        if (offer.customer_id, following) in bills.index:
            assert bills[(offer.customer_id, following)] == offer.item_id
            switched += 1
    assert switched >= 3


def test_some_bills_are_paid_late_or_not_at_all(generated: Generated) -> None:
    bills = generated.table("bills")
    paid_day = local_day(bills["paid_at"])
    late = paid_day > pd.to_datetime(bills["due_date"])
    assert 0.02 < late.mean() < 0.3
    assert 0 < bills["paid_at"].isna().mean() < 0.15
