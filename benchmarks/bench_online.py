"""Online profile reads and online-store loading: powerhall against raw reads and Feast.

    .venv/bin/python benchmarks/bench_online.py --customers 20000 --reads 3000

Goals (issue 5): one customer's full profile through `features.online.OnlineProfiles`
within 1.5x the latency (p50 and p99) of a raw read of the same keys, with protobuf
decoding, from SQLite and from Redis (127.0.0.1:6379, skipped when not reachable).
Also printed: Feast's `get_online_features` for the same feature service, and the
materialization throughput of `features.materialize` against Feast's
`write_to_online_store` (DESIGN: Feast loads about 1,000 customers a second).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from feast import FeatureStore
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.redis import _mmh3
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto

from features.materialize import materialize
from features.online import OnlineProfiles
from features.profiles import VIEWS
from features.store import apply_definitions, open_store
from powerhall.settings import Settings

from results import Row, record

GOAL_RATIO = 1.5


def write_offline_tables(offline_dir: Path, customers: int, seed: int) -> None:
    """One snapshot of random values per customer and view: reads do not care what they hold."""
    rng = np.random.default_rng(seed)
    ids = [f"B{i:07d}" for i in range(customers)]
    stamp = pd.Timestamp("2025-01-06", tz="UTC")
    for view in VIEWS:
        columns: dict[str, object] = {"customer_id": ids, "event_timestamp": stamp}
        for f in view.features:
            if f.dtype == "float":
                columns[f.name] = rng.random(customers) * 100
            elif f.dtype == "int":
                columns[f.name] = rng.integers(0, 50, customers)
            elif f.dtype == "bool":
                columns[f.name] = rng.random(customers) < 0.3
            else:
                columns[f.name] = stamp - pd.to_timedelta(rng.integers(0, 10**7, customers), "s")
        (offline_dir / view.name).mkdir(parents=True, exist_ok=True)
        pd.DataFrame(columns).to_parquet(offline_dir / view.name / "part-0.parquet")


def _entity_bytes(store: FeatureStore, customer_id: str) -> bytes:
    key = EntityKeyProto(
        join_keys=["customer_id"], entity_values=[ValueProto(string_val=customer_id)]
    )
    return serialize_entity_key(key, entity_key_serialization_version=3)


def raw_sqlite_reader(store: FeatureStore, db: Path) -> Callable[[str], dict[str, ValueProto]]:
    import sqlite3

    con = sqlite3.connect(db)
    tables = [f"{store.project}_{fv.name}" for fv in store.list_feature_views()]

    def read(customer_id: str) -> dict[str, ValueProto]:
        key = _entity_bytes(store, customer_id)
        out: dict[str, ValueProto] = {}
        for table in tables:
            for name, blob in con.execute(
                f'SELECT feature_name, value FROM "{table}" WHERE entity_key = ?', (key,)
            ):
                value = ValueProto()
                value.ParseFromString(blob)
                out[name] = value
        return out

    return read


def raw_redis_reader(store: FeatureStore) -> Callable[[str], dict[str, ValueProto]]:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379)
    fields = [
        (f.name, _mmh3(f"{fv.name}:{f.name}"))
        for fv in store.list_feature_views()
        for f in fv.features
    ]
    hashes = [h for _, h in fields]

    def read(customer_id: str) -> dict[str, ValueProto]:
        key = _entity_bytes(store, customer_id) + store.project.encode()
        out: dict[str, ValueProto] = {}
        for (name, _), blob in zip(fields, client.hmget(key, hashes), strict=True):
            value = ValueProto()
            if blob:
                value.ParseFromString(blob)
            out[name] = value
        return out

    return read


def latencies_ms(read: Callable[[str], object], ids: list[str], reads: int) -> tuple[float, float]:
    for cid in ids[:50]:
        read(cid)  # warm caches and connections
    times = []
    for i in range(reads):
        began = time.perf_counter()
        read(ids[i % len(ids)])
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def compare(
    label: str, store: FeatureStore, raw: Callable[[str], object], ids: list[str], reads: int
) -> list[Row]:
    profiles = OnlineProfiles(store)
    ours = latencies_ms(profiles.get, ids, reads)
    base = latencies_ms(raw, ids, reads)
    feast_ms = latencies_ms(
        lambda cid: store.get_online_features(
            features=store.get_feature_service("customer_profile_v1"),
            entity_rows=[{"customer_id": cid, "request_at": pd.Timestamp.now(tz="UTC")}],
        ).to_dict(),
        ids,
        max(reads // 5, 100),
    )
    n = sum(len(fv.features) for fv in store.list_feature_views())
    print(f"\n{label}: one customer's profile ({n} stored features + on-demand)")
    print(f"  raw read + decode       p50 {base[0]:.3f} ms  p99 {base[1]:.3f} ms")
    print(f"  powerhall OnlineProfiles p50 {ours[0]:.3f} ms  p99 {ours[1]:.3f} ms")
    print(f"  feast get_online_features p50 {feast_ms[0]:.3f} ms  p99 {feast_ms[1]:.3f} ms")
    print(
        f"  ratio powerhall / raw    p50 {ours[0] / base[0]:.2f}  p99 {ours[1] / base[1]:.2f}"
        f"  (goal <= {GOAL_RATIO})"
    )
    return [
        Row(
            f"online profile read, {label}, {quantile}",
            ours[i],
            "ms",
            reference=base[i],
            reference_name=f"raw {label} read + decode",
            ratio=ours[i] / base[i],
            goal=f"<= {GOAL_RATIO}x raw",
            met=ours[i] / base[i] <= GOAL_RATIO,
        )
        for i, quantile in enumerate(("p50", "p99"))
    ] + [
        Row(
            f"Feast get_online_features, {label}, p50",
            feast_ms[0],
            "ms",
            reference=base[0],
            reference_name=f"raw {label} read + decode",
            ratio=feast_ms[0] / base[0],
        )
    ]


def loading(store: FeatureStore, settings: Settings, customers: int) -> Row:
    began = time.perf_counter()
    results = materialize(store, settings, full=True)
    ours = time.perf_counter() - began
    values = sum(len(fv.features) for fv in store.list_feature_views() if fv.name != "scores")
    sample = pd.read_parquet(settings.offline_dir / "consumption").head(min(customers, 5000))
    began = time.perf_counter()
    store.write_to_online_store("consumption", sample)
    feast_rate = len(sample) / (time.perf_counter() - began)
    consumption = len(
        next(fv for fv in store.list_feature_views() if fv.name == "consumption").features
    )
    print(f"\nmaterialize (full) of {customers:,} customers x {values} features: {ours:.1f} s")
    print(f"  powerhall               {customers / ours:,.0f} customers/s (all views)")
    per_value = (customers * values / ours) / (feast_rate * consumption)
    print(
        f"  feast write_to_online_store {feast_rate:,.0f} customers/s on one view of "
        f"{consumption} features; powerhall / feast per value {per_value:.1f}x"
    )
    print(f"  views written: {', '.join(f'{r.view}={r.written:,}' for r in results)}")
    return Row(
        f"materialize ({settings.feature_store} store), {customers:,} x {values} features",
        customers * values / ours,
        "values/s",
        reference=feast_rate * consumption,
        reference_name="Feast write_to_online_store",
        ratio=per_value,
    )


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-redis", action="store_true", help="SQLite only, even if Redis is up")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-online-") as tmp:
        settings = Settings(data_dir=Path(tmp))
        write_offline_tables(settings.offline_dir, args.customers, args.seed)
        ids = [f"B{i:07d}" for i in np.random.default_rng(1).integers(0, args.customers, 500)]

        store = open_store(settings)
        apply_definitions(store)
        rows = [loading(store, settings, args.customers)]
        online_db = settings.feast_dir / "online_store.db"
        print(f"  SQLite online store: {online_db.stat().st_size / 1024**3:.2f} GiB")
        rows += compare(
            "SQLite",
            store,
            raw_sqlite_reader(store, settings.feast_dir / "online_store.db"),
            ids,
            args.reads,
        )

        if args.no_redis or not _redis_up():
            print("\nRedis: skipped (--no-redis, or not reachable at 127.0.0.1:6379)")
            record("online", rows, parameters=vars(args))
            return
        redis_settings = settings.model_copy(
            update={
                "data_dir": Path(tmp) / "redis",
                "feature_store": "production",
                "feast_registry_url": f"sqlite:///{tmp}/redis-registry.db",
                "feast_project": f"bench_{uuid.uuid4().hex[:8]}",
            }
        )
        (Path(tmp) / "redis").mkdir()
        (Path(tmp) / "redis" / "features").symlink_to(settings.offline_dir)
        redis_store = open_store(redis_settings)
        apply_definitions(redis_store)
        try:
            rows.append(loading(redis_store, redis_settings, args.customers))
            rows += compare("Redis", redis_store, raw_redis_reader(redis_store), ids, args.reads)
        finally:
            redis_store.teardown()
        record("online", rows, parameters=vars(args))


if __name__ == "__main__":
    sys.exit(main())
