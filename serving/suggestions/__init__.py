"""The suggestion engine: candidates, ranking, contact policy, segment defaults and champion
models, as a library without HTTP or SQL (the routes and campaign planning call it)."""

from serving.suggestions.candidates import suggestion_id
from serving.suggestions.engine import Suggester, build_suggester
from serving.suggestions.model import (
    Answer,
    Channel,
    ContactHistory,
    CustomerRecord,
    Feedback,
    Reason,
    Risk,
    Shown,
    Suggestion,
)
from serving.suggestions.policy import RULES

__all__ = [
    "RULES",
    "Answer",
    "Channel",
    "ContactHistory",
    "CustomerRecord",
    "Feedback",
    "Reason",
    "Risk",
    "Shown",
    "Suggester",
    "Suggestion",
    "build_suggester",
    "suggestion_id",
]
