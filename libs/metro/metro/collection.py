"""What every DSO connector's collection shares: its tables, the quota shared by every replica, work
sharing, one policy per outcome, cycle reports and scheduling at the DSO's publication time.

DSO-agnostic: a connector brings its client and decides which periods to ask; this module decides when,
how fast, by whom, and what each outcome means.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from metro.db import Database
from metro.dso import DsoError, Outcome
from metro.metrics import DSO_CALLS

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
        sa.Column("per_hour", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("hour_taken", sa.Integer, nullable=False, server_default="0"),
        sa.Column("taken_total", sa.BigInteger, nullable=False, server_default="0"),
    )


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


async def collected_ranges(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID) -> list[Range]:
    rows = await session.execute(sa.select(table.c.first_day, table.c.end_day).where(table.c.meter_id == meter_id))
    return [(r.first_day, r.end_day) for r in rows]


async def add_collected(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, new: Range) -> None:
    """Merges ``new`` into the meter's ranges; the caller holds the meter's cursor, so no race."""
    merged = merge_ranges([*await collected_ranges(session, table, meter_id), new])
    await session.execute(sa.delete(table).where(table.c.meter_id == meter_id))
    await session.execute(sa.insert(table), [{"meter_id": meter_id, "first_day": a, "end_day": b} for a, b in merged])


# --- the quota, shared by every replica ------------------------------------------------------------------

class TokenBucket:
    """A token bucket in one PostgreSQL row, shared by every replica.

    ``take`` reserves tokens with one UPDATE ... RETURNING that adds the refill since the last update; a
    negative balance is a queue position: the caller sleeps balance / rate and then calls. The DSO counts
    calls in sliding windows, where a bucket of capacity C and rate r lets C + r*T calls through in any T
    seconds, so r is chosen so that both the per-second and the hourly quota hold: C + r <= per_second and
    C + 3600 r <= per_hour. Over a long run that is the quota to within one call per window.
    """

    def __init__(self, db: Database, table: sa.Table, name: str, *, per_second: float, per_hour: int,
                 capacity: float = 1.0):
        if per_second <= capacity or per_hour <= capacity:
            raise ValueError("quotas must exceed the bucket capacity")
        self.db = db
        self.table = table
        self.name = name
        self.per_second = per_second
        self.per_hour = per_hour
        self.capacity = capacity
        self.rate = min(per_second - capacity, (per_hour - capacity) / 3600.0)

    async def ensure(self) -> None:
        t = self.table
        async with self.db.session() as session, session.begin():
            stmt = insert(t).values(name=self.name, tokens=self.capacity, capacity=self.capacity, rate=self.rate,
                                    per_second=self.per_second, per_hour=self.per_hour)
            await session.execute(stmt.on_conflict_do_update(index_elements=[t.c.name], set_={
                "capacity": self.capacity, "rate": self.rate, "per_second": self.per_second,
                "per_hour": self.per_hour, "tokens": sa.func.least(t.c.tokens, self.capacity)}))

    async def take(self, n: float = 1.0) -> float:
        """Takes n tokens, sleeping as long as the quota requires; returns the seconds waited."""
        async with self.db.session() as session, session.begin():
            balance = (await session.execute(sa.text(
                """
                UPDATE {t} SET
                  tokens = LEAST(capacity, tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at)) - :n,
                  updated_at = clock_timestamp(),
                  hour_taken = CASE WHEN date_trunc('hour', clock_timestamp()) > hour_start THEN 0
                                    ELSE hour_taken END + :n,
                  hour_start = date_trunc('hour', clock_timestamp()),
                  taken_total = taken_total + :n
                WHERE name = :name
                RETURNING tokens, rate
                """.format(t=_qualified(self.table))), {"n": n, "name": self.name})).one_or_none()
        if balance is None:
            await self.ensure()
            return await self.take(n)
        wait = -balance.tokens / balance.rate if balance.tokens < 0 else 0.0
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

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
            return {"per_second": self.per_second, "per_hour": self.per_hour, "this_hour": 0, "total": 0}
        this_hour = row.hour_taken if row.hour_start >= dt.datetime.now(dt.UTC).replace(
            minute=0, second=0, microsecond=0) else 0
        return {"per_second": row.per_second, "per_hour": row.per_hour, "rate_used": round(row.rate, 4),
                "this_hour": this_hour, "total": row.taken_total}


def _qualified(table: sa.Table) -> str:
    return f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'


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
        await bucket.take()
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
