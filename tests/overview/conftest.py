from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overview_dataset


@pytest.fixture
def dataset(app, library):
    return overview_dataset.build()
