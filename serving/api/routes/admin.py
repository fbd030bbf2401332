"""Administration: reload champion models without a restart."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.deps import AdminDep, MetricsDep, SuggesterDep
from serving.errors import ERROR_RESPONSES
from serving.schemas import ModelsReloaded

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post("/models/reload", response_model=ModelsReloaded)
def reload_models(_: AdminDep, suggester: SuggesterDep, metrics: MetricsDep) -> ModelsReloaded:
    """Load the champions from the registry by alias; a model that fails to load keeps
    its last good version (listed under `failed`)."""
    loaded = suggester.reload_models()
    metrics.set_model_versions(suggester.model_versions)
    return ModelsReloaded(
        model_versions=suggester.model_versions,
        loaded=loaded,
        failed=suggester.reload_failures,
    )
