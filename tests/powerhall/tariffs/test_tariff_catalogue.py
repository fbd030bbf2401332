"""The shipped tariffs: published figures exact, C&I files illustrative, eligibility."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from powerhall.contract import Region, Segment
from powerhall.errors import NotFoundError, TariffError
from powerhall.tariffs import load_catalogue, shipped_directory

# shared/reference/tariffs-cn.md: tier bounds, flat prices; TOU peak hours, peak and valley prices
PUBLISHED = {
    Region.SHANGHAI: (
        ([3120, 4800], [0.617, 0.667, 0.917]),
        ((6, 22), [0.617, 0.677, 0.977], [0.307, 0.337, 0.487]),
    ),
    Region.ZHEJIANG: (
        ([2760, 4800], [0.538, 0.588, 0.838]),
        ((8, 22), [0.568, 0.618, 0.868], [0.288, 0.338, 0.588]),
    ),
    Region.JIANGSU: (
        ([2760, 4800], [0.5283, 0.5783, 0.8283]),
        ((8, 21), [0.5583, 0.6083, 0.8583], [0.3583, 0.4083, 0.6583]),
    ),
    Region.BEIJING: (([2880, 4800], [0.4883, 0.5383, 0.7883]), None),
}


@pytest.mark.parametrize("region", list(Region))
def test_residential_figures_are_the_published_ones(region: Region) -> None:
    (bounds, flat), time_of_use = PUBLISHED[region]
    catalogue = load_catalogue()

    tiered = catalogue.get(f"{region}-res-tiered")
    assert (tiered.tiers.reset, tiered.tiers.bounds_kwh) == ("year", bounds)
    assert tiered.prices_cny_per_kwh == {"all": flat}
    assert not tiered.illustrative
    if time_of_use is None:
        assert f"{region}-res-tou" not in catalogue
        return
    (peak_from, peak_to), peak, valley = time_of_use
    tou = catalogue.get(f"{region}-res-tou")
    assert tou.tiers.bounds_kwh == bounds
    assert tou.prices_cny_per_kwh == {"peak": peak, "valley": valley}
    is_peak = [tou.period_names[p] == "peak" for p in tou.hour_periods[0]]
    assert is_peak == [peak_from <= h < peak_to for h in range(24)]
    assert (tou.hour_periods == tou.hour_periods[0]).all()  # same hours all year


def test_every_region_has_the_commercial_and_industrial_kinds() -> None:
    catalogue = load_catalogue()

    for region in Region:
        com = catalogue.get(f"{region}-com-tou")
        capacity = catalogue.get(f"{region}-ind-capacity")
        demand = catalogue.get(f"{region}-ind-demand")
        assert com.demand_charge is None
        assert capacity.demand_charge.basis == "capacity_kva"
        assert demand.demand_charge.basis == "max_demand_kw"
        for tariff in (com, capacity, demand):
            assert tariff.illustrative
            assert "示例" in tariff.name and "illustrative" in tariff.name_en
            # sharp peak hours in some months only
            sharp = tariff.period_names.index("sharp")
            months_with_sharp = (tariff.hour_periods == sharp).any(axis=1)
            assert 0 < months_with_sharp.sum() < 12
            assert months_with_sharp[6] and months_with_sharp[7]  # July and August


def test_every_tariff_says_where_it_comes_from() -> None:
    tariffs = list(load_catalogue())

    assert len(tariffs) == 19
    for tariff in tariffs:
        assert tariff.source and tariff.name_en and tariff.effective_from
        assert tariff.id.startswith(f"{tariff.region}-")
        assert (shipped_directory() / f"{tariff.id}.yaml").is_file()


def test_eligible_only_the_customers_segment_and_region() -> None:
    catalogue = load_catalogue()

    eligible = catalogue.eligible(segment=Segment.INDUSTRIAL, region=Region.JIANGSU)

    assert [t.id for t in eligible] == ["jiangsu-ind-capacity", "jiangsu-ind-demand"]
    assert [t.id for t in catalogue.eligible(segment="residential", region="beijing")] == [
        "beijing-res-tiered"
    ]


def test_unknown_tariff_id() -> None:
    with pytest.raises(NotFoundError, match="unknown tariff 'nowhere-res-tou'"):
        load_catalogue().get("nowhere-res-tou")


def copy_shipped(tmp_path: Path) -> Path:
    directory = tmp_path / "tariffs"
    shutil.copytree(shipped_directory(), directory)
    return directory


def test_an_operator_directory_with_one_file_changed(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path)
    path = directory / "shanghai-com-tou.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("peak: [1.087]", "peak: [1.1]")
        .replace("illustrative: true", "illustrative: false"),
        encoding="utf-8",
    )

    tariff = load_catalogue(directory).get("shanghai-com-tou")

    assert tariff.prices_cny_per_kwh["peak"] == [1.1]
    assert not tariff.illustrative


def test_catalogue_files_need_region_and_source(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path)
    path = directory / "beijing-res-tiered.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("region: beijing\n", ""), encoding="utf-8"
    )

    with pytest.raises(TariffError, match=r"beijing-res-tiered.yaml: region: required"):
        load_catalogue(directory)


def test_catalogue_refuses_two_files_with_one_id(tmp_path: Path) -> None:
    directory = copy_shipped(tmp_path)
    shutil.copy(directory / "beijing-res-tiered.yaml", directory / "copy.yaml")

    with pytest.raises(TariffError, match="'beijing-res-tiered' is also the id in"):
        load_catalogue(directory)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        load_catalogue(tmp_path / "absent")
