"""The simulated answers are the generator's own: its tips' and offers' true acceptance."""

from __future__ import annotations

import pandas as pd
import pytest

from powerhall.contract import Table
from powerhall.errors import PowerhallError
from powerhall.synthetic import TRUTH_DIR
from serving.suggestions.model import Channel
from simulation.truth import Truth, response_delay_hours, uniform
from simulation.workspace import Workspace


@pytest.fixture(scope="module")
def truth(workspace: Workspace) -> Truth:
    return Truth(workspace.world.raw_dir, workspace.clock.timezone)


def test_tips_answer_with_their_true_acceptance_and_benefit(
    truth: Truth, workspace: Workspace
) -> None:
    at = workspace.clock.local(workspace.clock.start)
    propensity = pd.read_parquet(workspace.world.raw_dir / TRUTH_DIR / "tip_propensity")
    for row in propensity.sample(50, random_state=1).itertuples(index=False):
        app = truth.respond(row.customer_id, "tip", row.tip_id, Channel.APP, at)
        counter = truth.respond(row.customer_id, "tip", row.tip_id, Channel.COUNTER, at)
        assert (app.p_accept, counter.p_accept) == (row.p_accept_app, row.p_accept_counter)
        assert app.benefit_cny_year == row.benefit_cny_year and app.priced


def test_tariff_offers_answer_as_the_generators_offers_did(
    truth: Truth, workspace: Workspace
) -> None:
    """The generator's past offers, asked again: the same saving, the same probability."""
    raw = workspace.world.raw_dir
    offers = pd.read_parquet(raw / TRUTH_DIR / "suggestions").query("kind == 'tariff'")
    shown = pd.read_parquet(raw / Table.SUGGESTION_OUTCOMES.value)[
        ["suggestion_id", "channel", "shown_at"]
    ]
    offers = offers.merge(shown, on="suggestion_id")
    assert len(offers) > 20
    for row in offers.itertuples(index=False):
        channel = Channel(row.channel)
        answer = truth.respond(row.customer_id, "tariff", row.item_id, channel, row.shown_at)
        assert answer.priced
        assert answer.p_accept == pytest.approx(row.p_accept, abs=1e-9)
        assert answer.benefit_cny_year == pytest.approx(row.benefit_cny_year, abs=1e-6)


def test_what_the_truth_does_not_price_is_worth_nothing(truth: Truth, workspace: Workspace) -> None:
    at = workspace.clock.local(workspace.clock.start)
    propensity = pd.read_parquet(workspace.world.raw_dir / TRUTH_DIR / "tip_propensity")
    worthless = propensity[propensity["benefit_cny_year"] == 0].iloc[0]
    customer = worthless["customer_id"]
    for kind, item in (
        ("bill_alert", "bill-alert"),
        ("tip", "tip-not-in-the-truth"),
        ("tariff", truth.tariff_at(customer, at)),  # stay on the current tariff
    ):
        answer = truth.respond(customer, kind, item, Channel.APP, at)
        assert answer.p_accept == pytest.approx(worthless["p_accept_app"], abs=1e-12)
        assert (answer.benefit_cny_year, answer.priced) == (0.0, False)
    with pytest.raises(PowerhallError, match="not in the hidden truth"):
        truth.respond("C99999999", "tip", "tip-ac-26c", Channel.APP, at)


def test_draws_depend_on_what_they_decide_only() -> None:
    assert uniform(7, "answer", 1, "C1", "tip", "t") == uniform(7, "answer", 1, "C1", "tip", "t")
    assert uniform(7, "answer", 1, "C1", "tip", "t") != uniform(7, "answer", 2, "C1", "tip", "t")
    draws = [uniform(7, "u", i) for i in range(4000)]
    assert 0.48 < sum(draws) / len(draws) < 0.52
    tariff = [response_delay_hours("tariff", i) for i in range(4000)]
    assert 18 < sum(tariff) / len(tariff) < 22, "the generator's offers answer in 20 h"
