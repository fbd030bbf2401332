"""Materialization: a first run writes everyone, later runs only what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from features.materialize import materialize
from features.online import OnlineProfiles
from features.store import apply_definitions, open_store
from powerhall.settings import Settings


@pytest.fixture
def own_data(built: Settings, tmp_path: Path) -> Settings:
    """A private copy of the built offline tables, free to edit."""
    shutil.copytree(built.offline_dir, tmp_path / "features")
    return Settings(data_dir=tmp_path)


def test_runs_after_the_first_move_only_changes(own_data: Settings) -> None:
    store = open_store(own_data)
    apply_definitions(store)
    first = {r.view: r for r in materialize(store, own_data)}
    assert first["consumption"].written == first["consumption"].customers == 8
    assert "scores" not in first  # training has not written scores yet

    again = materialize(store, own_data)
    assert {r.view: r.written for r in again} == dict.fromkeys(first, 0)

    table = own_data.offline_dir / "consumption" / "part-00000.parquet"
    frame = pd.read_parquet(table)
    latest = frame["event_timestamp"] == frame["event_timestamp"].max()
    frame.loc[latest & (frame["customer_id"] == "C0002"), "kwh_90d"] = 123.0
    frame.to_parquet(table)
    changed = {r.view: r.written for r in materialize(store, own_data)}
    assert changed["consumption"] == 1 and changed["billing"] == 0
    assert OnlineProfiles(store).get("C0002").features["kwh_90d"] == 123.0

    full = materialize(store, own_data, views=["billing"], full=True)
    assert [(r.view, r.written) for r in full] == [("billing", 8)]
