"""What every DSO connector's collection shares: its tables, the quota shared by every replica, work
sharing, one policy per outcome, cycle reports and scheduling at the DSO's publication time.

DSO-agnostic: a connector subclasses ``Collector`` with its client calls, which periods to ask, its payloads
and events; this module decides when, how fast, by whom, and what each outcome means, and runs the loop
(``run_collection``) and the statements on the collection tables (``CollectionStore``).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import socket
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import sqlalchemy as sa
from pydantic import model_validator
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from metro.db import Database
from metro.dso import Capabilities, DsoError, Outcome, QuotaExceeded
from metro.events import ConsentGranted, ConsentRevoked, ContractChanged, ReadingsCollected
from metro.metrics import DSO_CALLS
from metro.settings import ServiceSettings

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")


# --- tables ------------------------------------------------------------------------------------------------

def cursors_table(metadata: sa.MetaData) -> sa.Table:
    """One row per meter under consent: what to collect, where collection stands, who holds it now."""
    return sa.Table(
        "cursors", metadata,
        sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("consent_id", UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True)),
        sa.Column("identifier", sa.Text, nullable=False),
        sa.Column("dso_reference", sa.Text),
        sa.Column("history_from", sa.Date),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_day", sa.Date),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_outcome", sa.Text),
        sa.Column("last_error", sa.Text),
        sa.Column("contract", JSONB),
        sa.Column("contract_checked_at", sa.DateTime(timezone=True)),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Index(None, "next_due_at", postgresql_where=sa.text("active")),
    )


def collected_ranges_table(metadata: sa.MetaData) -> sa.Table:
    """Per meter, the day ranges [first_day, end_day[ the DSO has answered for, merged: a handful of rows
    per meter, from which the next cycle computes the missing days."""
    return sa.Table(
        "collected_ranges", metadata,
        sa.Column("meter_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("first_day", sa.Date, primary_key=True),
        sa.Column("end_day", sa.Date, nullable=False),
    )


def cycles_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "cycles", metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("dso", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False, server_default="schedule"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("outcomes", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("meters", sa.Integer, nullable=False, server_default="0"),
        sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
        sa.Column("throttled", sa.Integer, nullable=False, server_default="0"),
        # One open cycle per DSO at a time, whichever replica opens it.
        sa.Index("uq_cycles_open", "dso", unique=True, postgresql_where=sa.text("finished_at IS NULL")),
    )


def raw_payloads_table(metadata: sa.MetaData) -> sa.Table:
    """The DSO's answers as received (zlib-compressed JSON), so a parser fix can be replayed on them."""
    return sa.Table(
        "raw_payloads", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("meter_id", UUID(as_uuid=True), nullable=False, index=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date),
        sa.Column("period_end", sa.Date),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )


def rate_buckets_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "rate_buckets", metadata,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("capacity", sa.Float, nullable=False),
        sa.Column("rate", sa.Float, nullable=False),
        sa.Column("per_second", sa.Float, nullable=False),
        sa.Column("per_hour", sa.Integer),
        sa.Column("per_day", sa.Integer),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_taken", sa.Integer, nullable=False, server_default="0"),
        # The calendar day (Europe/Paris) the daily count is for.
        sa.Column("day_start", sa.Date),
        sa.Column("day_taken", sa.Integer, nullable=False, server_default="0"),
        sa.Column("taken_total", sa.BigInteger, nullable=False, server_default="0"),
    )


# --- statements on the collection tables -----------------------------------------------------------

FAILING = [Outcome.transient.value, Outcome.quota_exceeded.value, Outcome.bad_request.value]


@dataclass(frozen=True)
class CollectionStore:
    """Every statement on one connector's collection tables other than the leases and cycles below."""
    dso: str
    cursors: sa.Table
    collected_ranges: sa.Table
    cycles: sa.Table
    raw_payloads: sa.Table

    async def upsert_cursor(self, session: AsyncSession, consent: ConsentGranted) -> None:
        """A consent (new or renewed) makes the meter due now; collected history stays."""
        values = {
            "meter_id": consent.meter_id, "consent_id": consent.consent_id, "account_id": consent.account_id,
            "identifier": consent.identifier, "dso_reference": consent.dso_reference,
            "history_from": consent.history_from, "expires_at": consent.expires_at,
            "active": True, "next_due_at": sa.func.now(), "attempts": 0,
        }
        stmt = insert(self.cursors).values(**values)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=[self.cursors.c.meter_id],
            set_={k: stmt.excluded[k] for k in values if k != "meter_id"}))

    async def deactivate(self, session: AsyncSession, meter_id: uuid.UUID, consent_id: uuid.UUID | None,
                         outcome: str) -> None:
        t = self.cursors
        stmt = sa.update(t).where(t.c.meter_id == meter_id)
        if consent_id is not None:
            # A late revocation of an older consent must not stop a renewed one.
            stmt = stmt.where(t.c.consent_id == consent_id)
        await session.execute(stmt.values(active=False, last_outcome=outcome, lease_owner=None, lease_until=None))

    async def make_all_due(self, session: AsyncSession) -> int:
        t = self.cursors
        result = await session.execute(sa.update(t).where(t.c.active).values(next_due_at=sa.func.now()))
        return result.rowcount or 0

    async def keep_raw(self, session: AsyncSession, meter_id: uuid.UUID, kind: str, body: Any, retention_days: int,
                       period: Range | None = None) -> None:
        await session.execute(sa.insert(self.raw_payloads).values(
            meter_id=meter_id, kind=kind, period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=retention_days),
            body=zlib.compress(orjson.dumps(body))))

    async def purge_raw(self, session: AsyncSession) -> int:
        t = self.raw_payloads
        result = await session.execute(sa.delete(t).where(t.c.retain_until < sa.func.now()))
        return result.rowcount or 0

    async def report(self, session: AsyncSession) -> dict[str, Any]:
        cycles, c = self.cycles, self.cursors.c
        last = (await session.execute(sa.select(cycles).where(cycles.c.dso == self.dso)
                                      .order_by(cycles.c.started_at.desc()).limit(1))).one_or_none()
        collected = 0
        if last is not None:
            collected = (await session.execute(
                sa.select(sa.func.count()).where(c.last_success_at >= last.started_at))).scalar_one()
        active = (await session.execute(sa.select(sa.func.count()).where(c.active))).scalar_one()
        by_outcome = dict((await session.execute(
            sa.select(c.last_outcome, sa.func.count()).where(c.active, c.last_outcome.in_(FAILING))
            .group_by(c.last_outcome))).all())
        failing = (await session.execute(
            sa.select(c.meter_id, c.last_outcome, c.last_error, c.attempts, c.next_due_at)
            .where(c.active, c.last_outcome.in_(FAILING)).order_by(c.next_due_at).limit(20))).all()
        return {"last_cycle": last, "meters_collected": collected, "meters_active": active,
                "failures": {**by_outcome, "meters": [
                    {"meter_id": str(r.meter_id), "outcome": r.last_outcome, "error": r.last_error,
                     "attempts": r.attempts, "next_attempt_at": r.next_due_at.isoformat()} for r in failing]}}


# --- day ranges ------------------------------------------------------------------------------------------

Range = tuple[dt.date, dt.date]  # [first, end[


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    merged: list[Range] = []
    for first, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((first, end))
    return merged


def missing_ranges(wanted: Range, collected: Iterable[Range]) -> list[Range]:
    """The parts of ``wanted`` not covered by ``collected``, oldest first."""
    start, end = wanted
    gaps: list[Range] = []
    cursor = start
    for first, stop in merge_ranges(collected):
        if stop <= cursor:
            continue
        if first >= end:
            break
        if first > cursor:
            gaps.append((cursor, min(first, end)))
        cursor = max(cursor, stop)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def covered_until(window: Range, last_returned: dt.date | None, late_from: dt.date) -> dt.date:
    """End of the part of ``window`` the DSO has answered for good. Days from ``late_from`` on may still be
    published late, so they count only when returned; older days the DSO did not return are holes it will
    not fill, and asking again every day would spend the quota for nothing."""
    start, end = window
    if end <= late_from:
        return end
    if last_returned is not None:
        return max(min(late_from, end), last_returned + dt.timedelta(days=1))
    return max(start, min(late_from, end))


def jsonable_contract(contract: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The contract fields a connector keeps, dates as ISO strings (stored as JSONB, compared as is)."""
    keep = set(fields)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items() if k in keep}


async def collected_ranges(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID) -> list[Range]:
    rows = await session.execute(sa.select(table.c.first_day, table.c.end_day).where(table.c.meter_id == meter_id))
    return [(r.first_day, r.end_day) for r in rows]


async def add_collected(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, new: Range) -> None:
    """Merges ``new`` into the meter's ranges; the caller holds the meter's cursor, so no race."""
    merged = merge_ranges([*await collected_ranges(session, table, meter_id), new])
    await session.execute(sa.delete(table).where(table.c.meter_id == meter_id))
    await session.execute(sa.insert(table), [{"meter_id": meter_id, "first_day": a, "end_day": b} for a, b in merged])


# --- the quota, shared by every replica ------------------------------------------------------------------

class DailyQuotaReached(Exception):
    """The day's calls are all spent: nothing more until ``until`` (midnight, Europe/Paris)."""

    def __init__(self, name: str, per_day: int, until: dt.datetime, now: dt.datetime):
        super().__init__(f"daily quota of {per_day} calls reached for {name} until {until.isoformat()}")
        self.until = until
        self.retry_after = max(1.0, (until - now).total_seconds())


@dataclass(frozen=True)
class Reservation:
    """What one ``take`` leaves in the bucket's row, and how long the caller waits before calling."""
    tokens: float
    wait: float
    day: dt.date
    day_taken: int
    hour_start: dt.datetime
    hour_taken: int


def reserve(row, now: dt.datetime, n: float = 1.0) -> Reservation:
    """Pure: reserves ``n`` tokens of ``row`` (a rate_buckets row) at ``now`` (the database's clock), or
    raises DailyQuotaReached. A call counts in the day it is scheduled to reach the DSO, not the day it
    was reserved, so a queue that runs over midnight spends the new day's calls."""
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    tokens = min(row.capacity, row.tokens + row.rate * elapsed) - n
    wait = -tokens / row.rate if tokens < 0 else 0.0
    day = (now + dt.timedelta(seconds=wait)).astimezone(PARIS).date()
    day_taken = row.day_taken if row.day_start is not None and day <= row.day_start else 0
    if row.per_day is not None and day_taken + n > row.per_day:
        midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS)
        raise DailyQuotaReached(row.name, row.per_day, midnight.astimezone(dt.UTC), now)
    hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    hour_taken = row.hour_taken if row.hour_start >= hour else 0
    return Reservation(tokens=tokens, wait=wait, day=max(day, row.day_start or day), day_taken=int(day_taken + n),
                       hour_start=hour, hour_taken=int(hour_taken + n))


# Calls are scheduled in PostgreSQL when they are reserved, but the DSO counts them when they arrive, and
# what lies between (the sleep's wake-up, the event loop, the HTTP client, the DSO gateway's own queue)
# varies from call to call: a call late by j seconds behind its successors squeezes the calls of 1 + j
# seconds into the DSO's one-second window. The rate keeps room for that spread, C + r (1 + j) <= per
# second, rather than aiming at the quota exactly (the Enedis bench at 20/s saw a 429 every ~230 calls
# with no room). 0.1 s is a tenth of the window: it costs 9 % of the per-second rate, and at 20 calls/s
# with C = 1 a call must be 158 ms late against a later one before the DSO sees a 21st call in a second.
DEFAULT_ARRIVAL_JITTER_S = 0.1


class TokenBucket:
    """A token bucket in one PostgreSQL row, shared by every replica.

    ``take`` reserves tokens in one transaction (the row locked, the refill since the last update added);
    a negative balance is a queue position: the caller sleeps balance / rate and then calls. The DSO counts
    calls in sliding windows, where a bucket of capacity C and rate r lets C + r*T calls through in any T
    seconds, so r is chosen so that both the per-second and the hourly quota hold, with room for the
    arrival jitter j: C + r (1 + j) <= per_second and C + r (3600 + j) <= per_hour. A daily quota is a
    count per calendar day instead (see ``reserve``): spreading it over the hours would slow a first
    collection to a crawl, while counting lets the day's calls go at the per-second pace until they are
    spent.
    """

    def __init__(self, db: Database, table: sa.Table, name: str, *, per_second: float, per_hour: int | None = None,
                 per_day: int | None = None, capacity: float = 1.0,
                 arrival_jitter_s: float = DEFAULT_ARRIVAL_JITTER_S):
        if per_second <= capacity or (per_hour is not None and per_hour <= capacity):
            raise ValueError("quotas must exceed the bucket capacity")
        if per_day is not None and per_day < 1:
            raise ValueError("a daily quota allows one call at least")
        if arrival_jitter_s < 0:
            raise ValueError("the arrival jitter is a duration")
        self.db = db
        self.table = table
        self.name = name
        self.per_second = per_second
        self.per_hour = per_hour
        self.per_day = per_day
        self.capacity = capacity
        self.arrival_jitter_s = arrival_jitter_s
        self.rate = (per_second - capacity) / (1.0 + arrival_jitter_s)
        if per_hour is not None:
            self.rate = min(self.rate, (per_hour - capacity) / (3600.0 + arrival_jitter_s))

    async def ensure(self) -> None:
        t = self.table
        quotas = {"capacity": self.capacity, "rate": self.rate, "per_second": self.per_second,
                  "per_hour": self.per_hour, "per_day": self.per_day}
        async with self.db.session() as session, session.begin():
            stmt = insert(t).values(name=self.name, tokens=self.capacity, **quotas)
            await session.execute(stmt.on_conflict_do_update(index_elements=[t.c.name], set_={
                **quotas, "tokens": sa.func.least(t.c.tokens, self.capacity)}))

    async def take(self, n: float = 1.0) -> float:
        """Takes n tokens, sleeping as long as the quota requires; returns the seconds waited. Raises
        DailyQuotaReached, taking nothing, when the day's quota is spent."""
        t = self.table
        async with self.db.session() as session, session.begin():
            found = (await session.execute(
                sa.select(t, sa.func.clock_timestamp().label("now")).where(t.c.name == self.name)
                .with_for_update())).one_or_none()
            # The wait counts from the database's clock reading: the commit's latency, which varies, is
            # taken off the sleep rather than added to the arrival jitter.
            read_at = time.monotonic()
            if found is not None:
                taken = reserve(found, found.now, n)
                await session.execute(sa.update(t).where(t.c.name == self.name).values(
                    tokens=taken.tokens, updated_at=found.now, day_start=taken.day, day_taken=taken.day_taken,
                    hour_start=taken.hour_start, hour_taken=taken.hour_taken, taken_total=t.c.taken_total + n))
        if found is None:
            await self.ensure()
            return await self.take(n)
        due = read_at + taken.wait
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        # Woken later than the room kept for jitter (a busy event loop): calling now would crowd the calls of
        # the next slots into one DSO window. The slot is given up and a new one taken.
        if time.monotonic() - due > self.arrival_jitter_s:
            return max(wait, 0.0) + await self.take(n)
        return max(wait, 0.0)

    async def penalise(self, seconds: float) -> None:
        """After a 429 every replica pauses: the bucket owes ``seconds`` of refill before the next call."""
        async with self.db.session() as session, session.begin():
            await session.execute(sa.text(
                """
                UPDATE {t} SET
                  tokens = LEAST(LEAST(capacity, tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at)),
                                 -rate * :s),
                  updated_at = clock_timestamp()
                WHERE name = :name
                """.format(t=_qualified(self.table))), {"s": seconds, "name": self.name})

    async def usage(self) -> dict:
        t = self.table
        async with self.db.session() as session:
            row = (await session.execute(sa.select(t).where(t.c.name == self.name))).one_or_none()
        if row is None:
            return {"per_second": self.per_second, "per_hour": self.per_hour, "per_day": self.per_day,
                    "this_hour": 0, "today": 0, "total": 0}
        now = dt.datetime.now(dt.UTC)
        this_hour = row.hour_taken if row.hour_start >= now.replace(minute=0, second=0, microsecond=0) else 0
        today = row.day_taken if row.day_start is not None and row.day_start >= now.astimezone(PARIS).date() else 0
        return {"per_second": row.per_second, "per_hour": row.per_hour, "per_day": row.per_day,
                "rate_used": round(row.rate, 4), "this_hour": this_hour, "today": today, "total": row.taken_total}


def _qualified(table: sa.Table) -> str:
    return f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'


# --- settings ---------------------------------------------------------------------------------------------

LOCAL_CLIENT_SECRET = "metroenergies-local-secret"


class CollectionSettings(ServiceSettings):
    """What every connector's collection is tuned by; a connector sets its DSO's defaults and env prefix."""

    client_id: str
    client_secret: str = LOCAL_CLIENT_SECRET
    quota_per_second: float
    # Room kept in the per-second rate for the spread of arrival times at the DSO (see TokenBucket).
    quota_arrival_jitter_s: float = DEFAULT_ARRIVAL_JITTER_S
    # Local time (Europe/Paris) of the daily cycle, after the DSO publishes, and its spread.
    cycle_time: dt.time
    cycle_jitter_minutes: float = 60.0
    concurrency: int = 8
    lease_seconds: float = 120.0
    poll_interval_s: float = 0.5
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    backoff_base_s: float = 60.0
    contract_refresh_days: int = 7
    raw_retention_days: int = 90

    @model_validator(mode="after")
    def _refuse_local_client_secret(self):
        if not self.local_mode and self.client_secret == LOCAL_CLIENT_SECRET:
            raise ValueError("client_secret keeps its local default outside local mode")
        return self

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "client_secret": self.client_secret}


# --- work sharing ---------------------------------------------------------------------------------------

async def claim_due(db: Database, cursors: sa.Table, owner: str, limit: int, lease_seconds: float) -> list:
    """Due cursors for this replica only: SKIP LOCKED so replicas never wait on each other, and a lease
    so a replica that dies gives its meters back after ``lease_seconds``."""
    if limit <= 0:
        return []
    t = cursors
    now = sa.func.now()
    due = (sa.select(t.c.meter_id)
           .where(t.c.active, t.c.next_due_at <= now, sa.or_(t.c.lease_until.is_(None), t.c.lease_until < now))
           .order_by(t.c.next_due_at).limit(limit).with_for_update(skip_locked=True))
    async with db.session() as session, session.begin():
        rows = (await session.execute(
            sa.update(t).where(t.c.meter_id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + dt.timedelta(seconds=lease_seconds))
            .returning(*t.c))).all()
    return rows


async def renew_lease(session: AsyncSession, cursors: sa.Table, meter_id: uuid.UUID, owner: str,
                      lease_seconds: float, **values) -> bool:
    """Updates the cursor only while this replica holds it; False means the lease was lost and the
    caller must roll back what it was about to commit."""
    t = cursors
    result = await session.execute(
        sa.update(t).where(t.c.meter_id == meter_id, t.c.lease_owner == owner)
        .values(lease_until=sa.func.now() + dt.timedelta(seconds=lease_seconds), **values))
    return result.rowcount == 1


async def release(session: AsyncSession, cursors: sa.Table, meter_id: uuid.UUID, owner: str, **values) -> None:
    t = cursors
    await session.execute(sa.update(t).where(t.c.meter_id == meter_id, t.c.lease_owner == owner)
                          .values(lease_owner=None, lease_until=None, **values))


# --- scheduling and policy -------------------------------------------------------------------------------

def next_publication(now: dt.datetime, publication_time: dt.time, *, jitter_s: float = 0.0,
                     rng: random.Random | None = None) -> dt.datetime:
    """The next moment, after ``now``, when the DSO publishes (local time), plus a random spread so that
    replicas and meters do not all start on the same second."""
    local = now.astimezone(PARIS)
    at = dt.datetime.combine(local.date(), publication_time, PARIS)
    if at <= local:
        at = dt.datetime.combine(local.date() + dt.timedelta(days=1), publication_time, PARIS)
    spread = (rng or random).uniform(0, jitter_s) if jitter_s > 0 else 0.0
    return at.astimezone(dt.UTC) + dt.timedelta(seconds=spread)


@dataclass(frozen=True)
class Policy:
    """One answer per outcome. Transient errors retry in place ``transient_attempts`` times per cycle with
    exponential backoff and full jitter, then the meter waits ``backoff_base_s * 2**attempts`` (capped)."""
    transient_attempts: int = 3
    retry_base_s: float = 0.5
    retry_max_s: float = 8.0
    quota_attempts: int = 6
    quota_default_wait_s: float = 1.0
    backoff_base_s: float = 60.0
    backoff_max_s: float = 6 * 3600.0

    def retry_delay(self, attempt: int, rng: random.Random | None = None) -> float:
        return (rng or random).uniform(0.5, 1.0) * min(self.retry_max_s, self.retry_base_s * 2 ** attempt)

    def quota_wait(self, error: DsoError, attempt: int) -> float:
        if error.retry_after:
            return error.retry_after
        return min(self.retry_max_s * 8, self.quota_default_wait_s * 2 ** attempt)

    def next_attempt(self, now: dt.datetime, attempts: int, rng: random.Random | None = None) -> dt.datetime:
        delay = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(attempts - 1, 0))
        return now + dt.timedelta(seconds=delay * (rng or random).uniform(0.8, 1.2))


class CallFailed(Exception):
    """A call that still failed after the retries the policy allows in this cycle."""

    def __init__(self, error: DsoError):
        super().__init__(str(error))
        self.error = error


@dataclass
class CallStats:
    """What one replica did for one meter; folded into the open cycle at the end."""
    outcomes: Counter = field(default_factory=Counter)
    calls: int = 0
    throttled: int = 0


async def call_dso(dso: str, bucket: TokenBucket, policy: Policy, stats: CallStats, make_call, *,
                   sleep=asyncio.sleep):
    """One DSO call under the shared quota, with the policy for QuotaExceeded and Transient applied.

    Returns the call's result; raises CallFailed with the outcome when the policy gives up for this cycle,
    and lets ConsentRevoked, NoData and BadRequest through as CallFailed at once (no retry).
    """
    transient = quota = 0
    while True:
        try:
            await bucket.take()
        except DailyQuotaReached as spent:
            # No call was made: the meter waits for the next day as if the DSO had answered 429.
            raise CallFailed(QuotaExceeded(str(spent), retry_after=spent.retry_after)) from spent
        stats.calls += 1
        try:
            result = await make_call()
        except DsoError as error:
            outcome = error.outcome
            stats.outcomes[outcome.value] += 1
            DSO_CALLS.labels(dso, outcome.value).inc()
            if outcome is Outcome.quota_exceeded:
                stats.throttled += 1
                wait = policy.quota_wait(error, quota)
                quota += 1
                if quota > policy.quota_attempts:
                    raise CallFailed(error) from error
                await bucket.penalise(wait)
                await sleep(wait)
                continue
            if outcome is Outcome.transient:
                transient += 1
                if transient >= policy.transient_attempts:
                    raise CallFailed(error) from error
                await sleep(policy.retry_delay(transient))
                continue
            raise CallFailed(error) from error
        stats.outcomes[Outcome.ok.value] += 1
        DSO_CALLS.labels(dso, Outcome.ok.value).inc()
        return result


# --- cycles ---------------------------------------------------------------------------------------------

async def open_cycle(session: AsyncSession, cycles: sa.Table, dso: str, trigger: str = "schedule") -> uuid.UUID:
    """The open cycle of this DSO, opened now when there is none."""
    t = cycles
    await session.execute(insert(t).values(id=uuid.uuid4(), dso=dso, trigger=trigger)
                          .on_conflict_do_nothing(index_elements=[t.c.dso],
                                                  index_where=t.c.finished_at.is_(None)))
    return (await session.execute(sa.select(t.c.id).where(t.c.dso == dso, t.c.finished_at.is_(None)))).scalar_one()


async def record_in_cycle(session: AsyncSession, cycles: sa.Table, dso: str, stats: CallStats, meters: int = 1) -> None:
    t = cycles
    outcomes = t.c.outcomes
    for name, n in stats.outcomes.items():
        outcomes = sa.func.jsonb_set(outcomes, sa.literal([name], sa.ARRAY(sa.Text)),
                                     sa.func.to_jsonb(sa.func.coalesce(
                                         t.c.outcomes.op("->>")(name).cast(sa.Integer), 0) + n))
    await session.execute(sa.update(t).where(t.c.dso == dso, t.c.finished_at.is_(None)).values(
        outcomes=outcomes, calls=t.c.calls + stats.calls, throttled=t.c.throttled + stats.throttled,
        meters=t.c.meters + meters))


async def close_cycle_if_idle(db: Database, cycles: sa.Table, cursors: sa.Table, dso: str) -> bool:
    """Closes the open cycle once no cursor is due nor held by any replica."""
    c = cursors
    async with db.session() as session, session.begin():
        busy = (await session.execute(sa.select(sa.exists().where(
            c.c.active, sa.or_(c.c.next_due_at <= sa.func.now(), c.c.lease_until > sa.func.now()))))).scalar()
        if busy:
            return False
        result = await session.execute(sa.update(cycles).where(cycles.c.dso == dso, cycles.c.finished_at.is_(None))
                                       .values(finished_at=sa.func.now()))
        return result.rowcount > 0


def cycle_view(row) -> dict | None:
    if row is None:
        return None
    return {"id": str(row.id), "trigger": row.trigger, "started_at": row.started_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
            "outcomes": dict(row.outcomes), "meters": row.meters, "calls": row.calls, "throttled": row.throttled}


# --- one meter's collection -----------------------------------------------------------------------------

class LeaseLost(Exception):
    """Another replica took the meter (this one was too slow): what was about to be committed is dropped."""


class Collector:
    """Collects one meter under the shared quota: the contract when stale, then the days not yet collected,
    newest window first, each answer committed with its events; one policy per outcome.

    A connector subclasses it with its DSO's ``capabilities``, ``store`` and raw payload kind, and the
    methods marked "the connector's" below: its client calls, its payloads and events.
    """
    capabilities: Capabilities
    store: CollectionStore
    raw_kind: str
    supply_ended_codes: frozenset[str] = frozenset()

    def __init__(self, rt, client, bucket: TokenBucket, owner: str, rng: random.Random | None = None):
        self.rt = rt
        self.settings: CollectionSettings = rt.settings
        self.client = client
        self.bucket = bucket
        self.owner = owner
        self.rng = rng or random.Random()
        s = self.settings
        self.policy = Policy(transient_attempts=s.transient_attempts, retry_base_s=s.retry_base_s,
                             backoff_base_s=s.backoff_base_s)

    # The connector's: what to ask the DSO and what its answers become.

    def last_published_day(self, now: dt.datetime) -> dt.date:
        raise NotImplementedError

    def history_start(self, cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
        raise NotImplementedError

    def windows(self, gap: Range, today: dt.date) -> list[Range]:
        raise NotImplementedError

    async def fetch_window(self, cursor, window: Range, raw: list[Any]) -> list:
        """The readings of ``window``, appending the DSO's answer as received to ``raw``."""
        raise NotImplementedError

    def last_day(self, readings: list) -> dt.date | None:
        raise NotImplementedError

    def readings_events(self, cursor, readings: list) -> list[ReadingsCollected]:
        raise NotImplementedError

    async def fetch_contract(self, cursor, stats: CallStats) -> dict[str, Any] | None:
        """The contract as JSON, or None to keep the one known."""
        raise NotImplementedError

    def contract_event(self, cursor, contract: dict[str, Any]) -> ContractChanged:
        raise NotImplementedError

    def raw_body(self, raw: list[Any]) -> Any:
        return raw or None

    def no_data_is_final(self, error: DsoError, window: Range, late_from: dt.date) -> bool:
        """NoData for days the DSO will not publish any more: the window counts as collected."""
        return window[1] <= late_from

    def supply_ended(self, contract: dict[str, Any] | None) -> bool:
        return False

    def revoked_event(self, cursor, reason: str, code: str | None) -> ConsentRevoked:
        return ConsentRevoked(consent_id=cursor.consent_id, meter_id=cursor.meter_id, account_id=cursor.account_id,
                              dso=self.capabilities.dso, channel=self.capabilities.channel,
                              identifier=cursor.identifier, reason=reason, dso_reference=cursor.dso_reference)

    async def on_revoked(self, session: AsyncSession, cursor) -> None:
        """What else the connector records when the DSO says the consent is gone."""

    # The shared mechanism.

    def next_cycle(self, now: dt.datetime) -> dt.datetime:
        return next_publication(now, self.settings.cycle_time, jitter_s=self.settings.cycle_jitter_minutes * 60,
                                rng=self.rng)

    async def call(self, stats: CallStats, make_call):
        return await call_dso(self.capabilities.dso, self.bucket, self.policy, stats, make_call)

    async def collect(self, cursor) -> None:
        stats = CallStats()
        try:
            outcome, values = await self._collect(cursor, stats)
        except LeaseLost:
            log.warning("lease lost", extra={"meter_id": str(cursor.meter_id)})
            return
        except CallFailed as failed:
            outcome, values = self._on_failure(cursor, failed)
        except Exception as exc:
            log.exception("collection failed", extra={"meter_id": str(cursor.meter_id)})
            outcome = Outcome.transient
            values = {"attempts": cursor.attempts + 1, "last_error": repr(exc)[:500],
                      "next_due_at": self.policy.next_attempt(dt.datetime.now(dt.UTC), cursor.attempts + 1)}
        async with self.rt.db.session() as session, session.begin():
            if outcome is Outcome.consent_revoked:
                await self._revoke(session, cursor, values["reason"], values.get("code"))
            else:
                await release(session, self.store.cursors, cursor.meter_id, self.owner, last_outcome=outcome.value,
                              **values)
            await record_in_cycle(session, self.store.cycles, self.capabilities.dso, stats)

    async def _collect(self, cursor, stats: CallStats) -> tuple[Outcome, dict]:
        s = self.settings
        caps = self.capabilities
        now = dt.datetime.now(dt.UTC)
        contract = cursor.contract
        stale = cursor.contract_checked_at is None or \
            now - cursor.contract_checked_at > dt.timedelta(days=s.contract_refresh_days)
        if contract is None or stale:
            contract = await self._refresh_contract(cursor, contract, stats)
            if self.supply_ended(contract):
                return Outcome.consent_revoked, {"reason": "supply_ended"}
        today = now.astimezone(PARIS).date()
        last_published = self.last_published_day(now)
        late_from = last_published - dt.timedelta(days=caps.lag_days_max - caps.lag_days_min)
        wanted = (self.history_start(cursor, contract, today), last_published + dt.timedelta(days=1))
        async with self.rt.db.session() as session:
            have = await collected_ranges(session, self.store.collected_ranges, cursor.meter_id)
        windows = [w for gap in missing_ranges(wanted, have) for w in self.windows(gap, today)]
        outcome = Outcome.ok
        # Newest first: the resident sees last month before the history fills in.
        for window in reversed(windows):
            raw: list[Any] = []
            try:
                readings = await self.call(stats, lambda w=window, raw=raw: self.fetch_window(cursor, w, raw))
            except CallFailed as failed:
                if failed.error.outcome is not Outcome.no_data:
                    raise
                if self.no_data_is_final(failed.error, window, late_from):
                    await self._commit_window(cursor, window, [], None, window[1])
                else:
                    outcome = Outcome.no_data
                continue
            await self._commit_window(cursor, window, readings, self.raw_body(raw),
                                      covered_until(window, self.last_day(readings), late_from))
        return outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}

    async def _refresh_contract(self, cursor, previous: dict | None, stats: CallStats) -> dict | None:
        fresh = await self.fetch_contract(cursor, stats)
        if fresh is None:
            return previous
        async with self.rt.db.session() as session, session.begin():
            if not await renew_lease(session, self.store.cursors, cursor.meter_id, self.owner,
                                     self.settings.lease_seconds, contract=fresh, contract_checked_at=sa.func.now()):
                raise LeaseLost()
            if fresh != previous:
                await self.rt.outbox.add(session, self.contract_event(cursor, fresh))
        return fresh

    async def _commit_window(self, cursor, window: Range, readings: list, body: Any, covered_end: dt.date) -> None:
        """One transaction: the readings events, the raw answer, the collected days and the cursor, so a
        crash loses nothing and a restart asks only what was not committed."""
        store = self.store
        async with self.rt.db.session() as session, session.begin():
            values: dict[str, Any] = {}
            if readings:
                values = {"last_success_at": sa.func.now(),
                          "last_day": sa.func.greatest(store.cursors.c.last_day, self.last_day(readings))}
            if not await renew_lease(session, store.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     **values):
                raise LeaseLost()
            if body is not None:
                await store.keep_raw(session, cursor.meter_id, self.raw_kind, body, self.settings.raw_retention_days,
                                     window)
            if covered_end > window[0]:
                await add_collected(session, store.collected_ranges, cursor.meter_id, (window[0], covered_end))
            await self.rt.outbox.add_many(session, self.readings_events(cursor, readings))

    def _on_failure(self, cursor, failed: CallFailed) -> tuple[Outcome, dict]:
        error = failed.error
        now = dt.datetime.now(dt.UTC)
        detail = f"{error.code or ''} {error}"[:500]
        if error.outcome is Outcome.consent_revoked:
            return error.outcome, {"reason": "supply_ended" if error.code in self.supply_ended_codes else "dso",
                                   "code": error.code}
        if error.outcome is Outcome.no_data:
            return error.outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}
        if error.outcome is Outcome.bad_request:
            log.warning("request refused by the DSO", extra={"meter_id": str(cursor.meter_id), "error": detail,
                                                             "dso": self.capabilities.dso})
            return error.outcome, {"last_error": detail, "next_due_at": self.next_cycle(now)}
        attempts = cursor.attempts + 1
        next_at = self.policy.next_attempt(now, attempts, self.rng)
        if error.outcome is Outcome.quota_exceeded and error.retry_after:
            next_at = max(next_at, now + dt.timedelta(seconds=error.retry_after))
        return error.outcome, {"attempts": attempts, "last_error": detail, "next_due_at": next_at}

    async def _revoke(self, session: AsyncSession, cursor, reason: str, code: str | None) -> None:
        """The DSO says the consent is gone: stop now, tell the consent service; collected history stays."""
        await self.store.deactivate(session, cursor.meter_id, None, Outcome.consent_revoked.value)
        await self.on_revoked(session, cursor)
        await self.rt.outbox.add(session, self.revoked_event(cursor, reason, code))


# --- the collection loop --------------------------------------------------------------------------------

PURGE_EVERY_S = 3600.0


async def start_collection(rt, client, bucket: TokenBucket) -> None:
    """What a connector's workers find in ``rt.extras``: its DSO client, the shared bucket, a wake-up."""
    rt.extras["client"] = client
    await bucket.ensure()
    rt.extras.update(bucket=bucket, wake=asyncio.Event())


async def stop_collection(rt) -> None:
    client = rt.extras.get("client")
    if client is not None:
        await client.aclose()


def replica_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def run_collection(rt, collector: Collector, wake: asyncio.Event) -> None:
    """Each replica claims due meters (SKIP LOCKED + lease) and collects them under the quota shared by
    every replica; a cycle opens when work appears and closes when none is left."""
    s: CollectionSettings = rt.settings
    store, dso = collector.store, collector.capabilities.dso
    running: set[asyncio.Task] = set()
    last_purge = 0.0
    try:
        while not rt.stop.is_set():
            try:
                claimed = await claim_due(rt.db, store.cursors, collector.owner, s.concurrency - len(running),
                                          s.lease_seconds)
                if claimed:
                    async with rt.db.session() as session, session.begin():
                        await open_cycle(session, store.cycles, dso)
                    for cursor in claimed:
                        task = asyncio.create_task(collector.collect(cursor), name=f"collect:{cursor.meter_id}")
                        running.add(task)
                        task.add_done_callback(running.discard)
                elif not running:
                    await close_cycle_if_idle(rt.db, store.cycles, store.cursors, dso)
                if time.monotonic() - last_purge > PURGE_EVERY_S:
                    async with rt.db.session() as session, session.begin():
                        await store.purge_raw(session)
                    last_purge = time.monotonic()
            except Exception:
                log.exception("collection loop failed")
            if len(running) >= s.concurrency:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), s.poll_interval_s)
            except TimeoutError:
                pass
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
