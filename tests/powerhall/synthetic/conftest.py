"""One small generated dataset shared by the generator's tests (it takes a few seconds)."""

from __future__ import annotations

import pytest

from powerhall.synthetic import generate
from tests.powerhall.synthetic.generated import CUSTOMERS, DAYS, SEED, Generated


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    out = tmp_path_factory.mktemp("generated") / "raw"
    manifest = generate(customers=CUSTOMERS, days=DAYS, seed=SEED, out=out, chunk_size=100)
    return Generated(out, manifest)
