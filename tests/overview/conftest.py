from __future__ import annotations

import pytest

from tests.overview import overview_dataset


@pytest.fixture
def dataset(app, published_clauses):
    return overview_dataset.build()
