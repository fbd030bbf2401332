"""Where MLflow keeps runs and models.

Embedded default: a SQLite tracking and registry store `mlruns/mlflow.db` with artifacts
under `mlruns/artifacts`, both relative to the working directory (the repository when run
from `make`), so that `mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db` opens the
demo runs. `MLFLOW_TRACKING_URI` points everything at a real server instead; its
artifact store is then the server's.
"""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path
from typing import Final

MLRUNS_DIR: Final = Path("mlruns")
ENV_VAR: Final = "MLFLOW_TRACKING_URI"


def default_tracking_uri(root: Path | None = None) -> str:
    base = (root or Path.cwd()) / MLRUNS_DIR
    return f"sqlite:///{(base / 'mlflow.db').resolve()}"


def tracking_uri() -> str:
    return os.environ.get(ENV_VAR) or default_tracking_uri()


def _artifact_location(uri: str, experiment: str) -> str | None:
    """Artifacts beside an embedded SQLite store; None lets a server choose its own."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri.removeprefix("sqlite:///"))
    return (database.parent / "artifacts" / experiment).resolve().as_uri()


def configure(uri: str | None = None) -> str:
    """Point MLflow's tracking and registry at `uri` (default: see module doc); return it."""
    import mlflow

    uri = uri or tracking_uri()
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def use_experiment(name: str) -> str:
    """Select (creating if needed) the experiment `name`; return its id."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        experiment_id = mlflow.create_experiment(
            name, artifact_location=_artifact_location(mlflow.get_tracking_uri(), name)
        )
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


def pip_requirements() -> list[str]:
    """The pinned packages a logged model needs to load (every model here is LightGBM +
    scikit-learn + pandas behind an MLflow pyfunc)."""
    return [f"{name}=={version(name)}" for name in ("mlflow", "lightgbm", "scikit-learn", "pandas")]
