"""Energy-saving tips: a declarative catalogue with eligibility and per-customer savings."""

from powerhall.tips.catalogue import SEGMENT, TipCatalogue, TipsError, load_tips, shipped_path
from powerhall.tips.facts import FACTS, DemandBasis, customer_prices, tariff_facts
from powerhall.tips.schema import Condition, Language, Tip, TipText

__all__ = [
    "FACTS",
    "SEGMENT",
    "Condition",
    "DemandBasis",
    "Language",
    "Tip",
    "TipCatalogue",
    "TipText",
    "TipsError",
    "customer_prices",
    "load_tips",
    "shipped_path",
    "tariff_facts",
]
