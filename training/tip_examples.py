"""Tips training examples: past tip suggestions with what was known when they were shown.

Past tips were shown one per suggestion, at random among the tips of the customer's
segment. Each row is one shown tip carrying the customer's latest weekly profile snapshot
strictly before it was shown (before the cutoff for a test tip), the tariff of the
customer's last bill known then, and the catalogue's view of the tip for that customer
(eligible, estimated yuan per year, that saving as a share of the yearly bill). Label:
accepted (1) or not (0); the other outcomes (clicked, dismissed, declined, ignored) are
not graded: none of them says the customer acted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd

from powerhall.contract import Outcome, SuggestionKind, Table
from powerhall.errors import ContractError, PowerhallError
from powerhall.lake import read_table
from powerhall.settings import Settings
from powerhall.tariffs import load_catalogue
from powerhall.tips import TipCatalogue, customer_prices, tariff_facts
from training.datasets import (
    KEYS,
    MIN_HISTORY_DAYS,
    data_bounds,
    derive_features,
    load_profiles,
    truth_table,
)

TIP: Final = "tip_id"
SHOWN_AT: Final = "shown_at"
LABEL: Final = "label"
ORACLE: Final = "oracle"
ELIGIBLE: Final = "eligible"
SAVING: Final = "saving_cny_365d"
SHARE: Final = "saving_share_of_bill"
QUERY: Final = "query"
"""Training groups: the tips shown to one segment in one month. A customer sees about one
tip a year, so grouping by customer leaves few pairs to learn from; a model that orders
tips well across customers of a segment orders each customer's tips well too."""
TEST_WEEKS: Final = 26
"""Half a year of test suggestions: a customer sees about one tip a year, so a shorter
window leaves too few customers with two tips to rank."""
RESPONSE_DAYS: Final = 7
"""A suggestion counts once the customer has had this long to act on it inside the data."""
CUSTOMER_FEATURES: Final = ("is_commercial", "is_industrial")
"""Beside the profile features the catalogue reads. How a customer answered earlier tips
is left out on purpose: it says how responsive the customer is, which moves all its tips
alike and so cannot reorder them, while between two tips of one query it would tell the
later one the earlier one's outcome, a leak no served ranking has."""
TIP_FEATURES: Final = (ELIGIBLE, SAVING, SHARE)


def customer_features(catalogue: TipCatalogue) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*catalogue.features(), *CUSTOMER_FEATURES]))


def tariffs_at(settings: Settings, rows: pd.DataFrame) -> pd.Series:
    """Each row's tariff on the customer's last bill whose month ended by `event_timestamp`."""
    bills = read_table(
        settings.lake_dir, Table.BILLS, columns=["customer_id", "period", "tariff_id"]
    )
    month_end = pd.PeriodIndex(bills["period"], freq="M").end_time.normalize() + pd.Timedelta(
        days=1
    )
    known = pd.DataFrame(
        {
            "customer_id": bills["customer_id"].astype(object),
            "known_at": month_end.tz_localize(settings.timezone).tz_convert("UTC").as_unit("ns"),
            "tariff_id": bills["tariff_id"].to_numpy(),
        }
    ).sort_values("known_at", kind="stable")
    left = pd.DataFrame(
        {
            "customer_id": rows["customer_id"].astype(object),
            "event_timestamp": rows["event_timestamp"].dt.tz_convert("UTC").dt.as_unit("ns"),
        }
    ).reset_index()
    matched = pd.merge_asof(
        left.sort_values("event_timestamp", kind="stable"),
        known,
        left_on="event_timestamp",
        right_on="known_at",
        by="customer_id",
        direction="backward",
    ).set_index("index")
    return matched["tariff_id"].reindex(rows.index)


def catalogue_view(
    profiles: pd.DataFrame, tariff_ids: pd.Series, catalogue: TipCatalogue
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows x tips) eligibility and estimated yuan per year, priced with each row's tariff."""
    facts = tariff_facts(load_catalogue())
    prices = customer_prices(facts, tariff_ids)
    return catalogue.eligible(profiles), catalogue.estimate_savings(profiles, prices)


def tip_rows(
    profiles: pd.DataFrame,
    tips: np.ndarray,
    eligible: pd.DataFrame,
    savings: pd.DataFrame,
    features: Sequence[str],
    positions: np.ndarray,
) -> pd.DataFrame:
    """Rows (customer, tip): profile row `positions[i]` with tip `tips[i]` and its tip features."""
    columns = {tip: j for j, tip in enumerate(eligible.columns)}
    tip_column = np.array([columns[t] for t in tips], dtype=np.int64)
    customer = profiles.iloc[positions]
    saving = savings.to_numpy()[positions, tip_column]
    bill = 12 * customer["avg_bill_cny_365d"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            TIP: tips,
            ELIGIBLE: eligible.to_numpy()[positions, tip_column].astype(float),
            SAVING: saving,
            SHARE: np.divide(saving, bill, out=np.full(len(saving), np.nan), where=bill > 0),
        }
    )
    for name in features:
        out[name] = customer[name].to_numpy(dtype=float)
    return out


@dataclass(frozen=True)
class TipExamples:
    """Shown tips with their point-in-time features, and the same snapshots' tip views."""

    frame: pd.DataFrame
    profiles: pd.DataFrame
    eligible: pd.DataFrame
    savings: pd.DataFrame
    features: tuple[str, ...]
    data_end: date
    cutoff: date


def tip_shows(settings: Settings) -> pd.DataFrame:
    shows = read_table(
        settings.lake_dir,
        Table.SUGGESTION_OUTCOMES,
        columns=["suggestion_id", "customer_id", "item_id", "channel", "shown_at", "outcome"],
        where="kind = ?",
        params=[str(SuggestionKind.TIP)],
    ).rename(columns={"item_id": TIP})
    if shows.empty:
        raise PowerhallError(f"{settings.lake_dir}: no tip suggestions to learn from")
    return shows


def snapshot_before(shows: pd.DataFrame, snapshots: pd.DataFrame, as_of: pd.Series) -> pd.Series:
    """Each show's customer's latest profile snapshot time strictly before `as_of` (NaT: none)."""
    left = pd.DataFrame(
        {"customer_id": shows["customer_id"].astype(object), SHOWN_AT: as_of.dt.as_unit("ns")}
    ).reset_index()
    right = pd.DataFrame(
        {
            "customer_id": snapshots["customer_id"].astype(object),
            "event_timestamp": snapshots["event_timestamp"].dt.as_unit("ns"),
        }
    ).sort_values("event_timestamp", kind="stable")
    matched = pd.merge_asof(
        left.sort_values(SHOWN_AT, kind="stable"),
        right,
        left_on=SHOWN_AT,
        right_on="event_timestamp",
        by="customer_id",
        direction="backward",
        allow_exact_matches=False,
    ).set_index("index")
    return matched["event_timestamp"].reindex(shows.index)


def default_cutoff(data_end: date) -> date:
    return data_end + timedelta(days=1) - timedelta(weeks=TEST_WEEKS)


def build_examples(settings: Settings, catalogue: TipCatalogue, cutoff: date) -> TipExamples:
    """Every tip shown with enough history before it and time to answer after it.

    A tip shown before the cutoff gets the snapshot before it was shown; one shown from the
    cutoff on gets the snapshot before the cutoff, the one a batch scoring at the cutoff
    would have ranked the customer's tips with: nothing of the test window leaks in.
    """
    start, end = data_bounds(settings.lake_dir)
    shows = tip_shows(settings)
    unknown = sorted(set(shows[TIP]) - set(catalogue.ids))
    if unknown:
        raise ContractError(f"tips shown in the past are not in the catalogue: {unknown}")
    profiles = load_profiles(settings.offline_dir)
    at = pd.Timestamp(cutoff, tz="UTC")
    shows["event_timestamp"] = snapshot_before(shows, profiles, shows[SHOWN_AT].clip(upper=at))
    earliest = pd.Timestamp(start + timedelta(days=MIN_HISTORY_DAYS), tz="UTC")
    answered_by = pd.Timestamp(end + timedelta(days=1 - RESPONSE_DAYS), tz="UTC")
    shows = shows[
        shows["event_timestamp"].notna()
        & (shows["event_timestamp"] >= earliest)
        & (shows[SHOWN_AT] < answered_by)
    ]
    if shows.empty:
        raise PowerhallError(
            f"no tip suggestions with {MIN_HISTORY_DAYS} days of history before them and "
            f"{RESPONSE_DAYS} days to answer in the data ({start} to {end})"
        )
    snapshots = shows[list(KEYS)].drop_duplicates()
    profiles["event_timestamp"] = profiles["event_timestamp"].dt.as_unit("ns")
    profiles = profiles.merge(snapshots, on=list(KEYS), how="inner")
    customers = read_table(
        settings.lake_dir,
        Table.CUSTOMERS,
        columns=["customer_id", "segment", "contract_capacity_kva", "created_at"],
    )
    profiles = derive_features(profiles, customers, settings.timezone).reset_index(drop=True)
    eligible, savings = catalogue_view(profiles, tariffs_at(settings, profiles), catalogue)
    position = pd.Series(
        np.arange(len(profiles)), index=pd.MultiIndex.from_frame(profiles[list(KEYS)])
    )
    positions = position.reindex(pd.MultiIndex.from_frame(shows[list(KEYS)])).to_numpy()
    features = customer_features(catalogue)
    frame = tip_rows(profiles, shows[TIP].to_numpy(), eligible, savings, features, positions)
    frame.index = shows.index
    frame = pd.concat([shows.drop(columns=[TIP]), frame], axis=1)
    frame["position"] = positions
    month = frame[SHOWN_AT].dt.tz_convert(settings.timezone).dt.strftime("%Y-%m")
    frame[QUERY] = profiles["segment"].to_numpy()[positions] + "/" + month
    frame[LABEL] = (frame["outcome"] == str(Outcome.ACCEPTED)).astype(int)
    frame[ORACLE] = oracle(frame, settings)
    frame = frame.sort_values(["customer_id", SHOWN_AT], kind="stable").reset_index(drop=True)
    return TipExamples(
        frame=frame,
        profiles=profiles,
        eligible=eligible,
        savings=savings,
        features=(*TIP_FEATURES, *features),
        data_end=end,
        cutoff=cutoff,
    )


def oracle(rows: pd.DataFrame, settings: Settings) -> pd.Series:
    """The true acceptance probability each shown tip's outcome was drawn from (NaN: unknown)."""
    truth = truth_table(settings, "suggestions", suggestion_id=sorted(rows["suggestion_id"]))
    if truth is None:
        return pd.Series(np.nan, index=rows.index)
    keyed = truth.set_index("suggestion_id")["p_accept"]
    return pd.Series(keyed.reindex(rows["suggestion_id"]).to_numpy(dtype=float), index=rows.index)


@dataclass(frozen=True)
class TipSplit:
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: date

    def window(self) -> dict[str, str]:
        return {
            f"{part}_{end}": str(getattr(self, part)[SHOWN_AT].agg(end))
            for part in ("train", "test")
            for end in ("min", "max")
        } | {"cutoff": self.cutoff.isoformat()}


def split(examples: TipExamples) -> TipSplit:
    """Train on tips shown (and given time to answer) before the cutoff, test on the rest."""
    cut = examples.cutoff
    at = pd.Timestamp(cut, tz="UTC")
    frame = examples.frame
    train = frame[frame[SHOWN_AT] < at - pd.Timedelta(days=RESPONSE_DAYS)]
    test = frame[frame[SHOWN_AT] >= at]
    if train[LABEL].nunique() < 2 or test.empty:
        raise PowerhallError(
            f"cutoff {cut} leaves {len(train)} training and {len(test)} test tip suggestions "
            f"(shown {frame[SHOWN_AT].min().date()} to {frame[SHOWN_AT].max().date()}): "
            "both need some, training with accepted and declined tips"
        )
    return TipSplit(train=train, test=test, cutoff=cut)


def informative(test: pd.DataFrame) -> pd.DataFrame:
    """Test queries (a customer's test tips) holding an accepted and a not-accepted tip."""
    by_customer = test.groupby("customer_id")[LABEL]
    mixed = by_customer.transform("max").astype(bool) & ~by_customer.transform("min").astype(bool)
    return test[mixed.to_numpy()]


def current_tariffs(settings: Settings, profiles: pd.DataFrame) -> pd.Series:
    """The tariff of each row's last bill by its snapshot, else the customer's contract."""
    contracts = read_table(settings.lake_dir, Table.CUSTOMERS, columns=["customer_id", "tariff_id"])
    contract = profiles["customer_id"].map(contracts.set_index("customer_id")["tariff_id"])
    return tariffs_at(settings, profiles).fillna(contract)
