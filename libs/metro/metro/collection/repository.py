"""Every statement on a connector's collection tables: cursors and their leases, collected ranges, raw
payloads, cycles and the quota's bucket row."""
from __future__ import annotations

import datetime as dt
import uuid
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from metro.collection.days import Range, merge_ranges
from metro.db import Database
from metro.dso import Outcome
from metro.erasure import subject_hash
from metro.events import ConsentGranted

if TYPE_CHECKING:
    from metro.collection.policy import CallStats
    from metro.collection.quota import Reservation

# --- cursors, raw payloads, the report ----------------------------------------------------------------------

FAILING = [Outcome.transient.value, Outcome.quota_exceeded.value, Outcome.bad_request.value]


@dataclass(frozen=True)
class CollectionStore:
    """Every statement on one connector's collection tables other than the leases and cycles below."""
    dso: str
    cursors: sa.Table
    collected_ranges: sa.Table
    cycles: sa.Table
    raw_payloads: sa.Table
    ended_consents: sa.Table
    # The days a DSO kept failing inside otherwise good answers; None for a DSO that never answers in part.
    gaps: sa.Table | None = None

    async def upsert_cursor(self, session: AsyncSession, consent: ConsentGranted) -> None:
        """A consent (new or renewed) makes the meter due now; collected history stays."""
        values = {
            "meter_id": consent.meter_id, "consent_id": consent.consent_id, "account_id": consent.account_id,
            "identifier": consent.identifier, "dso_reference": consent.dso_reference,
            "history_from": consent.history_from, "expires_at": consent.expires_at,
            "active": True, "next_due_at": sa.func.now(), "attempts": 0, "last_error": None,
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

    async def freshness_counts(self, session: AsyncSession, newest: dt.date, on_time: dt.date,
                               failing: list[str]) -> dict[str, int]:
        """The meters under consent by freshness, as metro.dso.freshness tells each one, counted in one
        statement: ``newest`` the newest day the DSO publishes by now, ``on_time`` the newest it must have
        published even at its longest lag, ``failing`` the outcomes that mean collection fails."""
        c = self.cursors.c
        state = sa.case((c.last_day >= newest, "fresh"), (c.last_outcome.in_(failing), "collection_failing"),
                        (sa.and_(c.last_day.is_(None), c.last_outcome.is_(None)), "pending"),
                        (c.last_day >= on_time, "dso_late"), else_="collection_failing").label("state")
        rows = await session.execute(sa.select(state, sa.func.count()).where(c.active).group_by(state))
        return {name: n for name, n in rows.all()}

    async def collection_of(self, session: AsyncSession, meter_ids: list[uuid.UUID]) -> list[sa.Row]:
        c = self.cursors.c
        return list((await session.execute(sa.select(c.meter_id, c.active, c.last_day, c.last_outcome, c.next_due_at)
                                           .where(c.meter_id.in_(meter_ids)))).all())

    async def end_consents(self, session: AsyncSession, consent_ids: list[uuid.UUID | None],
                           reason: str) -> None:
        await end_consents(session, self.ended_consents, consent_ids, reason)

    async def ended_among(self, session: AsyncSession, consent_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return await ended_among(session, self.ended_consents, consent_ids)

    async def cursor_consents(self, session: AsyncSession, account_id: uuid.UUID,
                              meter_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        c = self.cursors.c
        owned = sa.or_(c.account_id == account_id, c.meter_id.in_(meter_ids))
        return list((await session.execute(sa.select(c.consent_id).where(owned))).scalars())

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

    async def known_meters(self, session: AsyncSession, meter_ids: list[uuid.UUID],
                           identifiers: list[str]) -> list[uuid.UUID]:
        """Meters that still have a cursor (an erasure removes it) among those named, every one if none is."""
        c = self.cursors.c
        stmt = sa.select(c.meter_id).order_by(c.meter_id)
        if meter_ids or identifiers:
            stmt = stmt.where(sa.or_(c.meter_id.in_(meter_ids), c.identifier.in_(identifiers)))
        return list((await session.execute(stmt)).scalars())

    async def kept_raw(self, session: AsyncSession, meter_id: uuid.UUID, kind: str,
                       days: Range | None) -> list:
        """The meter's answers still within their retention, oldest first, those about ``days`` when given."""
        t = self.raw_payloads
        stmt = (sa.select(t.c.period_start, t.c.period_end, t.c.body)
                .where(t.c.meter_id == meter_id, t.c.kind == kind, t.c.retain_until >= sa.func.now())
                .order_by(t.c.received_at, t.c.id))
        if days is not None:
            stmt = stmt.where(sa.or_(t.c.period_start.is_(None), sa.and_(t.c.period_start < days[1],
                                                                         t.c.period_end > days[0])))
        return list(await session.execute(stmt))

    async def purge_raw(self, session: AsyncSession) -> int:
        t = self.raw_payloads
        result = await session.execute(sa.delete(t).where(t.c.retain_until < sa.func.now()))
        return result.rowcount or 0

    async def health(self, session: AsyncSession) -> tuple[dt.datetime | None, dict[str, int]]:
        """When the last cycle with a successful call finished, and the active meters failing by outcome."""
        cycles, c = self.cycles, self.cursors.c
        last_success = (await session.execute(sa.select(sa.func.max(cycles.c.finished_at)).where(
            cycles.c.dso == self.dso, cycles.c.outcomes.has_key("ok")))).scalar_one()
        failing = dict((await session.execute(
            sa.select(c.last_outcome, sa.func.count()).where(c.active, c.last_outcome.in_(FAILING))
            .group_by(c.last_outcome))).all())
        return last_success, {outcome: failing.get(outcome, 0) for outcome in FAILING}

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
        report = {"last_cycle": last, "meters_collected": collected, "meters_active": active,
                  "failures": {**by_outcome, "meters": [
                      {"meter_id": str(r.meter_id), "outcome": r.last_outcome, "error": r.last_error,
                       "attempts": r.attempts, "next_attempt_at": r.next_due_at.isoformat()}
                      for r in failing]}}
        if self.gaps is not None:
            report["gaps"] = await gaps_report(session, self.gaps, self.cursors)
        return report


# --- consents ended here ------------------------------------------------------------------------------------

async def end_consents(session: AsyncSession, table: sa.Table, consent_ids: list[uuid.UUID | None],
                       reason: str) -> None:
    """Remembers consents as ended for good; the first reason recorded stays."""
    rows = [{"consent_hash": subject_hash(c), "reason": reason} for c in set(consent_ids) if c is not None]
    if rows:
        await session.execute(insert(table).values(rows).on_conflict_do_nothing(
            index_elements=[table.c.consent_hash]))


async def ended_among(session: AsyncSession, table: sa.Table, consent_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    by_hash = {subject_hash(c): c for c in consent_ids}
    if not by_hash:
        return set()
    found = await session.execute(
        sa.select(table.c.consent_hash).where(table.c.consent_hash.in_(list(by_hash))))
    return {by_hash[h] for h in found.scalars()}


# --- collected ranges ---------------------------------------------------------------------------------------

async def collected_ranges(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID) -> list[Range]:
    rows = await session.execute(sa.select(table.c.first_day, table.c.end_day).where(table.c.meter_id == meter_id))
    return [(r.first_day, r.end_day) for r in rows]


async def add_collected(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, new: Range) -> None:
    """Merges ``new`` into the meter's ranges; the caller holds the meter's cursor, so no race."""
    merged = merge_ranges([*await collected_ranges(session, table, meter_id), new])
    await session.execute(sa.delete(table).where(table.c.meter_id == meter_id))
    await session.execute(sa.insert(table), [{"meter_id": meter_id, "first_day": a, "end_day": b} for a, b in merged])


# --- gaps ---------------------------------------------------------------------------------------------------

def _gap_rows(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, period: Range):
    t = table
    return session.execute(sa.select(t).where(t.c.meter_id == meter_id, t.c.first_day < period[1],
                                              t.c.end_day > period[0]))


async def record_gap(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, period: Range,
                     code: str | None, reason: str) -> None:
    """The DSO still fails ``period``; the gaps it overlaps become one, their attempts counted on."""
    old = list(await _gap_rows(session, table, meter_id, period))
    first = min([period[0], *(r.first_day for r in old)])
    end = max([period[1], *(r.end_day for r in old)])
    await session.execute(sa.delete(table).where(table.c.meter_id == meter_id, table.c.first_day.in_(
        [r.first_day for r in old])))
    await session.execute(sa.insert(table).values(
        meter_id=meter_id, first_day=first, end_day=end, code=code, reason=reason[:500],
        attempts=1 + max([0, *(r.attempts for r in old)]),
        first_failed_at=min([r.first_failed_at for r in old], default=sa.func.now())))


async def clear_gaps(session: AsyncSession, table: sa.Table, meter_id: uuid.UUID, served: Range) -> None:
    """``served`` is collected now: the gaps it overlaps keep only their days outside it."""
    old = list(await _gap_rows(session, table, meter_id, served))
    if not old:
        return
    await session.execute(sa.delete(table).where(table.c.meter_id == meter_id, table.c.first_day.in_(
        [r.first_day for r in old])))
    rest = [{**r._asdict(), "first_day": a, "end_day": b} for r in old
            for a, b in ((r.first_day, served[0]), (served[1], r.end_day)) if a < b]
    if rest:
        await session.execute(sa.insert(table), rest)


async def gaps_report(session: AsyncSession, table: sa.Table, cursors: sa.Table,
                      limit: int = 20) -> dict[str, Any]:
    """The days still missing at the meters under consent, the most recently failed first."""
    t = table
    live = t.c.meter_id.in_(sa.select(cursors.c.meter_id).where(cursors.c.active))
    days = (await session.execute(sa.select(sa.func.coalesce(sa.func.sum(t.c.end_day - t.c.first_day), 0))
                                  .where(live))).scalar_one()
    rows = await session.execute(sa.select(t).where(live).order_by(t.c.last_failed_at.desc()).limit(limit))
    return {"days": int(days), "ranges": [
        {"meter_id": str(r.meter_id), "first_day": r.first_day.isoformat(), "end_day": r.end_day.isoformat(),
         "code": r.code, "reason": r.reason, "attempts": r.attempts,
         "first_failed_at": r.first_failed_at.isoformat(), "last_failed_at": r.last_failed_at.isoformat()}
        for r in rows]}


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


# --- the quota's bucket row ---------------------------------------------------------------------------------

async def upsert_bucket(session: AsyncSession, table: sa.Table, name: str, quotas: dict[str, Any]) -> None:
    """The bucket's row with the quotas of this deployment; tokens held beyond the new capacity are dropped."""
    t = table
    stmt = insert(t).values(name=name, tokens=quotas["capacity"], **quotas)
    await session.execute(stmt.on_conflict_do_update(index_elements=[t.c.name], set_={
        **quotas, "tokens": sa.func.least(t.c.tokens, quotas["capacity"])}))


async def lock_bucket(session: AsyncSession, table: sa.Table, name: str):
    """The bucket's row, locked until the transaction ends, with the database's clock as ``now``."""
    t = table
    return (await session.execute(
        sa.select(t, sa.func.clock_timestamp().label("now")).where(t.c.name == name)
        .with_for_update())).one_or_none()


async def spend_bucket(session: AsyncSession, table: sa.Table, name: str, now: dt.datetime,
                       taken: Reservation, n: float) -> None:
    t = table
    await session.execute(sa.update(t).where(t.c.name == name).values(
        tokens=taken.tokens, updated_at=now, day_start=taken.day, day_taken=taken.day_taken,
        hour_start=taken.hour_start, hour_taken=taken.hour_taken, taken_total=t.c.taken_total + n))


async def penalise_bucket(session: AsyncSession, table: sa.Table, name: str, seconds: float) -> None:
    await session.execute(sa.text(
        """
        UPDATE {t} SET
          tokens = LEAST(LEAST(capacity, tokens + rate * EXTRACT(EPOCH FROM clock_timestamp() - updated_at)),
                         -rate * :s),
          updated_at = clock_timestamp()
        WHERE name = :name
        """.format(t=_qualified(table))), {"s": seconds, "name": name})


async def bucket(session: AsyncSession, table: sa.Table, name: str):
    t = table
    return (await session.execute(sa.select(t).where(t.c.name == name))).one_or_none()


def _qualified(table: sa.Table) -> str:
    return f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
