"""Bring your own table: train and evaluate a binary risk model on any CSV or Parquet table.

Data scientists bring features built elsewhere. Columns are typed once, at training, and
the same encoder travels inside the logged model, so that what is served reads the raw
table the way training did: numbers stay numbers, text columns that parse as dates become
numeric parts (year, month, day, weekday, days since 1970), other text becomes LightGBM
categories (one-hot for the logistic baseline), missing values stay missing. Rare
positives are up-weighted (`scale_pos_weight`, balanced logistic weights) and the booster
is then calibrated on a separate slice, so the probabilities stay honest; PR-AUC is
reported beside AUC because it is what moves when positives are rare.

There is no generator truth for a foreign table, so no oracle and no utility rule: the
baselines are the logistic regression and the uncalibrated booster.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import mlflow.pyfunc
import numpy as np
import pandas as pd

from powerhall.errors import ContractError
from training import tracking
from training.evaluate import classification_metrics, save_plots
from training.model import CalibrationMethod, RiskModel, fit_calibrated, lightgbm_params
from training.registry import GateDecision, register_and_gate

DATE_PARTS: Final = ("year", "month", "day", "weekday", "epoch_days")
DATE_SHARE: Final = 0.9
"""A text column is a date column when at least this share of its values parse as dates."""
PARTS: Final = (0.6, 0.2, 0.2)
"""Fit, calibrate and test shares of the rows."""
MIN_CHILD_ROWS: Final = 20
POSITIVE_LABELS: Final = frozenset({"1", "true", "yes", "y", "t"})
NEGATIVE_LABELS: Final = frozenset({"0", "false", "no", "n", "f"})


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame; ContractError naming the file when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ContractError(f"{path}: expected a .csv or .parquet file")
    try:
        return pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ContractError(f"{path}: cannot read it as {suffix.lstrip('.')}: {exc}") from exc


def binary_labels(values: pd.Series) -> np.ndarray:
    """0/1 from 0/1, booleans or yes/no-like text; ContractError for anything else."""
    name = values.name
    if values.isna().any():
        raise ContractError(f"label column {name!r} has {int(values.isna().sum())} missing values")
    text = values.astype(str).str.strip().str.lower().str.removesuffix(".0")
    distinct = set(text.unique())
    if not distinct <= POSITIVE_LABELS | NEGATIVE_LABELS or len(distinct) > 2:
        shown = sorted(map(str, values.unique()))[:5]
        raise ContractError(
            f"label column {name!r} is not binary: values {shown} "
            "(expected 0/1, true/false or yes/no)"
        )
    labels = text.isin(POSITIVE_LABELS).to_numpy(dtype=int)
    if labels.min() == labels.max():
        raise ContractError(f"label column {name!r} holds a single class")
    return labels


def _as_dates(values: pd.Series) -> pd.Series | None:
    """Parsed dates when the text column holds dates, else None."""
    present = values.dropna()
    if present.empty or pd.api.types.is_numeric_dtype(values):
        return None
    parsed = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    return parsed if parsed.notna().sum() >= DATE_SHARE * len(present) else None


@dataclass(frozen=True)
class TableEncoder:
    """The column typing learnt at training, applied again to every table the model scores."""

    numeric: tuple[str, ...]
    dates: tuple[str, ...]
    categories: dict[str, list[str]]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> TableEncoder:
        numeric, dates, categories = [], [], {}
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
                numeric.append(column)
            elif pd.api.types.is_datetime64_any_dtype(values) or _as_dates(values) is not None:
                dates.append(column)
            else:
                categories[column] = sorted(values.dropna().astype(str).unique())
        return cls(tuple(numeric), tuple(dates), categories)

    @property
    def columns(self) -> tuple[str, ...]:
        """The raw columns a table must have to be scored."""
        return (*self.numeric, *self.dates, *self.categories)

    @property
    def features(self) -> tuple[str, ...]:
        return (
            *self.numeric,
            *(f"{column}_{part}" for column in self.dates for part in DATE_PARTS),
            *self.categories,
        )

    def raw(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's input columns with one type each (float or text), as logged and served."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise ContractError(f"the table lacks the model's columns {missing}")
        out = pd.DataFrame(index=frame.index)
        for column in self.numeric:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        for column in (*self.dates, *self.categories):
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                values = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
            out[column] = values.astype(object).where(values.notna(), None)
            out[column] = out[column].map(lambda v: v if v is None else str(v))
        return out

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Model features: floats, date parts, and pandas categories with the training levels."""
        raw = self.raw(frame)
        out = {column: raw[column] for column in self.numeric}
        for column in self.dates:
            parsed = pd.to_datetime(raw[column], errors="coerce", format="mixed", utc=True)
            out |= {
                f"{column}_year": parsed.dt.year,
                f"{column}_month": parsed.dt.month,
                f"{column}_day": parsed.dt.day,
                f"{column}_weekday": parsed.dt.weekday,
                f"{column}_epoch_days": (parsed - pd.Timestamp(0, tz="UTC")).dt.days,
            }
        encoded = pd.DataFrame(out, index=frame.index).astype("float64")
        for column, levels in self.categories.items():
            encoded[column] = pd.Categorical(raw[column], categories=levels)
        return encoded[list(self.features)]


@dataclass
class TableModel:
    """Encoder plus calibrated LightGBM: scores a raw table, explains with TreeSHAP."""

    encoder: TableEncoder
    risk: RiskModel

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.risk.probability(self.encoder.transform(frame))

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.risk.raw_probability(self.encoder.transform(frame))


class TablePyfunc(mlflow.pyfunc.PythonModel):
    """`predict` takes the raw table columns and returns one column, `probability`."""

    def __init__(self, model: TableModel) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"probability": self.model.probability(model_input)})


@dataclass(frozen=True)
class TableSplit:
    fit: pd.Index
    calibrate: pd.Index
    test: pd.Index
    method: str


def split_rows(
    frame: pd.DataFrame, labels: np.ndarray, *, time: str | None, seed: int
) -> TableSplit:
    """By time when a time column is given (rows of one instant never straddle a boundary),
    else a seeded split stratified on the label."""
    if time is not None:
        moments = pd.to_datetime(frame[time], errors="coerce", format="mixed", utc=True)
        if moments.isna().any():
            raise ContractError(
                f"time column {time!r} has {int(moments.isna().sum())} values that are not dates"
            )
        fit_end, calibrate_end = moments.quantile([PARTS[0], PARTS[0] + PARTS[1]])
        parts = (moments < fit_end, (moments >= fit_end) & (moments < calibrate_end))
        test = moments >= calibrate_end
        split = TableSplit(
            fit=frame.index[parts[0]],
            calibrate=frame.index[parts[1]],
            test=frame.index[test],
            method=f"temporal by {time}: fit before {fit_end.date()}, "
            f"calibrate to {calibrate_end.date()}, test from {calibrate_end.date()}",
        )
    else:
        from sklearn.model_selection import train_test_split

        rest, test = train_test_split(
            frame.index, test_size=PARTS[2], stratify=labels, random_state=seed
        )
        rest_labels = pd.Series(labels, index=frame.index)[rest]
        fit, calibrate = train_test_split(
            rest,
            test_size=PARTS[1] / (PARTS[0] + PARTS[1]),
            stratify=rest_labels,
            random_state=seed,
        )
        split = TableSplit(
            fit=pd.Index(fit),
            calibrate=pd.Index(calibrate),
            test=pd.Index(test),
            method=f"random, stratified on the label (seed {seed}): no --time column given",
        )
    y = pd.Series(labels, index=frame.index)
    for part in ("fit", "calibrate", "test"):
        if y[getattr(split, part)].nunique() < 2:
            raise ContractError(
                f"the {part} rows ({split.method}) hold a single class: "
                "the table needs more positives"
            )
    return split


def logistic_baseline(encoder: TableEncoder, seed: int) -> Any:
    """Balanced logistic regression: numbers imputed and scaled, categories one-hot."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = [f for f in encoder.features if f not in encoder.categories]
    categories = list(encoder.categories)
    columns = ColumnTransformer(
        [
            (
                "numbers",
                make_pipeline(
                    SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()
                ),
                numbers,
            ),
            (
                "categories",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categories,
            ),
        ]
    )
    return make_pipeline(
        columns, LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
    )


def fit_table_model(
    encoder: TableEncoder,
    fit: pd.DataFrame,
    fit_labels: np.ndarray,
    calibrate: pd.DataFrame,
    calibrate_labels: np.ndarray,
    *,
    seed: int,
    method: CalibrationMethod = "isotonic",
) -> TableModel:
    positives = max(int(fit_labels.sum()), 1)
    params = lightgbm_params(seed) | {
        "min_child_samples": MIN_CHILD_ROWS,
        "scale_pos_weight": (len(fit_labels) - positives) / positives,
    }
    x_fit, x_calibrate = encoder.transform(fit), encoder.transform(calibrate)
    classifier, calibrated = fit_calibrated(
        params, x_fit, fit_labels, x_calibrate, calibrate_labels, method
    )
    return TableModel(encoder, RiskModel(encoder.features, classifier, calibrated))


@dataclass(frozen=True)
class TableResult:
    name: str
    run_id: str
    version: str
    split: str
    rows: dict[str, int]
    metrics: dict[str, dict[str, float]]
    decision: GateDecision
    columns: dict[str, list[str]]
    model: TableModel = field(repr=False)
    oracle: str = "none: a foreign table carries no generator truth"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "run_id": self.run_id,
            "version": self.version,
            "split": self.split,
            "rows": self.rows,
            "columns": self.columns,
            "metrics": self.metrics,
            "oracle": self.oracle,
            "decision": self.decision.as_dict(),
        }


def train_table(
    path: Path,
    *,
    label: str,
    id_column: str,
    time: str | None = None,
    name: str | None = None,
    seed: int = 7,
    calibration: CalibrationMethod = "isotonic",
    tracking_uri: str | None = None,
) -> TableResult:
    """One tracked run on a table: type the columns, split, fit, evaluate, register, gate."""
    import mlflow
    from mlflow.models import infer_signature

    frame = read_table(path)
    for role, column in (("label", label), ("id", id_column), ("time", time)):
        if column is not None and column not in frame.columns:
            raise ContractError(f"{path}: no {role} column {column!r} (columns: {list(frame)})")
    labels = binary_labels(frame[label])
    frame = frame.reset_index(drop=True)
    inputs = frame.drop(columns=[c for c in (label, id_column, time) if c is not None])
    if inputs.columns.empty:
        raise ContractError(f"{path}: no feature columns besides label, id and time")
    encoder = TableEncoder.fit(inputs)
    split = split_rows(frame, labels, time=time, seed=seed)
    y = pd.Series(labels, index=frame.index)
    model = fit_table_model(
        encoder,
        inputs.loc[split.fit],
        y[split.fit].to_numpy(),
        inputs.loc[split.calibrate],
        y[split.calibrate].to_numpy(),
        seed=seed,
        method=calibration,
    )
    past = split.fit.append(split.calibrate)
    logistic = logistic_baseline(encoder, seed).fit(
        encoder.transform(inputs.loc[past]), y[past].to_numpy()
    )
    test = inputs.loc[split.test]
    y_test = y[split.test].to_numpy()
    scores = {
        "logistic": logistic.predict_proba(encoder.transform(test))[:, 1],
        "lightgbm_uncalibrated": model.raw_probability(test),
        "lightgbm": model.probability(test),
    }
    metrics = {scorer: classification_metrics(y_test, s) for scorer, s in scores.items()}
    rows = {part: len(getattr(split, part)) for part in ("fit", "calibrate", "test")}
    rows |= {f"{part}_positives": int(y[getattr(split, part)].sum()) for part in list(rows)}
    columns = {
        "numeric": list(encoder.numeric),
        "dates": list(encoder.dates),
        "categorical": list(encoder.categories),
    }
    name = name or path.stem
    tracking.configure(tracking_uri)
    tracking.use_experiment(name)
    raw_test = encoder.raw(test)
    with mlflow.start_run(run_name=f"{name}-table") as run:
        mlflow.log_params(
            {
                "model": name,
                "table": str(path),
                "label": label,
                "id": id_column,
                "time": time or "",
                "split": split.method,
                "seed": seed,
                "calibration": calibration,
                "features": len(encoder.features),
                **{f"lgbm_{k}": v for k, v in model.risk.classifier.get_params().items()},
            }
        )
        mlflow.log_metrics(
            {f"{scorer}_{key}": value for scorer, m in metrics.items() for key, value in m.items()}
            | {f"rows_{part}": count for part, count in rows.items()}
        )
        encoded = encoder.transform(test.sample(n=min(len(test), 5000), random_state=seed))
        with tempfile.TemporaryDirectory() as tmp:
            for plot in save_plots(
                y_test,
                scores,
                importance=model.risk.importance(),
                contributions=model.risk.contributions(encoded),
                feature_values=encoded.apply(
                    lambda c: c.cat.codes.where(c.notna()) if c.dtype == "category" else c
                ).to_numpy(dtype=float),
                feature_names=encoder.features,
                out_dir=Path(tmp),
            ):
                mlflow.log_artifact(str(plot), artifact_path="plots")
        mlflow.log_dict(columns | {"features": list(encoder.features)}, "columns.json")
        mlflow.log_dict(metrics, "metrics.json")
        example = raw_test.head(5)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=TablePyfunc(model),
            signature=infer_signature(raw_test, pd.DataFrame({"probability": [0.5]})),
            input_example=example,
            pip_requirements=tracking.pip_requirements(),
        )
        model_version, decision = register_and_gate(
            info.model_uri,
            name,
            tags={"table": path.name, "run_id": run.info.run_id},
            features=raw_test,
            labels=y_test,
        )
    return TableResult(
        name=name,
        run_id=run.info.run_id,
        version=model_version,
        split=split.method,
        rows=rows,
        metrics=metrics,
        decision=decision,
        columns=columns,
        model=model,
    )
