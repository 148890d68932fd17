"""Pruning of the outbox and the inbox, which would otherwise grow forever.

A published outbox row is only a trace once the broker confirmed it, but its payload may name a meter and carry
its readings: it is kept ``outbox_retention`` (to look into what was sent) and then deleted, so the personal-data
registry does not list it (the erasure also deletes the published rows that name the account at once). An unpublished
row is never pruned. An inbox row only holds an event id; it must outlive every redelivery of that event
(``inbox_retention``, far beyond the retry delays).

Deletes go in small batches, each its own short transaction, so a large backlog never holds many row locks for long.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

from metro.db import Database
from metro.workers import repeat

log = logging.getLogger(__name__)


async def prune_outbox(db: Database, outbox: sa.Table, older_than: dt.timedelta, *, batch: int = 1000) -> int:
    """Deletes outbox rows published more than ``older_than`` ago; returns how many."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    total = 0
    while True:
        # Oldest first along the unique ``seq`` index: old rows are the published ones, so a batch is found
        # without scanning the table (a row still failing to publish is only stepped over).
        due = (sa.select(outbox.c.id).where(outbox.c.published_at < cutoff)
               .order_by(outbox.c.seq).limit(batch).with_for_update(skip_locked=True))
        async with db.session() as session, session.begin():
            n = (await session.execute(sa.delete(outbox).where(outbox.c.id.in_(due.scalar_subquery())))).rowcount
        total += n or 0
        if not n or n < batch:
            return total


async def prune_inbox(db: Database, inbox: sa.Table, older_than: dt.timedelta, *, pages: int = 200) -> int:
    """Deletes inbox rows handled more than ``older_than`` ago; returns how many.

    The inbox has no index on ``handled_at`` (one more index on the hottest insert of every consumer), so the
    table is walked by ranges of ``pages`` heap pages (a TID range scan): each batch reads a bounded slice."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    name = f'"{inbox.schema}"."{inbox.name}"'
    async with db.session() as session:
        size = (await session.execute(sa.text(
            "SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"),
            {"t": name})).scalar_one()
    total = 0
    for start in range(0, int(size) + 1, pages):
        async with db.session() as session, session.begin():
            result = await session.execute(sa.delete(inbox).where(
                sa.text("ctid >= CAST(:lo AS tid) AND ctid < CAST(:hi AS tid)").bindparams(
                    lo=f"({start},0)", hi=f"({start + pages},0)"),
                inbox.c.handled_at < cutoff))
        total += result.rowcount or 0
    return total


async def housekeeping(rt) -> None:
    """The worker every service runs: prunes its outbox and inbox every ``housekeeping_interval``."""
    settings = rt.settings

    async def step() -> int:
        n = 0
        if rt.outbox is not None:
            n += await prune_outbox(rt.db, rt.outbox.table, settings.outbox_retention)
        if rt.inbox is not None:
            n += await prune_inbox(rt.db, rt.inbox, settings.inbox_retention)
        if n:
            log.info("outbox and inbox pruned", extra={"rows": n})
        return n
    await repeat(rt.stop, "outbox and inbox pruning", step, settings.housekeeping_interval.total_seconds())
