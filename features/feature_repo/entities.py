"""Entities: who a feature describes."""

from feast import Entity, ValueType

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.STRING,
    description="A customer account of the retailer (contract table `customers`).",
    tags={"owner": "profiles"},
)
