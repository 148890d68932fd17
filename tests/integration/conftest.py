"""Fixtures shared by the integration tests."""
from __future__ import annotations

import pytest

from metro.db import Database
from metro.migrations import upgrade_async


@pytest.fixture
async def db(database_url):
    """The consumption service's schema, migrated, and a small pool on it."""
    from consumption import app, catalogues
    await upgrade_async(app.spec().package_dir, database_url)
    # The catalogues are cached per process for 10 s: a version another test inserted in that time (seed_tariffs,
    # an upload) would otherwise name a test's first pricing differently from its second.
    catalogues.TARIFFS.invalidate()
    catalogues.DEGREE_DAYS.invalidate()
    database = Database(database_url, pool_size=2)
    yield database
    await database.dispose()
