"""`powerhall demo`: the last step of `make run`, a service a newcomer can click through.

It prepares what the API needs beside the feature store (migrated database, customer
directory), creates fresh demo keys (tokens are stored hashed, so earlier demo keys
cannot be shown again and are revoked instead), prints the counter page URL and curl
examples for a real customer with scores, then serves until interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from powerhall.console import make_console
from powerhall.errors import ContractError
from powerhall.settings import Settings, get_settings
from serving.auth import Role, create_key, list_keys, revoke_key
from serving.cli import serve
from serving.db.engine import make_engine, session_factory
from serving.db.migrate import upgrade
from serving.db.tables import Customer
from serving.directory import sync_customers

DEMO_PREFIX = "demo-"
DEMO_COUNTER = "1"


@dataclass(frozen=True)
class DemoKeys:
    admin: str
    counter: str
    app: str
    hall_id: str
    customer_id: str
    app_customer_id: str


def _demo_customers(session: Session) -> tuple[str, str, str]:
    """An open customer of a hall (for the counter) and one reachable in the app."""
    counter = session.scalars(
        select(Customer)
        .where(Customer.closed_at.is_(None), Customer.hall_id.is_not(None))
        .order_by(Customer.customer_id)
    ).first()
    app_user = session.scalars(
        select(Customer)
        .where(Customer.closed_at.is_(None), Customer.has_app, Customer.push_consent)
        .order_by(Customer.customer_id)
    ).first()
    if counter is None or counter.hall_id is None or app_user is None:
        raise ContractError("the customer directory is empty: run make pipeline first")
    return counter.hall_id, counter.customer_id, app_user.customer_id


def prepare(settings: Settings, now: datetime) -> DemoKeys:
    """Migrate, sync the directory, replace the demo keys; returns the new tokens."""
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            sync_customers(session, settings.lake_dir)
            hall_id, customer_id, app_customer_id = _demo_customers(session)
            for key in list_keys(session):
                if key.name.startswith(DEMO_PREFIX) and key.revoked_at is None:
                    revoke_key(session, key_id=key.id, now=now)
            tokens = {
                role: create_key(
                    session,
                    role=role,
                    name=f"{DEMO_PREFIX}{role}",
                    hall_id=hall_id if role is Role.COUNTER else None,
                    now=now,
                )[1]
                for role in (Role.ADMIN, Role.COUNTER, Role.APP)
            }
    finally:
        engine.dispose()
    return DemoKeys(
        admin=tokens[Role.ADMIN],
        counter=tokens[Role.COUNTER],
        app=tokens[Role.APP],
        hall_id=hall_id,
        customer_id=customer_id,
        app_customer_id=app_customer_id,
    )


def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Prepare the service on the demo data, print keys and examples, and serve."""
    keys = prepare(get_settings(), datetime.now(UTC))
    base = f"http://{host}:{port}"
    counter_path = f"/v1/halls/{keys.hall_id}/counters/{DEMO_COUNTER}"
    console = make_console()
    console.rule("powerhall demo")
    console.print(f"admin key:   {keys.admin}", soft_wrap=True)
    console.print(f"counter key: {keys.counter}  (hall {keys.hall_id})", soft_wrap=True)
    console.print(f"app key:     {keys.app}", soft_wrap=True)
    console.print("\nCounter screen (open it, then post a session below):")
    console.print(
        f"  {base}/counter/{keys.hall_id}/{DEMO_COUNTER}?key={keys.counter}", soft_wrap=True
    )
    console.print("\nIdentify a customer at that counter:")
    console.print(
        f"  curl -s -X POST {base}{counter_path}/sessions -H 'X-API-Key: {keys.counter}' "
        f"-H 'Content-Type: application/json' -d '{{\"customer_id\": \"{keys.customer_id}\"}}'",
        soft_wrap=True,
    )
    console.print("\nSuggestions for the app (English):")
    console.print(
        f"  curl -s '{base}/v1/customers/{keys.app_customer_id}/suggestions?channel=app' "
        f"-H 'X-API-Key: {keys.app}' -H 'Accept-Language: en'",
        soft_wrap=True,
    )
    console.print(f"\nAPI documentation: {base}/docs\n")
    serve(host=host, port=port, workers=1)
