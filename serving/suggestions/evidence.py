"""What the outcomes observed so far say about each suggestion item: the evidence that
exploration (`ranking.Exploration`) draws from.

Read once at start-up from the lake's `suggestion_outcomes` (which `powerhall feedback
export` keeps up to date), like the segment defaults: one count of shown and accepted per
(kind, item). The lake keeps one row per suggestion, so a suggestion shown again to the
same customer counts once, with its latest answer.
"""

from __future__ import annotations

from pathlib import Path

from powerhall.contract import Outcome, Table
from powerhall.lake import read_table
from serving.suggestions.ranking import Arm


def observed_outcomes(lake_dir: Path) -> dict[Arm, tuple[int, int]]:
    """(kind, item id) -> (shown, accepted) over the lake's outcomes; empty when none."""
    frame = read_table(lake_dir, Table.SUGGESTION_OUTCOMES, columns=["kind", "item_id", "outcome"])
    if frame.empty:
        return {}
    accepted = (frame["outcome"] == str(Outcome.ACCEPTED)).astype(int)
    counts = accepted.groupby([frame["kind"], frame["item_id"]]).agg(["size", "sum"])
    return {
        (str(kind), str(item)): (int(shown), int(taken))
        for (kind, item), shown, taken in zip(
            counts.index, counts["size"], counts["sum"], strict=True
        )
    }
