"""Decisions of the ingest-sge service: which files to import, what to publish, which consents end."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import uuid
from collections import Counter
from collections.abc import Container
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_sge import repository
from ingest_sge.energy import DailyEnergy, LastIndex, daily_energy
from ingest_sge.r151 import (BadFile, FileName, KeyRing, Limits, Reading, decrypt, open_xml, parse_file_name,
                             parse_r151)
from metro.collection import ReplayCounts, ReplayScope
from metro.db import Database
from metro.dso import Capabilities, Outcome, freshness
from metro.events import ConsentRevoked, ReadingsCollected
from metro.filedrop import DropFile, FileOutcome
from metro.outbox import Outbox
from metro.schemas.collection import CollectionStatus

log = logging.getLogger(__name__)
PARIS = ZoneInfo("Europe/Paris")
SOURCE = "enedis.sge"

CAPABILITIES = Capabilities(
    dso="enedis",
    channel="sge",
    energies=("electricity",),
    granularities=("P1D",),
    history_days=0,
    # R151 files are created at 03:00-03:10 on D+2 and reach the drop up to about 05:00.
    publication_time=dt.time(6, 0),
    lag_days_min=2,
    lag_days_max=3,
    notes=(
        "R151 for day D (index at the end of D) created at about 03:00 Europe/Paris on D+2",
        "history: none, files cover the days from the subscription on; late days come as backlog rows",
    ),
)


def file_order(name: str) -> tuple:
    """Oldest publication first, so a PRM's indexes arrive in day order; unparsable names last."""
    try:
        f: FileName = parse_file_name(name)
        return (0, f.created, f.abonnement, f.sequence, f.x, name)
    except BadFile:
        return (1, dt.datetime.max, "", 0, 0, name)


def _read(name: str, data: bytes, keys: KeyRing, limits: Limits,
          prms: Container[str]) -> tuple[bytes, int, list[Reading]]:
    """The file's zip, how many readings it holds, and those of ``prms``, parsed as a stream: the readings of
    other PRMs (most of a file shared by the contract) are counted and dropped as they are read."""
    zip_bytes = decrypt(name, data, keys, limits)
    total, kept = 0, []
    for r in parse_r151(open_xml(zip_bytes, limits)):
        total += 1
        if r.prm in prms:
            kept.append(r)
    return zip_bytes, total, kept


def _in_consent(sub: sa.Row, day: dt.date) -> bool:
    if sub.history_from and day < sub.history_from:
        return False
    return not (sub.expires_at and day >= sub.expires_at.astimezone(PARIS).date())


async def import_files(session: AsyncSession, outbox: Outbox, batch: list[DropFile], keys: KeyRing,
                       limits: Limits) -> list[FileOutcome]:
    """Imports a batch of drop files in the caller's transaction: file rows, raw copies, index states and
    one readings.collected per meter for the whole batch. A bad file is quarantined and the rest go on."""
    outcomes: list[FileOutcome] = []
    known = await repository.known_files(session, [f.name for f in batch])
    subs = await repository.active_subscriptions(session)
    states = await repository.index_states(session, subs)
    changed: dict = {}
    to_publish: dict[uuid.UUID, dict[dt.date, DailyEnergy]] = {}
    for f in sorted(batch, key=lambda f: file_order(f.name)):
        if f.data is None:
            key = f"unfetched:size={f.size}"
            if (f.name, key) not in known:
                await repository.add_file(session, name=f.name, sha256=key, size=f.size, status="quarantined",
                                          reason="too_large",
                                          detail=f"{f.size} bytes on the drop, limit {limits.max_file_bytes}")
                known.add((f.name, key))
                outcomes.append(FileOutcome(f.name, "quarantined", "too_large"))
            continue
        sha = hashlib.sha256(f.data).hexdigest()
        if (f.name, sha) in known:
            outcomes.append(FileOutcome(f.name, "already_done"))
            continue
        known.add((f.name, sha))
        try:
            parse_file_name(f.name)
            zip_bytes, total, subscribed = await asyncio.to_thread(_read, f.name, f.data, keys, limits, subs)
        except BadFile as exc:
            if exc.reason == "not_r151_name":
                await repository.add_file(session, name=f.name, sha256=sha, size=f.size, status="ignored",
                                          reason=exc.reason)
                outcomes.append(FileOutcome(f.name, "ignored", exc.reason))
                continue
            await repository.add_file(session, name=f.name, sha256=sha, size=f.size, status="quarantined",
                                      reason=exc.reason, detail=exc.detail[:500], raw=f.data)
            outcomes.append(FileOutcome(f.name, "quarantined", exc.reason, exc.detail[:500]))
            continue
        except Exception as exc:  # a parser bug must not hold back the files after this one
            log.exception("unexpected error reading an SGE file", extra={"file": f.name})
            await repository.add_file(session, name=f.name, sha256=sha, size=f.size, status="quarantined",
                                      reason="reader_error", detail=repr(exc)[:500], raw=f.data)
            outcomes.append(FileOutcome(f.name, "quarantined", "reader_error", repr(exc)[:500]))
            continue
        counts: Counter[str] = Counter(readings=total, unsubscribed=total - len(subscribed))
        energy = daily_energy(subscribed, states)
        states.update(energy.states)
        changed.update(energy.states)
        counts["already_known"] = len(energy.ignored)
        for d in energy.days:
            sub = subs[d.prm]
            if d.energy_wh is None:
                counts[d.quality] += 1
            elif not _in_consent(sub, d.day):
                counts["outside_consent"] += 1
            else:
                to_publish.setdefault(sub.meter_id, {})[d.day] = d
                counts["published"] += 1
        await repository.add_file(session, name=f.name, sha256=sha, size=f.size, status="imported",
                                  counts=dict(counts), raw=zip_bytes, raw_kind="zip")
        outcomes.append(FileOutcome(f.name, "imported", counts=dict(counts)))
    await repository.save_index_states(session, changed, {p: s.meter_id for p, s in subs.items()})
    await outbox.add_many(session, readings_events(to_publish))
    return outcomes


def _kept_readings(zip_bytes: bytes, prms: set[str], limits: Limits) -> list[Reading]:
    return [r for r in parse_r151(open_xml(zip_bytes, limits)) if r.prm in prms]


async def replay(db: Database, outbox: Outbox, scope: ReplayScope, limits: Limits,
                 retention: dt.timedelta) -> ReplayCounts:
    """The decrypted zips still kept, read again by the current parser in the order they were imported, each
    PRM's indexes differenced from the first kept one on; the days of consents still active are published.
    A revoked or erased PRM is left out: the drop's files hold every PRM Enedis still sends, consented or
    not."""
    counts = ReplayCounts()
    async with db.session() as session:
        subs = await repository.subscriptions_to_replay(session, list(scope.meter_ids),
                                                        list(scope.identifiers))
        kept = await repository.kept_zips(session, dt.datetime.now(dt.UTC) - retention) if subs else []
    states: dict[str, LastIndex] = {}
    to_publish: dict[uuid.UUID, dict[dt.date, DailyEnergy]] = {}
    for file_id in kept:
        async with db.session() as session:
            zip_bytes = await repository.kept_zip(session, file_id)
        counts.payloads += 1
        try:
            readings = await asyncio.to_thread(_kept_readings, zip_bytes, set(subs), limits)
        except Exception as exc:
            counts.unreadable += 1
            log.warning("kept file not replayed", extra={"file_id": file_id, "error": repr(exc)[:500]})
            continue
        energy = daily_energy(readings, states)
        states.update(energy.states)
        for d in energy.days:
            sub = subs[d.prm]
            if d.energy_wh is not None and _in_consent(sub, d.day) and scope.holds(d.day):
                to_publish.setdefault(sub.meter_id, {})[d.day] = d
    events = readings_events(to_publish)
    async with db.session() as session, session.begin():
        await outbox.add_many(session, events)
    counts.meters, counts.events = len(to_publish), len(events)
    counts.days = sum(len(days) for days in to_publish.values())
    return counts


def readings_events(by_meter: dict[uuid.UUID, dict[dt.date, DailyEnergy]]) -> list[ReadingsCollected]:
    events = []
    for meter_id, days in by_meter.items():
        events += ReadingsCollected.batches(meter_id, SOURCE, [
            (d.day, d.energy_wh, d.quality, {"max_power_va": d.max_power_va} if d.max_power_va is not None else None)
            for d in (days[day] for day in sorted(days))])
    return events


async def expire_subscriptions(session: AsyncSession, outbox: Outbox, now: dt.datetime) -> int:
    """A consent past its end stops collection here and is reported to consent, once."""
    expired = await repository.expire_due(session, now)
    await repository.end_consents(session, [s.consent_id for s in expired], "expired")
    await outbox.add_many(session, [ConsentRevoked(
        consent_id=s.consent_id, meter_id=s.meter_id, account_id=s.account_id, dso="enedis", channel="sge",
        identifier=s.prm, reason="expired", dso_reference=s.dso_reference) for s in expired])
    return len(expired)


def collection_statuses(rows: list[sa.Row], last_outcome: str | None,
                        now: dt.datetime) -> list[CollectionStatus]:
    """Each subscribed meter's last day collected and freshness. The drop serves every PRM at once, so the
    last cycle's outcome stands for each meter's; a meter whose first day is not due yet even at the longest
    lag is still pending, not short of data."""
    out = []
    for row in rows:
        outcome = last_outcome
        first_day = row.history_from or row.updated_at.astimezone(PARIS).date()
        if row.last_day is None and outcome == Outcome.ok and first_day > CAPABILITIES.latest_on_time(now):
            outcome = None
        state, reason = freshness(CAPABILITIES, now, row.last_day, outcome, row.active)
        # A subscription's first file is due by its first day's publication, not before.
        due = max(CAPABILITIES.first_data_by(now), first_day + dt.timedelta(days=CAPABILITIES.lag_days_max))
        out.append(CollectionStatus(meter_id=row.meter_id, last_collected_day=row.last_day, freshness=state,
                                    reason=reason, expected_day=CAPABILITIES.newest_day(now),
                                    first_data_by=due if row.last_day is None and row.active else None))
    return out
