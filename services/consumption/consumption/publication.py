"""The Métropole's aggregates as published: computed from the rollups by a worker, stored with secrecy applied, and
served as stored with the time they were computed.

Computing a level and year is seconds of database work at 370 000 homes (the quartiles of every cell of both
energies, for the year and the year before, for the trend): done after the rollups change, never per request. Every
write to the rollups logs its years (a trigger, aggregate_changes); a year is recomputed once its rollups have been
quiet for `settle` seconds and its last run is `every` seconds old (once after the night's rollups), or once its
oldest waiting change is `every` seconds old (rollups that never settle). Replicas take turns under one advisory
lock. An answer says when it was computed (`computed_at`) and whether newer rollups wait for the next run (`stale`).

Secrecy is applied before storing, to the whole level and year at once as it was computed: secondary secrecy is a
property of the whole publication (cells adding up to a published total), and the stored cells are then exactly
what an analyst may read (a withheld cell holds its key and its reason only); serving only filters them (one energy,
one area). A run is served only under the secrecy rules in force; a run missing, or made under other rules, is
computed on demand, the first request waiting for it.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import aggregates, repository
from consumption.aggregates import DIMENSIONS, LEVELS, MAX_SHARE, MIN_HOMES, Level
from metro.app import Runtime
from metro.collection import PARIS
from metro.db import Database
from metro.errors import AppError

log = logging.getLogger(__name__)


def stored_cells(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The computed cells as rows of aggregate_results: an area's cell, its breakdown's, the Métropole's totals."""
    rows = [{"area": c["area"], "energy": c["energy"], "dimension": "", "value": "", "cell": c} for c in result["cells"]]
    for c in result["breakdowns"]:
        [dim] = [d for d in DIMENSIONS if d in c]
        rows.append({"area": c["area"], "energy": c["energy"], "dimension": dim, "value": c[dim], "cell": c})
    rows += [{"area": "", "energy": c["energy"], "dimension": "", "value": "", "cell": c} for c in result["totals"]]
    return rows


async def compute_and_store(session: AsyncSession, level: Level, year: int) -> None:
    started = time.perf_counter()
    result = await aggregates.compute(session, level, year)
    await repository.store_published(session, level, year, stored_cells(result), min_homes=MIN_HOMES,
                                     max_share=MAX_SHARE, seconds=time.perf_counter() - started)


async def _read(session: AsyncSession, level: Level, year: int, energy: str | None,
                area: str | None) -> dict[str, Any] | None:
    rows = await repository.published(session, level, year, energy, area)
    if not rows or rows[0].min_homes != MIN_HOMES or rows[0].max_share != MAX_SHARE:
        return None
    cells, breakdowns, totals = [], [], []
    for r in rows:
        if r.cell is not None:
            (totals if r.area == "" else cells if r.dimension == "" else breakdowns).append(r.cell)
    return {"level": level, "year": year, "min_homes": MIN_HOMES, "max_share": MAX_SHARE,
            "computed_at": rows[0].computed_at, "stale": rows[0].stale, "cells": cells, "breakdowns": breakdowns,
            "totals": totals}


async def serve(db: Database, level: Level, year: int, energy: str | None = None,
                area: str | None = None) -> dict[str, Any]:
    """The stored cells of a level and year (of one energy, of one area with the Métropole's totals)."""
    if not 2000 <= year < dt.date.today().year + 1:
        raise AppError("no such year", code="invalid_period", status_code=422)
    async with db.reader() as session:
        body = await _read(session, level, year, energy, area)
    if body is None:
        async with db.session() as session, session.begin():
            await repository.lock_aggregates(session)
            body = await _read(session, level, year, energy, area)  # computed while this request waited
            if body is None:
                await compute_and_store(session, level, year)
                body = await _read(session, level, year, energy, area)
    assert body is not None
    return body


async def recompute_due(rt: Runtime) -> int:
    """The due years, each in a transaction of its own (both levels, then its logged changes forgotten); none while
    another replica computes."""
    settings = rt.settings
    async with rt.db.reader() as session:
        years = await repository.due_years(session, dt.datetime.now(PARIS).year,
                                           settle=settings.aggregates_settle_seconds,
                                           every=settings.aggregates_every_seconds)
    for year in years:
        async with rt.db.session() as session, session.begin():
            if not await repository.try_lock_aggregates(session):
                return 0
            changes = await repository.changes_of(session, year)
            started = time.perf_counter()
            for level in LEVELS:
                await compute_and_store(session, level, year)
            await repository.forget_changes(session, changes)
        log.info("aggregates recomputed", extra={"year": year, "seconds": round(time.perf_counter() - started, 1)})
    return len(years)
