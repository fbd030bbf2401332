"""Read customer profiles from the online store; record real-time events into it.

The service reads one profile per request, so this path is kept lean. The feature
service is resolved once; a read then fetches every view at once from the layout Feast's
online store writes (SQLite: one statement over the view tables; Redis: one HMGET per
customer, since all views of an entity share a hash) and runs the on-demand views'
Python transformations. Feast's `online_read` costs a query or a round trip per view,
and `get_online_features` with the on-demand view about 40 ms here; any other online
store is read through its `online_read`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from feast import FeatureStore, FeatureView, OnDemandFeatureView
from feast.data_source import PushMode
from feast.errors import FeatureViewNotFoundException
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.redis import RedisOnlineStore
from feast.infra.online_stores.sqlite import SqliteOnlineStore
from feast.infra.online_stores.sqlite import _table_id as sqlite_table_id
from feast.protos.feast.types.EntityKey_pb2 import EntityKey as EntityKeyProto
from feast.protos.feast.types.Value_pb2 import Value as ValueProto
from feast.type_map import NULL_TIMESTAMP_INT_VALUE, feast_value_type_to_python_type
from google.protobuf.timestamp_pb2 import Timestamp

from powerhall.contract import EventKind
from powerhall.errors import ContractError

PROFILE_SERVICE = "customer_profile_v1"
PUSH_SOURCE = "service_events_push"
LIVE_VIEW = "service_live"
LIVE_FIELDS: dict[str, str] = {
    EventKind.COMPLAINT: "last_complaint_at",
    EventKind.OUTAGE: "last_outage_at",
    EventKind.APP_LOGIN: "last_app_login_at",
}
"""Event kinds the push source takes, and the live feature each one updates."""


Row = tuple[datetime | None, dict[str, Any]]
"""One customer's decoded values of one view, and their event time (None: none known)."""


@dataclass(frozen=True)
class Profile:
    customer_id: str
    features: dict[str, Any]
    """Feature name -> value (None when missing); names are unique across views."""
    updated_at: dict[str, datetime | None]
    """View -> event time of the values read (None: the view has nothing for the customer)."""

    @property
    def found(self) -> bool:
        """Whether any batch or live view knows the customer (else: a cold start)."""
        return any(ts is not None for ts in self.updated_at.values())


def _entity_key(customer_id: str) -> EntityKeyProto:
    return EntityKeyProto(
        join_keys=["customer_id"], entity_values=[ValueProto(string_val=customer_id)]
    )


_SCALARS = frozenset(
    {"double_val", "int64_val", "bool_val", "string_val", "float_val", "int32_val"}
)


def _python(value: ValueProto | None) -> Any:
    """Feast's value -> Python conversion, with the scalar kinds of this repository first."""
    if value is None:
        return None
    kind = value.WhichOneof("val")
    if kind is None:
        return None
    if kind in _SCALARS:
        return getattr(value, kind)
    if kind == "unix_timestamp_val":
        seconds = value.unix_timestamp_val
        return None if seconds == NULL_TIMESTAMP_INT_VALUE else datetime.fromtimestamp(seconds, UTC)
    return feast_value_type_to_python_type(value)


def _stamp(ts: int, values: dict[str, Any]) -> datetime | None:
    """The event time of a view's row, or None when it holds no value at all."""
    if not any(v is not None for v in values.values()):
        return None
    return datetime.fromtimestamp(ts, UTC)


def _decoded(ts: datetime | None, values: dict[str, ValueProto] | None) -> Row:
    """A row as Feast's `online_read` returns it; Redis answers a miss with empty values."""
    decoded = {name: _python(v) for name, v in values.items()} if values else {}
    if not any(v is not None for v in decoded.values()):
        return None, decoded
    return ts, decoded


class OnlineProfiles:
    """Profiles of the feature service `customer_profile_v1`, read from the online store."""

    def __init__(self, store: FeatureStore, *, service: str = PROFILE_SERVICE) -> None:
        self._store = store
        self._config = store.config
        self._online = store._get_provider().online_store
        registry = store.registry
        project = store.project
        feature_service = registry.get_feature_service(service, project)
        self._views: list[tuple[FeatureView, list[str]]] = []
        self._on_demand: list[OnDemandFeatureView] = []
        for projection in feature_service.feature_view_projections:
            names = [f.name for f in projection.features]
            try:
                view = registry.get_feature_view(projection.name, project)
            except FeatureViewNotFoundException:  # an on-demand view
                self._on_demand.append(
                    registry.get_on_demand_feature_view(projection.name, project)
                )
                continue
            self._views.append((view, names))
        self.versions: dict[str, int] = {
            view.name: view.current_version_number or 0 for view, _ in self._views
        } | {odfv.name: odfv.current_version_number or 0 for odfv in self._on_demand}
        """Feature view -> registry version number the profile is read with."""
        self.service = service
        self._redis_fields: list[tuple[list[str], list[Any]]] | None = None
        self._sqlite_sql: list[str] | None = None
        self._blank: dict[str, Any] = {name: None for _, names in self._views for name in names}

    def get(self, customer_id: str, *, at: datetime | None = None) -> Profile:
        return self.get_many([customer_id], at=at)[0]

    def get_many(self, customer_ids: Sequence[str], *, at: datetime | None = None) -> list[Profile]:
        """Profiles in the order asked; `at` is the request time for on-demand features."""
        keys = [_entity_key(cid) for cid in customer_ids]
        features: list[dict[str, Any]] = [dict(self._blank) for _ in customer_ids]
        updated: list[dict[str, datetime | None]] = [{} for _ in customer_ids]
        for (view, _), rows in zip(self._views, self._read(keys), strict=True):
            for i, (ts, values) in enumerate(rows):
                updated[i][view.name] = ts
                features[i].update(values)
        now = at or datetime.now(UTC)
        for odfv in self._on_demand:
            inputs: dict[str, list[Any]] = {
                name: [row.get(name) for row in features]
                for projection in odfv.source_feature_view_projections.values()
                for name in (f.name for f in projection.features)
            }
            inputs["request_at"] = [now] * len(customer_ids)
            outputs = odfv.feature_transformation.transform(inputs)
            for i, row in enumerate(features):
                for field in odfv.features:
                    row[field.name] = outputs[field.name][i]
        return [
            Profile(customer_id=cid, features=f, updated_at=u)
            for cid, f, u in zip(customer_ids, features, updated, strict=True)
        ]

    def _read(self, keys: list[EntityKeyProto]) -> list[list[Row]]:
        """Decoded rows of every view for `keys`, in the order of `self._views`."""
        if isinstance(self._online, SqliteOnlineStore):
            return self._read_sqlite(self._online, keys)
        if isinstance(self._online, RedisOnlineStore):
            return self._read_redis(self._online, keys)
        return [
            [
                _decoded(ts, values)
                # A copy of the names: Feast's Redis store appends its timestamp key to it.
                for ts, values in self._online.online_read(self._config, view, keys, list(names))
            ]
            for view, names in self._views
        ]

    def _read_sqlite(
        self, online: SqliteOnlineStore, keys: list[EntityKeyProto]
    ) -> list[list[Row]]:
        """Every view in one statement over the tables Feast's SQLite store keeps.

        Feast's `online_read` runs a query per view and converts each row's timestamp
        through sqlite3's type detection, which costs more than the read itself; here the
        event time is taken as the integer Feast stores and converted once per row read.
        """
        if self._sqlite_sql is None:
            versioning = self._config.registry.enable_online_feature_view_versioning
            self._sqlite_sql = [
                f"SELECT {i} AS view, entity_key, feature_name, value, "
                f"CAST(event_ts AS INTEGER) AS ts FROM "
                f'"{sqlite_table_id(self._config.project, view, versioning)}"'
                for i, (view, _) in enumerate(self._views)
            ]
        version = self._config.entity_key_serialization_version
        blobs = [serialize_entity_key(k, entity_key_serialization_version=version) for k in keys]
        where = f" WHERE entity_key IN ({', '.join('?' * len(blobs))})"
        sql = " UNION ALL ".join(part + where for part in self._sqlite_sql)
        position = {blob: i for i, blob in enumerate(blobs)}
        found: list[list[dict[str, Any]]] = [[{} for _ in keys] for _ in self._views]
        stamps: list[list[int]] = [[0] * len(keys) for _ in self._views]
        value = ValueProto()
        for view, key, name, blob, ts in online._get_conn(self._config).execute(
            sql, blobs * len(self._views)
        ):
            value.ParseFromString(blob)
            i = position[key]
            found[view][i][name] = _python(value)
            stamps[view][i] = ts
        return [
            [
                (_stamp(ts, values), values)
                for ts, values in zip(view_stamps, view_found, strict=True)
            ]
            for view_stamps, view_found in zip(stamps, found, strict=True)
        ]

    def _read_redis(self, online: RedisOnlineStore, keys: list[EntityKeyProto]) -> list[list[Row]]:
        """All views of a customer with one HMGET: they share one Redis hash per entity.

        Key and field names come from the Redis store's own encoding (the layout its
        writes use); Feast's `online_read` would send one HMGET per view instead.
        """
        if self._redis_fields is None:  # hashed field names, computed once
            self._redis_fields = []
            for view, names in self._views:
                requested, fields = online._generate_hset_keys_for_features(view, list(names))
                self._redis_fields.append((requested[:-1], fields))  # the last: the time
        every_field = [f for _, fields in self._redis_fields for f in fields]
        redis_keys = online._generate_redis_keys_for_entities(self._config, keys)
        replies = online._read_hash_fields(self._config, [(k, every_field) for k in redis_keys])
        result: list[list[Row]] = [[] for _ in self._views]
        value, stamp = ValueProto(), Timestamp()
        for reply in replies:
            offset = 0
            for view, (names, fields) in enumerate(self._redis_fields):
                blobs = reply[offset : offset + len(fields)]
                offset += len(fields)
                decoded: dict[str, Any] = {}
                for name, blob in zip(names, blobs[:-1], strict=True):
                    if blob:
                        value.ParseFromString(blob)
                        decoded[name] = _python(value)
                    else:
                        decoded[name] = None
                ts = None
                if blobs[-1] and any(v is not None for v in decoded.values()):
                    stamp.ParseFromString(blobs[-1])
                    ts = stamp.ToDatetime(tzinfo=UTC)
                result[view].append((ts, decoded))
        return result

    def record_event(self, customer_id: str, kind: EventKind | str, at: datetime) -> None:
        """Push a real-time event: the profile shows it on the next read.

        The push writes the whole live row (Feast requires every field), so the other
        fields are read first and kept; the latest of two events of one kind wins.
        """
        if kind not in LIVE_FIELDS:
            raise ContractError(
                f"event kind {kind!r} is not pushed; pushed kinds: {', '.join(LIVE_FIELDS)}"
            )
        view = next(v for v, _ in self._views if v.name == LIVE_VIEW)
        names = [f.name for f in view.features]
        ((_, current),) = self._online.online_read(
            self._config, view, [_entity_key(customer_id)], list(names)
        )
        row: dict[str, Any] = {
            name: _python(current.get(name)) if current else None for name in names
        }
        stamp = at.astimezone(UTC)
        field = LIVE_FIELDS[kind]
        if row[field] is None or row[field] < stamp:
            row[field] = stamp
        frame = pd.DataFrame([{"customer_id": customer_id, "event_timestamp": stamp, **row}])
        for name in names:
            frame[name] = pd.to_datetime(frame[name], utc=True)
        self._store.push(PUSH_SOURCE, frame, to=PushMode.ONLINE)
