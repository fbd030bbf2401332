"""The shipped catalogue: complete, bilingual, and in step with the generator and features."""

from __future__ import annotations

import pytest
import yaml

from features.profiles.catalogue import VIEWS
from powerhall.contract import Segment
from powerhall.errors import NotFoundError
from powerhall.synthetic.tips import TIP_IDS
from powerhall.tips import Language, TipCatalogue, load_tips, shipped_path


def test_shipped_catalogue_has_at_least_20_tips(tips: TipCatalogue) -> None:
    assert len(tips) >= 20


def test_ids_in_the_file_are_unique() -> None:
    raw = yaml.safe_load(shipped_path().read_text(encoding="utf-8"))
    ids = [tip["id"] for tip in raw["tips"]]
    assert len(ids) == len(set(ids)) == len(load_tips())


@pytest.mark.parametrize("lang", list(Language))
def test_every_tip_speaks_both_languages(tips: TipCatalogue, lang: Language) -> None:
    for tip in tips:
        text = tip.text(lang)
        assert text.title.strip() and text.message.strip() and text.script.strip(), tip.id


def test_chinese_and_english_texts_differ(tips: TipCatalogue) -> None:
    for tip in tips:
        assert tip.text("zh-CN").title != tip.text("en").title, tip.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in tip.text("zh-CN").message), tip.id


def test_unknown_language_is_refused(tips: TipCatalogue) -> None:
    with pytest.raises(ValueError, match="fr"):
        tips.get("tip-ac-26c").text("fr")


def test_the_generators_tips_are_all_in_the_catalogue(tips: TipCatalogue) -> None:
    assert set(TIP_IDS) <= set(tips.ids)
    assert len(tips) > len(TIP_IDS)


def test_every_segment_has_tips(tips: TipCatalogue) -> None:
    for segment in Segment:
        assert any(segment in tip.segments for tip in tips), segment


def test_the_catalogue_reads_only_profile_features() -> None:
    profile_features = {f.name for view in VIEWS for f in view.features}
    catalogue = load_tips(known_features=profile_features)
    assert set(catalogue.features()) <= profile_features


def test_get_an_unknown_tip() -> None:
    with pytest.raises(NotFoundError, match="tip-nope"):
        load_tips().get("tip-nope")
