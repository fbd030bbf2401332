"""Prometheus metrics of one app, in a registry of its own.

A registry per app (not the process-global default) lets tests build many apps in one
process, and keeps `/metrics` to what this service measures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "powerhall_request_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.suggestions_served = Counter(
            "powerhall_suggestions_served",
            "Suggestions shown to customers, by kind and channel.",
            ["kind", "channel"],
            registry=self.registry,
        )
        self.degraded_answers = Counter(
            "powerhall_degraded_answers",
            "Answers built from segment defaults because the online store was unreachable.",
            ["channel"],
            registry=self.registry,
        )
        self.model_version = Gauge(
            "powerhall_model_version",
            "Champion model versions in use (value 1 for the loaded version).",
            ["model", "version"],
            registry=self.registry,
        )
        self._versions: dict[str, str] = {}
        self.outbox_depth = Gauge(
            "powerhall_outbox_depth",
            "Push messages waiting in the outbox for the dispatcher.",
            registry=self.registry,
        )

    def set_model_versions(self, versions: Mapping[str, str]) -> None:
        """Replace the versions shown: a version no longer loaded drops to 0 (clearing
        labels is not possible in the multiprocess mode Feast switches on)."""
        for model, version in self._versions.items():
            if versions.get(model) != version:
                self.model_version.labels(model=model, version=version).set(0)
        for model, version in versions.items():
            self.model_version.labels(model=model, version=version).set(1)
        self._versions = dict(versions)

    def watch_outbox(self, depth: Callable[[], float]) -> None:
        """Read the outbox depth at scrape time (the dispatcher may run elsewhere)."""
        self.outbox_depth.set_function(depth)
