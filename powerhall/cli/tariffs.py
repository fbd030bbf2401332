"""`powerhall tariffs`: list the shipped tariffs, bill readings, compare tariffs for a customer."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table as RichTable

from powerhall.console import make_console
from powerhall.contract import Region, Segment, Table
from powerhall.errors import ContractError, NotFoundError
from powerhall.lake import read_table
from powerhall.settings import get_settings
from powerhall.tariffs import Tariff, bill, compare_tariffs, load_catalogue, load_tariff

app = typer.Typer(
    help="Tariffs: list, bill readings, compare for a customer.", no_args_is_help=True
)

COMPARE_DAYS = 365


@app.command("list")
def list_tariffs(
    region: Annotated[Region | None, typer.Option(help="Only this region.")] = None,
    segment: Annotated[Segment | None, typer.Option(help="Only this segment.")] = None,
) -> None:
    """Show the shipped tariffs, with their source and whether figures are illustrative."""
    table = RichTable("id", "name", "segment", "region", "kind", "effective", "figures")
    for tariff in load_catalogue():
        if (region and tariff.region != region) or (segment and tariff.segment != segment):
            continue
        table.add_row(
            tariff.id,
            tariff.name,
            tariff.segment,
            tariff.region,
            _kind(tariff),
            tariff.effective_from.isoformat(),
            "illustrative" if tariff.illustrative else "published",
        )
    make_console().print(table)


@app.command("bill")
def bill_command(
    tariff: Annotated[str, typer.Option(help="A tariff file (.yaml) or a shipped tariff id.")],
    readings: Annotated[Path, typer.Option(help="Readings table, .csv or .parquet.")],
    customer: Annotated[str | None, typer.Option(help="Bill only this customer_id.")] = None,
    from_: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")
    ] = None,
    to: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day.")] = None,
    fill_missing: Annotated[
        bool, typer.Option(help="Fill missing hours (same hour's mean in that month).")
    ] = False,
    capacity_kva: Annotated[
        float | None, typer.Option(help="Contract capacity for capacity-based tariffs.")
    ] = None,
) -> None:
    """Print one itemised bill per customer as JSON."""
    chosen = _tariff(tariff)
    frame = _read_readings(readings)
    if customer is not None:
        frame = frame[frame["customer_id"].astype(str) == customer]
        if frame.empty:
            raise NotFoundError(f"{readings}: no readings for customer {customer}")
    frame = _between(frame, from_, to)
    capacities = None
    if capacity_kva is not None:
        capacities = pd.Series(capacity_kva, index=frame["customer_id"].astype(str).unique())
    bills = bill(chosen, frame, contract_capacity_kva=capacities, fill_missing=fill_missing)
    typer.echo(json.dumps([b.model_dump(mode="json") for b in bills], ensure_ascii=False, indent=2))


@app.command("compare")
def compare_command(
    customer: Annotated[str, typer.Option(help="The customer_id to compare tariffs for.")],
    lake: Annotated[
        Path | None, typer.Option(help="Lake directory (default: settings lake_dir).")
    ] = None,
    fill_missing: Annotated[
        bool, typer.Option(help="Fill missing hours (same hour's mean in that month).")
    ] = False,
) -> None:
    """Rank the customer's eligible tariffs by the bill of their last 12 months."""
    lake = lake or get_settings().lake_dir
    profile = _customer(lake, customer)
    frame = _last_year(lake, customer)
    catalogue = load_catalogue()
    eligible = catalogue.eligible(segment=profile["segment"], region=profile["region"])
    if not eligible:
        raise NotFoundError(
            f"no tariff in the catalogue for segment {profile['segment']} "
            f"and region {profile['region']}"
        )
    capacity = profile["contract_capacity_kva"]
    ranking = compare_tariffs(
        eligible,
        frame,
        current_tariff_id=profile["tariff_id"],
        contract_capacity_kva=None if pd.isna(capacity) else pd.Series({customer: capacity}),
        fill_missing=fill_missing,
    )
    first, last = frame["date"].min(), frame["date"].max()
    console = make_console()
    console.print(
        f"Customer {customer} ({profile['segment']}, {profile['region']}), "
        f"current tariff {profile['tariff_id']}, readings {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    )
    table = RichTable("rank", "tariff", "name", "annual bill (CNY)", "saving (CNY)", "missing h")
    for row in ranking.itertuples():
        current = " (current)" if row.tariff_id == profile["tariff_id"] else ""
        saving = "-" if pd.isna(row.saving_cny) else f"{row.saving_cny:,.2f}"
        table.add_row(
            str(row.rank),
            f"{row.tariff_id}{current}",
            row.name,
            f"{row.total_cny:,.2f}",
            saving,
            str(row.missing_hours),
        )
    console.print(table)


def _kind(tariff: Tariff) -> str:
    parts = ["tiered"] if tariff.tiers else []
    parts.append("time-of-use" if tariff.is_time_of_use else "all-day price")
    if tariff.demand_charge:
        parts.append(f"two-part ({tariff.demand_charge.basis})")
    return ", ".join(parts)


def _tariff(reference: str) -> Tariff:
    path = Path(reference)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        return load_tariff(path)
    return load_catalogue().get(reference)


def _read_readings(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise NotFoundError(f"readings file {path} does not exist")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path, dtype={"customer_id": str})
    except (OSError, ValueError) as exc:
        raise ContractError(f"readings file {path}: cannot read it ({exc})") from exc
    raise ContractError(f"readings file {path}: expected a .csv or .parquet file")


def _between(frame: pd.DataFrame, first: date | None, last: date | None) -> pd.DataFrame:
    if first is None and last is None:
        return frame
    try:
        days = pd.to_datetime(frame["date"])
    except (KeyError, ValueError) as exc:
        raise ContractError(f"readings: cannot read the date column ({exc})") from exc
    keep = pd.Series(True, index=frame.index)
    if first is not None:
        keep &= days >= pd.Timestamp(first)
    if last is not None:
        keep &= days <= pd.Timestamp(last)
    return frame[keep]


def _customer(lake: Path, customer: str) -> dict[str, object]:
    columns = ["segment", "region", "tariff_id", "contract_capacity_kva"]
    rows = read_table(lake, Table.CUSTOMERS, columns, where="customer_id = ?", params=[customer])
    if rows.empty:
        raise NotFoundError(f"customer {customer} is not in the lake at {lake}")
    return rows.iloc[0].to_dict()


def _last_year(lake: Path, customer: str) -> pd.DataFrame:
    """The customer's readings of the last 365 days up to their latest reading."""
    frame = read_table(lake, Table.READINGS, where="customer_id = ?", params=[customer])
    if frame.empty:
        raise NotFoundError(f"customer {customer} has no readings in the lake at {lake}")
    since = frame["date"].max() - pd.Timedelta(days=COMPARE_DAYS)
    return frame[frame["date"] > since]
