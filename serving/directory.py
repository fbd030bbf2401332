"""The customer directory: the lake's `customers` table, kept in the service's database.

The API answers "who is this customer, in which hall, may we push to them" from here, on
every request, without touching the lake. `sync_customers` upserts the lake's rows; run
it after each ingest (`powerhall db sync-customers`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from powerhall.contract import CUSTOMER_COLUMNS, Table
from powerhall.lake import read_table
from serving.db.tables import Customer

SYNC_BATCH_ROWS = 2_000


def get_customer(session: Session, customer_id: str) -> Customer | None:
    return session.get(Customer, customer_id)


def find_by_account(session: Session, account_no: str) -> Customer | None:
    return session.scalars(select(Customer).where(Customer.account_no == account_no)).first()


def _records(frame: pd.DataFrame) -> Iterator[list[dict[str, Any]]]:
    """Rows as plain Python values (None for missing, aware datetimes), in batches."""
    for start in range(0, len(frame), SYNC_BATCH_ROWS):
        part = frame.iloc[start : start + SYNC_BATCH_ROWS]
        rows = []
        for row in part.itertuples(index=False):
            record = {}
            for name, value in zip(CUSTOMER_COLUMNS, row, strict=True):
                if pd.isna(value):
                    record[name] = None
                elif isinstance(value, pd.Timestamp):
                    record[name] = value.to_pydatetime()
                else:
                    record[name] = value.item() if hasattr(value, "item") else value
            rows.append(record)
        yield rows


def sync_customers(session: Session, lake_dir: Path) -> int:
    """Upsert every customer of the lake into the directory; returns the rows written.

    Idempotent: a second run writes the same values. A customer gone from the lake is
    kept (outcomes and audit rows refer to it).
    """
    frame = read_table(lake_dir, Table.CUSTOMERS)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Customer)
    statement = statement.on_conflict_do_update(
        index_elements=[Customer.customer_id],
        set_={name: statement.excluded[name] for name in CUSTOMER_COLUMNS[1:]},
    )
    written = 0
    for rows in _records(frame[list(CUSTOMER_COLUMNS)]):
        session.execute(statement, rows)
        written += len(rows)
    session.commit()
    return written
