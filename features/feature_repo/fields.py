"""Feast fields from the profile catalogue's features."""

from feast import Field
from feast.types import Bool, Float64, Int64, PrimitiveFeastType, UnixTimestamp

from features.profiles.model import FeatureType, View

FEAST_TYPES: dict[FeatureType, PrimitiveFeastType] = {
    "float": Float64,
    "int": Int64,
    "bool": Bool,
    "timestamp": UnixTimestamp,
}


def fields_of(view: View) -> list[Field]:
    return [
        Field(name=f.name, dtype=FEAST_TYPES[f.dtype], description=f.description)
        for f in view.features
    ]
