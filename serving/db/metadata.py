"""Every table of the service on one metadata, for migrations and their parity test.

Each package keeps its tables beside its code (`serving.db.tables`, `serving.push.tables`);
importing this module registers all of them on `Base.metadata`.
"""

from __future__ import annotations

import serving.db.tables
import serving.push.tables
from serving.db.base import Base

TABLE_MODULES = (serving.db.tables, serving.push.tables)
metadata = Base.metadata
