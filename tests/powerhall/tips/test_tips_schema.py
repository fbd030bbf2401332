"""Bad catalogues are refused with an error that names the file, the tip and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from powerhall.tips import TipsError, load_tips

_TIP: dict[str, Any] = {
    "id": "tip-test",
    "segments": ["residential"],
    "title": {"zh-CN": "标题", "en": "Title"},
    "message": {"zh-CN": "内容", "en": "Message"},
    "script": {"zh-CN": "话术", "en": "Script"},
    "conditions": [{"feature": "has_ev_charger", "op": "==", "value": True}],
    "saving": {"kind": "share_of_kwh", "share": 0.05, "price": "energy"},
}


def _write(tmp_path: Path, tips: list[dict[str, Any]], **top: Any) -> Path:
    path = tmp_path / "tips.yaml"
    path.write_text(yaml.safe_dump({**top, "tips": tips}, allow_unicode=True), encoding="utf-8")
    return path


def _tip(**changes: Any) -> dict[str, Any]:
    tip = copy.deepcopy(_TIP)
    tip.update(changes)
    return tip


def test_a_valid_file_loads(tmp_path: Path) -> None:
    guards = [{"feature": "kwh_365d", "op": ">=", "value": 300}]
    catalogue = load_tips(_write(tmp_path, [_tip()], guards=guards))
    assert catalogue.ids == ["tip-test"]
    assert catalogue.features() == ["kwh_365d", "has_ev_charger"]


@pytest.mark.parametrize(
    ("tip", "expected"),
    [
        (_tip(message={"zh-CN": "内容"}), r"tip tip-test\.message\.en: Field required"),
        (_tip(title={"zh-CN": "标题", "en": "  "}), r"tip tip-test\.title\.en"),
        (_tip(segments=[]), r"tip tip-test\.segments"),
        (_tip(segments=["household"]), r"tip tip-test\.segments\.0"),
        (_tip(colour="green"), r"tip tip-test\.colour: unknown key"),
        (
            _tip(saving={"kind": "magic", "share": 0.1}),
            r"tip tip-test\.saving: .*share_of_kwh",
        ),
        (
            _tip(saving={"kind": "share_of_kwh", "share": 1.5, "price": "energy"}),
            r"tip tip-test\.saving\.share: Input should be less than or equal to 1",
        ),
        (
            _tip(saving={"kind": "share_of_kwh", "share": 0.1, "price": "gold"}),
            r"tip tip-test\.saving\.price",
        ),
        (
            _tip(conditions=[{"feature": "has_ev_charger", "op": ">=", "value": True}]),
            r"tip tip-test\.conditions\.0: .*only be compared with == or !=",
        ),
        (
            _tip(conditions=[{"feature": "kwh_365d", "op": "~", "value": 1}]),
            r"tip tip-test\.conditions\.0\.op",
        ),
        (
            _tip(conditions=[{"feature": "kwh_365d", "op": ">", "value": "import os"}]),
            r"tip tip-test\.conditions\.0\.value",
        ),
        (_tip(id="ev tip"), r"tip ev tip\.id: String should match"),
    ],
)
def test_a_bad_tip_is_refused(tmp_path: Path, tip: dict[str, Any], expected: str) -> None:
    path = _write(tmp_path, [tip])
    with pytest.raises(TipsError, match=rf"tips file {path}: .*{expected}"):
        load_tips(path)


def test_a_repeated_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TipsError, match=r"tips\.1\.id: 'tip-test' is the id of an earlier tip"):
        load_tips(_write(tmp_path, [_tip(), _tip()]))


def test_an_unknown_feature_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, [_tip()], guards=[{"feature": "kwh_3650d", "op": ">", "value": 1}])
    with pytest.raises(TipsError, match=r"guards: unknown feature 'kwh_3650d'") as error:
        load_tips(path, known_features={"kwh_365d"})
    assert "tip tip-test: unknown feature 'has_ev_charger'" in str(error.value)


def test_an_empty_catalogue_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TipsError, match="tips: List should have at least 1 item"):
        load_tips(_write(tmp_path, []))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- just\n- a list\n", "expected a mapping"),
        ("tips: [", "not valid YAML"),
        ("guards: []\nguards: []\ntips: []\n", "key 'guards' appears twice"),
    ],
)
def test_a_file_that_is_not_a_catalogue(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "tips.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TipsError, match=expected):
        load_tips(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TipsError, match="cannot read it"):
        load_tips(tmp_path / "absent.yaml")
