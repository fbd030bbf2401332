"""Segment defaults from the offline tables, and the answers built on them: cold start
(an unknown profile) and degraded (no profile at all), which never raise."""

from __future__ import annotations

import pandas as pd
import pytest

from features.online import Profile
from powerhall.settings import Settings
from serving.suggestions.candidates import Catalogue
from serving.suggestions.defaults import segment_profiles
from serving.suggestions.model import Channel, ContactHistory
from tests.serving.suggestions.conftest import make_suggester
from tests.serving.suggestions.factories import NOW, customer, unknown


@pytest.fixture(scope="module")
def defaults(built: Settings) -> dict:
    return segment_profiles(built)


def test_median_profile_per_segment(defaults: dict, latest_rows: pd.DataFrame, customers) -> None:
    rows = latest_rows.merge(customers[["customer_id", "segment"]], on="customer_id")
    assert set(defaults) == set(rows["segment"])
    for segment, group in rows.groupby("segment"):
        typical = defaults[segment]
        for name in ("kwh_365d", "valley_share_365d", "avg_bill_cny_365d", "reading_days_365d"):
            assert typical[name] == pytest.approx(group[name].median())
        share = group["has_ev_charger"].astype(float).mean()
        assert typical["has_ev_charger"] == (share >= 0.5)
        assert "last_outage_at" not in typical  # times have no typical value


def test_no_offline_tables_no_defaults(tmp_path) -> None:
    assert segment_profiles(Settings(data_dir=tmp_path)) == {}


def test_cold_start_answers_from_the_segment(catalogue: Catalogue, defaults: dict) -> None:
    suggester = make_suggester(catalogue, defaults=defaults)
    record = customer(tariff_id="shanghai-res-tou")
    answer = suggester.suggest(
        record, unknown(), ContactHistory(), channel=Channel.COUNTER, now=NOW
    )
    assert answer.cold_start and not answer.degraded
    kinds = {s.kind: s for s in answer.suggestions}
    assert kinds["tariff"].item_id == "insufficient_data"  # nothing known of their readings
    typical = catalogue.live_tips(defaults["residential"], "residential", "shanghai-res-tou")
    tip = kinds["tip"]
    assert tip.item_id == typical[0][0]
    saving = typical[0][1]
    assert tip.saving_cny == pytest.approx(saving, abs=0.01)
    assert [r.code for r in tip.reasons] == (["segment_typical"] if saving > 0 else [])
    assert tip.confidence == 0.3
    assert answer.risks == ()
    assert answer.model_versions == {"scoring": "none"}
    assert answer.profile_summary["profile"] == "new"
    assert answer.profile_summary["kwh_365d"] is None


def test_cold_start_without_any_data_offers_the_segments_tips(catalogue: Catalogue) -> None:
    suggester = make_suggester(catalogue)
    answer = suggester.suggest(
        customer(), unknown(), ContactHistory(), channel=Channel.APP, now=NOW
    )
    (tip,) = answer.suggestions
    generic = [tid for tid, _ in catalogue.generic_tips("residential")]
    assert tip.item_id == generic[0]
    assert tip.saving_cny is None and tip.confidence == 0.1


@pytest.mark.parametrize("segment", ["residential", "commercial", "industrial", "unknown"])
@pytest.mark.parametrize("channel", list(Channel))
def test_degraded_never_raises(
    catalogue: Catalogue, defaults: dict, segment: str, channel: Channel
) -> None:
    suggester = make_suggester(catalogue, defaults=defaults)
    record = customer(segment=segment, tariff_id="no-such-tariff")
    answer = suggester.suggest(record, None, ContactHistory(), channel=channel, now=NOW)
    assert answer.degraded and not answer.cold_start
    assert "tariff" not in {s.kind for s in answer.suggestions}
    assert answer.profile_summary["profile"] == "unavailable"


def test_degraded_tips_come_from_the_segment(catalogue: Catalogue, defaults: dict) -> None:
    suggester = make_suggester(catalogue, defaults=defaults)
    record = customer(tariff_id="shanghai-res-tou")
    answer = suggester.suggest(record, None, ContactHistory(), channel=Channel.COUNTER, now=NOW)
    cold = suggester.suggest(record, unknown(), ContactHistory(), channel=Channel.COUNTER, now=NOW)
    tips = [s for s in answer.suggestions if s.kind == "tip"]
    assert tips == [s for s in cold.suggestions if s.kind == "tip"]


def test_found_means_any_view_knows_the_customer() -> None:
    assert not unknown().found
    assert Profile("C1", {}, {"scores": None, "service_live": NOW}).found
