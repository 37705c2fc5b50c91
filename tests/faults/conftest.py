"""The fault tests (`-m faults`): database connections terminated on purpose, scheduler
processes killed. They need PostgreSQL (pg_terminate_backend, advisory locks) and run in a
CI stage of their own."""

from __future__ import annotations

import pytest

from clause_tracker.extensions import db


@pytest.fixture(autouse=True)
def _postgres_only(app) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("fault tests terminate PostgreSQL backends: set "
                    "CLAUSE_TRACKER_TEST_DATABASE_URL")
