"""The catalogue in force, when an administrator stores a new version while the pricing worker is rebuilding the
old one: prices and the versions that name them must never come from two different versions."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from consumption import catalogues, repository


class StoredVersions:
    """The catalogue table as the store reads it, with a slow read of one version's text."""

    def __init__(self):
        self.latest = {"electricity": 1}
        self.slow_version: int | None = None
        self.release = asyncio.Event()

    async def latest_catalogue_ids(self, session):
        return dict(self.latest)

    async def catalogue(self, session, version):
        if version == self.slow_version:
            await self.release.wait()
        return SimpleNamespace(csv=f"prices of version {version}")


async def test_a_rebuild_outrun_by_a_newer_version_never_puts_the_older_one_back(monkeypatch):
    stored = StoredVersions()
    monkeypatch.setattr(repository, "latest_catalogue_ids", stored.latest_catalogue_ids)
    monkeypatch.setattr(repository, "catalogue", stored.catalogue)
    store = catalogues.CatalogueStore(("electricity",), lambda texts: texts["electricity"])
    assert await store.get(None) == "prices of version 1"

    # The worker starts rebuilding version 2, slowly; meanwhile version 3 is stored and committed.
    stored.latest, stored.slow_version = {"electricity": 2}, 2
    store.invalidate()
    worker = asyncio.create_task(store.get(None))
    await asyncio.sleep(0.01)
    stored.latest = {"electricity": 3}
    store.invalidate()
    request = asyncio.create_task(store.get(None))
    await asyncio.sleep(0.01)
    stored.release.set()

    assert await worker == "prices of version 2"
    assert await request == "prices of version 3"
    assert (store.value, store.versions) == ("prices of version 3", {"electricity": 3})
    assert await store.get(None) == "prices of version 3"
