"""Customers' preferences: which suggestion kinds they asked not to receive.

A preference is the service's own state, set through the API by the customer (the app)
or on their behalf (admin), and kept as a column of the directory's `customers` row,
which `sync_customers` never overwrites: a re-sync from the lake does not undo an
opt-out. The contact policy reads the opt-outs with the contact history
(`ContactHistory.opted_out`, rule `opted_out`), on every channel and for every push.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from powerhall.contract import SuggestionKind
from serving.db.tables import Customer

CHUNK: Final = 500
"""Customer ids per IN list."""
_NONE: Final[frozenset[str]] = frozenset()
_PEERS: Final = frozenset({SuggestionKind.PEER_COMPARISON.value})


def opted_out_of(customer: Customer) -> frozenset[str]:
    """The kinds one customer opted out of, from the directory row an answer already holds."""
    return _PEERS if customer.peer_comparison is False else _NONE


def opted_out_kinds(session: Session, customer_ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """Kinds each customer opted out of, read for many at once (the rule of
    `opted_out_of`); customers who opted out of nothing are absent."""
    opted: dict[str, frozenset[str]] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = list(customer_ids[start : start + CHUNK])
        declined = select(Customer.customer_id).where(
            Customer.customer_id.in_(chunk), Customer.peer_comparison.is_(False)
        )
        for customer_id in session.scalars(declined):
            opted[customer_id] = _PEERS
    return opted
