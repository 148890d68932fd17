"""Fixtures shared by the integration tests."""
from __future__ import annotations

import pytest

from metro.db import Database
from metro.migrations import upgrade_async


@pytest.fixture
async def db(database_url):
    """The consumption service's schema, migrated, and a small pool on it."""
    from consumption import app
    await upgrade_async(app.spec().package_dir, database_url)
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()
