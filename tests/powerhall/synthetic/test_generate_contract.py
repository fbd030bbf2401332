"""The generated files are the contract tables, with the contract's columns and types."""

from __future__ import annotations

import pyarrow.parquet as pq

from powerhall.contract import (
    CONTRACT_SCHEMAS,
    TABLE_COLUMNS,
    TABLE_KEYS,
    Channel,
    EventKind,
    Outcome,
    ReadingQuality,
    Region,
    Segment,
    SuggestionKind,
    Table,
)
from tests.powerhall.synthetic.generated import CUSTOMERS, Generated, local_day


def test_every_table_has_the_contract_columns_and_types(generated: Generated) -> None:
    for table in Table:
        schema = pq.read_schema(next((generated.out / table.value).glob("part-*.parquet")))
        assert tuple(schema.names) == TABLE_COLUMNS[table]
        assert schema.equals(CONTRACT_SCHEMAS[table]), table


def test_keys_are_unique_and_counts_match_the_manifest(generated: Generated) -> None:
    for table in Table:
        frame = generated.table(table.value)
        assert not frame.duplicated(list(TABLE_KEYS[table])).any(), table
        assert generated.manifest["rows"][table.value] == len(frame)
    assert len(generated.table("customers")) == CUSTOMERS


def test_values_come_from_the_contract_enums(generated: Generated) -> None:
    customers = generated.table("customers")
    assert set(customers["segment"]) <= {s.value for s in Segment}
    assert set(customers["region"]) == {r.value for r in Region}
    assert set(generated.table("readings")["quality"]) == {q.value for q in ReadingQuality}
    events = generated.table("service_events")
    assert set(events["kind"]) == {k.value for k in EventKind}
    assert set(events["channel"]) <= {c.value for c in Channel}
    outcomes = generated.table("suggestion_outcomes")
    assert set(outcomes["kind"]) == {SuggestionKind.TARIFF.value, SuggestionKind.TIP.value}
    assert set(outcomes["outcome"]) == {o.value for o in Outcome}


def test_identifiers_look_like_the_utility_s(generated: Generated) -> None:
    customers = generated.table("customers")
    assert customers["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert customers["account_no"].str.fullmatch(r"\d{10}").all()
    assert customers["account_no"].is_unique
    assert customers["hall_id"].str.fullmatch(r"(SH|ZJ|JS|BJ)-H\d{2}").all()


def test_only_business_rows_carry_demand_and_capacity(generated: Generated) -> None:
    customers = generated.table("customers").set_index("customer_id")
    readings = generated.table("readings")
    business = customers["segment"] != Segment.RESIDENTIAL.value
    assert customers.loc[business, "contract_capacity_kva"].gt(0).all()
    assert customers.loc[~business, "contract_capacity_kva"].isna().all()
    row_business = readings["customer_id"].map(business)
    assert readings.loc[~row_business, "max_demand_kw"].isna().all()
    assert readings.loc[row_business, "max_demand_kw"].notna().mean() > 0.95


def test_rows_stay_inside_each_contract(generated: Generated) -> None:
    customers = generated.table("customers").set_index("customer_id")
    local = customers[["created_at", "closed_at"]].apply(local_day)
    readings = generated.table("readings")
    dates = readings["date"].astype("datetime64[ns]")
    assert (dates >= readings["customer_id"].map(local["created_at"])).all()
    closed = readings["customer_id"].map(local["closed_at"])
    assert not (dates > closed).any()
    events = generated.table("service_events")
    event_day = local_day(events["ts"])
    assert not (event_day > events["customer_id"].map(local["closed_at"])).any()
