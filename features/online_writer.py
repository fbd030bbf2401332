"""Bulk writes of feature rows into the online store, fast enough for a million customers.

Feast's `write_to_online_store` converts every value through its generic type map and,
on SQLite, upserts one row per statement (about 2,000 customers of 20 features a
second here). This writer converts whole columns at once and, on SQLite, upserts with
one `executemany` per batch into the same table layout Feast reads; any other online
store (Redis) gets the converted rows through the store's own `online_write_batch`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.online_stores.sqlite import _table_id as sqlite_table_id
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.types import Bool, Float64, Int64, String, UnixTimestamp

_EMPTY = ValueProto()


def _doubles(values: pd.Series) -> list[ValueProto]:
    array = values.to_numpy(dtype="float64", na_value=np.nan)
    return [_EMPTY if v != v else ValueProto(double_val=v) for v in array.tolist()]


def _ints(values: pd.Series) -> list[ValueProto]:
    cache: dict[int, ValueProto] = {}
    out = []
    for v in values.astype("Int64").tolist():
        if v is pd.NA:
            out.append(_EMPTY)
        else:
            out.append(cache.get(v) or cache.setdefault(v, ValueProto(int64_val=v)))
    return out


def _bools(values: pd.Series) -> list[ValueProto]:
    yes, no = ValueProto(bool_val=True), ValueProto(bool_val=False)
    return [_EMPTY if v is pd.NA else (yes if v else no) for v in values.astype("boolean")]


def _strings(values: pd.Series) -> list[ValueProto]:
    return [_EMPTY if v is None or v != v else ValueProto(string_val=str(v)) for v in values]


def _timestamps(values: pd.Series) -> list[ValueProto]:
    seconds = pd.to_datetime(values, utc=True).dt.as_unit("s").astype("int64")
    missing = pd.isna(values).to_numpy()
    return [
        _EMPTY if gone else ValueProto(unix_timestamp_val=s)
        for s, gone in zip(seconds.tolist(), missing.tolist(), strict=True)
    ]


_CONVERTERS: dict[Any, Callable[[pd.Series], list[ValueProto]]] = {
    Float64: _doubles,
    Int64: _ints,
    Bool: _bools,
    String: _strings,
    UnixTimestamp: _timestamps,
}


def _columns(view: FeatureView, frame: pd.DataFrame) -> dict[str, list[ValueProto]]:
    columns = {}
    for field in view.features:
        convert = _CONVERTERS.get(field.dtype)
        if convert is None:
            raise TypeError(f"{view.name}.{field.name}: no bulk conversion for {field.dtype}")
        columns[field.name] = convert(frame[field.name])
    return columns


def _entity_keys(frame: pd.DataFrame, join_key: str) -> list[EntityKeyProto]:
    return [
        EntityKeyProto(join_keys=[join_key], entity_values=[ValueProto(string_val=str(v))])
        for v in frame[join_key].tolist()
    ]


def _event_times(frame: pd.DataFrame, view: FeatureView) -> list[datetime]:
    column = view.batch_source.timestamp_field if view.batch_source else "event_timestamp"
    return pd.to_datetime(frame[column], utc=True).tolist()


def _sqlite_upsert(
    store: FeatureStore,
    online: SqliteOnlineStore,
    view: FeatureView,
    keys: list[EntityKeyProto],
    columns: dict[str, list[ValueProto]],
    times: list[datetime],
) -> None:
    config = store.config
    table = sqlite_table_id(
        config.project, view, config.registry.enable_online_feature_view_versioning
    )
    version = config.entity_key_serialization_version
    key_bytes = [serialize_entity_key(k, entity_key_serialization_version=version) for k in keys]
    # Feast's SQLite store keeps event times as epoch seconds. `value_text` (only read by
    # Feast's text search, which this repository does not enable) stays empty.
    seconds = [int(t.timestamp()) for t in times]
    rows: list[tuple[Any, ...]] = []
    for name, values in columns.items():
        encoded = [v.SerializeToString() for v in values]
        rows.extend(zip(key_bytes, repeat(name), encoded, seconds, strict=False))
    # Upserting in key order keeps the B-tree writes local: several times faster.
    rows.sort(key=itemgetter(0, 1))
    conn = online._get_conn(config)
    with conn:
        conn.executemany(
            f'INSERT INTO "{table}" '
            "(entity_key, feature_name, value, event_ts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(entity_key, feature_name) DO UPDATE SET value = excluded.value, "
            "value_text = NULL, event_ts = excluded.event_ts, created_ts = NULL",
            rows,
        )


def _plain_sqlite(store: FeatureStore) -> bool:
    """SQLite without the vector or numeric-search columns this writer does not fill."""
    options = store.config.online_store
    return not getattr(options, "vector_enabled", False) and not getattr(
        options, "enable_openai_compatible_store", False
    )


def write_rows(store: FeatureStore, view: FeatureView, frame: pd.DataFrame) -> None:
    """Upsert `frame` (the join key, the view's timestamp and feature columns) online."""
    if frame.empty:
        return
    (join_key,) = [c.name for c in view.entity_columns]
    keys = _entity_keys(frame, join_key)
    columns = _columns(view, frame)
    times = _event_times(frame, view)
    online = store._get_provider().online_store
    if isinstance(online, SqliteOnlineStore) and _plain_sqlite(store):
        _sqlite_upsert(store, online, view, keys, columns, times)
        return
    names = list(columns)
    data = [
        (key, dict(zip(names, values, strict=True)), ts, None)
        for key, ts, *values in zip(keys, times, *columns.values(), strict=True)
    ]
    online.online_write_batch(store.config, view, data, progress=None)
