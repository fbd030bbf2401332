"""Acceptance of suggestions per hall, counter, staff member or kind, aggregated in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from serving.db.tables import SuggestionOutcome, SuggestionServed

GroupBy = Literal["hall", "counter", "staff", "kind"]


def acceptance(
    session: Session, *, group_by: GroupBy, since: datetime | None
) -> list[tuple[str | None, int, int, int]]:
    """(group, shown, accepted, declined) per group, biggest `shown` first; a counter is
    named `hall/counter` (counter ids repeat across halls).

    Shown counts the times suggestions were shown (`suggestions_served`); a staff member
    is not recorded with what is shown, so per staff member `shown` counts the distinct
    suggestions they recorded an outcome for.
    """
    outcome_column = {
        "hall": SuggestionOutcome.hall_id,
        "counter": SuggestionOutcome.hall_id + "/" + SuggestionOutcome.counter_id,
        "staff": SuggestionOutcome.staff_id,
        "kind": SuggestionOutcome.kind,
    }[group_by]
    answered = select(
        outcome_column.label("group"),
        func.sum(case((SuggestionOutcome.outcome == "accepted", 1), else_=0)),
        func.sum(case((SuggestionOutcome.outcome == "declined", 1), else_=0)),
        func.count(func.distinct(SuggestionOutcome.suggestion_id)),
    ).group_by(outcome_column)
    if since is not None:
        answered = answered.where(SuggestionOutcome.outcome_at >= since)
    counts: dict[str | None, list[int]] = {}
    for group, accepted, declined, distinct in session.execute(answered):
        counts[group] = [distinct if group_by == "staff" else 0, accepted or 0, declined or 0]
    if group_by != "staff":
        served_column = {
            "hall": SuggestionServed.hall_id,
            "counter": SuggestionServed.hall_id + "/" + SuggestionServed.counter_id,
            "kind": SuggestionServed.kind,
        }[group_by]
        shown = select(served_column, func.count()).group_by(served_column)
        if since is not None:
            shown = shown.where(SuggestionServed.shown_at >= since)
        for group, count in session.execute(shown):
            counts.setdefault(group, [0, 0, 0])[0] = count
    rows = [(group, *values) for group, values in counts.items()]
    return sorted(rows, key=lambda row: (-row[1], str(row[0])))
