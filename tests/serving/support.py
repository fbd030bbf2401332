"""Helpers for the serving tests."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def metric_value(client: TestClient, sample: str, **labels: str) -> float:
    """A sample of `/metrics` (0 when absent).

    Feast switches prometheus_client to its multiprocess value store when imported, and
    that store keys values by name and labels per process: apps built in one test process
    share values (a labelled series starts from what earlier apps counted). Tests compare
    a series before and after, once it exists in the app, never with a constant.
    """
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for found in family.samples:
            if found.name == sample and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0
