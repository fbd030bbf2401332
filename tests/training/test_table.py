"""Bring your own table: a telecom-like table shaped nothing like the profiles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from powerhall.errors import ContractError
from powerhall.settings import get_settings
from training.cli import app
from training.registry import predict_probability
from training.table import TableEncoder, binary_labels, split_rows, train_table

ROWS = 3000


def telecom(rows: int = ROWS, seed: int = 3) -> pd.DataFrame:
    """Plans as text, dates as strings, missing values, about 3% churners."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "family", "unlimited", "biz"], rows, p=[0.4, 0.3, 0.2, 0.1])
    calls = rng.poisson(2, rows).astype(float)
    calls[rng.random(rows) < 0.1] = np.nan
    tenure = rng.gamma(2, 300, rows)
    logit = -5.0 + 2.0 * (plan == "basic") + 0.5 * np.nan_to_num(calls) - 0.001 * tenure
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    start = pd.Timestamp("2020-01-01")
    frame = pd.DataFrame(
        {
            "subscriber": [f"S{i:05d}" for i in range(rows)],
            "plan": plan,
            "signup": (start + pd.to_timedelta(rng.integers(0, 1500, rows), "D")).strftime(
                "%Y-%m-%d"
            ),
            "tenure_days": tenure,
            "support_calls": calls,
            "month": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), "D")
            ).strftime("%Y-%m-%d"),
            "churned": np.where(churned, "yes", "no"),
        }
    )
    frame.loc[rng.random(rows) < 0.05, "plan"] = None
    return frame


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "telco.csv"
    telecom().to_csv(path, index=False)
    return path


def test_columns_are_typed_as_numbers_dates_and_categories() -> None:
    encoder = TableEncoder.fit(telecom(200).drop(columns=["subscriber", "churned", "month"]))
    assert encoder.numeric == ("tenure_days", "support_calls")
    assert encoder.dates == ("signup",)
    assert list(encoder.categories) == ["plan"]
    encoded = encoder.transform(telecom(50, seed=9))
    assert encoded["plan"].dtype == "category"
    assert encoded["signup_year"].between(2020, 2024).all()
    assert encoded["support_calls"].isna().any()


def test_labels_must_be_binary() -> None:
    assert binary_labels(pd.Series(["yes", "no", "Yes"], name="y")).tolist() == [1, 0, 1]
    with pytest.raises(ContractError, match="not binary"):
        binary_labels(pd.Series([0, 1, 2], name="y"))
    with pytest.raises(ContractError, match="missing"):
        binary_labels(pd.Series([0, None, 1], name="y"))


def test_without_a_time_column_the_split_is_stratified_and_says_so() -> None:
    frame = telecom()
    labels = binary_labels(frame["churned"])
    split = split_rows(frame, labels, time=None, seed=1)
    assert "stratified" in split.method
    parts = [split.fit, split.calibrate, split.test]
    assert sum(map(len, parts)) == len(frame)
    assert not set(split.fit) & set(split.test)
    rates = [labels[part].mean() for part in parts]
    assert max(rates) - min(rates) < 0.005


def test_cli_trains_on_a_foreign_table_with_rare_positives(
    table: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    get_settings.cache_clear()
    args = ["train", "churn", "--table", str(table), "--label", "churned", "--id", "subscriber"]
    result = CliRunner().invoke(app, [*args, "--time", "month", "--name", "telco", "--json"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert run["name"] == "telco"
    assert run["split"].startswith("temporal by month")
    assert run["oracle"].startswith("none")
    assert run["columns"]["categorical"] == ["plan"]
    assert run["rows"]["test_positives"] > 0
    assert run["rows"]["fit_positives"] / run["rows"]["fit"] < 0.1
    assert {"logistic", "lightgbm"} <= set(run["metrics"])
    assert "oracle" not in run["metrics"]
    assert run["metrics"]["lightgbm"]["auc"] > 0.7
    assert 0 < run["metrics"]["lightgbm"]["pr_auc"] < 1

    test = pd.read_csv(table).sort_values("month").tail(20)
    served = predict_probability(f"models:/telco/{run['version']}", test)
    assert ((served >= 0) & (served <= 1)).all()
    unseen = predict_probability(f"models:/telco/{run['version']}", test.assign(plan="prepaid"))
    assert np.isfinite(unseen).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "nope", "--id", "subscriber"], "no label column 'nope'"),
        (["--label", "churned", "--id", "nope"], "no id column 'nope'"),
        (["--label", "tenure_days", "--id", "subscriber"], "not binary"),
    ],
)
def test_bad_columns_are_contract_errors(table: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["train", "churn", "--table", str(table), *args])
    assert isinstance(result.exception, ContractError)
    assert message in str(result.exception)


def test_an_unreadable_file_is_a_contract_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(ContractError, match=r"broken\.parquet"):
        train_table(broken, label="y", id_column="id")
