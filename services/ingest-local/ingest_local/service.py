"""Decisions of the ingest-local service: which files to import and how, which meters activate, what to publish,
and the consented-meter list each operator receives."""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import logging
import re
import unicodedata
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_local import feeds, repository
from ingest_local.feeds import BadFile, Row, Share
from ingest_local.profiles import Profile, all_profiles, profile_of
from metro.collection import ReplayCounts, ReplayScope
from metro.db import Database
from metro.dso import Capabilities, Outcome, freshness
from metro.events import ConsentRevoked, ReadingsCollected
from metro.filedrop import DropFile, FileOutcome
from metro.outbox import Outbox
from metro.schemas.collection import CollectionStatus
from metro.schemas.consent import FileConsent

log = logging.getLogger(__name__)
PENDING = ("requested", "awaiting_holder")
# A district-heat dwelling is declared as its substation and dwelling codes: "SST0042-L017".
DWELLING_SEP = "-"
CONSENT_YEARS = 3

CAPABILITIES = {
    op: Capabilities(dso=op, channel="file", energies=energies, granularities=("P1D", "P1M"), history_days=0,
                     publication_time=dt.time(7, 0), lag_days_min=1, lag_days_max=lag,
                     notes=("files from the operator's information system, daily (monthly for some water meters)",))
    for op, energies, lag in (("greenalp", ("electricity", "gas"), 3), ("cciag", ("heat",), 3),
                              ("eau_de_grenoble", ("water",), 35))
}

Report = Callable[[FileConsent, str, str | None, dict], Awaitable[bool]]


def _words(name: str) -> set[str]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()
    return {w for w in re.split(r"[^A-Z]+", plain) if len(w) > 1} - {"MR", "MME", "MLLE", "M", "ET", "OU"}


def holder_matches(declared: str | None, given: str | None) -> bool:
    """The operator's holder and the one the resident declared name the same people: every word of one is in
    the other, accents, case, civility and order aside ("Mme DUPONT Élise" is "Elise Dupont")."""
    a, b = _words(declared or ""), _words(given or "")
    return bool(a and b) and (a <= b or b <= a)


def file_order(name: str) -> tuple:
    """Dwelling lists before energies (a dwelling's share needs its list), then by name: the operators date
    their file names, so a day comes before the next."""
    return (0 if "LOGEMENTS" in name else 1, name)


def _in_consent(sub: sa.Row, day: dt.date) -> bool:
    if sub.history_from and day < sub.history_from:
        return False
    return not (sub.expires_at and day >= sub.expires_at.date())


def index_energy(indexes: list[sa.Row], targets: set[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int | None]:
    """Each target day's energy from the indexes: per meter serial, the day's index less the day before's (or
    the new meter's install index on an exchange day), summed; None when a day before is missing or an index
    fell."""
    by_key = {(r.identifier, r.day, r.serial): r for r in indexes}
    serials: dict[tuple[str, dt.date], list[sa.Row]] = defaultdict(list)
    for r in indexes:
        serials[(r.identifier, r.day)].append(r)
    out: dict[tuple[str, dt.date], int | None] = {}
    for ident, day in targets:
        today = serials.get((ident, day))
        if not today:
            continue
        total: int | None = 0
        for r in today:
            before = by_key.get((ident, day - dt.timedelta(days=1), r.serial))
            start = before.index_wh if before is not None else r.install_wh
            if start is None or r.index_wh < start:
                total = None
                break
            total += r.index_wh - start
        out[(ident, day)] = total
    return out


def dwelling_share(total_wh: int, shares: dict[str, Decimal], dwelling: str) -> int:
    part = Decimal(total_wh) * shares[dwelling] / sum(shares.values())
    return int(part.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass
class Batch:
    """What one transaction publishes: per meter, per day, its value and quality."""
    days: dict[uuid.UUID, dict[dt.date, tuple[int, str]]] = field(default_factory=lambda: defaultdict(dict))

    def events(self, sources: dict[uuid.UUID, str]) -> list[ReadingsCollected]:
        out = []
        for meter_id, days in self.days.items():
            out += ReadingsCollected.batches(meter_id, sources[meter_id], [
                (day, wh, quality, None) for day, (wh, quality) in sorted(days.items())])
        return out


async def _activate(rows_by_ident: dict[str, str | None], pending: dict[str, FileConsent],
                    subs: dict[str, sa.Row], report: Report, session: AsyncSession, profile: Profile,
                    file_name: str, counts: Counter) -> None:
    """A consented meter the operator names for the first time is activated when the holder matches, found
    invalid when not."""
    now = dt.datetime.now(dt.UTC)
    ended = await repository.ended(session, [p.consent_id for i, p in pending.items() if i in rows_by_ident])
    for ident, holder in rows_by_ident.items():
        p = pending.get(ident)
        if p is None or ident in subs or p.consent_id in ended:
            continue
        evidence = {"file": file_name, "operator": profile.operator}
        if not holder_matches(p.holder_name, holder):
            counts["holder_mismatch"] += 1
            await report(p, "invalid", "holder_mismatch", {**evidence, "holder_check": "mismatch"})
            continue
        expires = now.replace(year=now.year + CONSENT_YEARS)
        if await report(p, "active", None, {**evidence, "holder_check": "match"}):
            counts["activated"] += 1
            row = {"dso": profile.operator, "identifier": ident, "meter_id": p.meter_id, "consent_id": p.consent_id,
                   "account_id": p.account_id, "energy": p.energy, "history_from": None, "expires_at": expires,
                   "active": True}
            await repository.grant(session, [row])
            subs[ident] = _RowView(**row)


@dataclass(frozen=True)
class _RowView:
    """A subscription just granted in this transaction, shaped as its row."""
    dso: str
    identifier: str
    meter_id: uuid.UUID
    consent_id: uuid.UUID
    account_id: uuid.UUID | None
    energy: str | None
    history_from: dt.date | None
    expires_at: dt.datetime | None
    active: bool


async def derive(session: AsyncSession, profile: Profile, part: str, rows: list[Row] | list[Share],
                 subs: dict, batch: Batch, counts: Counter) -> None:
    """The days a file's rows give each subscribed meter, into ``batch``; indexes and dwelling lists are kept."""
    quality = profile.quality
    if part == "shares":
        await repository.replace_shares(session, profile.operator, [
            {"substation": s.substation, "dwelling": s.dwelling, "share": s.share, "share_key": s.key,
             "holder": None} for s in rows])
        return
    if profile.energy == "heat":
        by_substation: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            by_substation[r.identifier].append(r)
        shares = await repository.shares_of(session, profile.operator, by_substation)
        for ident, sub in subs.items():
            substation, _, dwelling = ident.partition(DWELLING_SEP)
            if dwelling not in shares.get(substation, {}):
                continue
            for r in by_substation.get(substation, []):
                for day, wh in feeds.spread(r):
                    if _in_consent(sub, day):
                        batch.days[sub.meter_id][day] = (dwelling_share(wh, shares[substation], dwelling), "estimated")
                        counts["published"] += 1
        counts["substation_days"] += len(rows)
        return
    ours = [r for r in rows if r.identifier in subs]
    counts["unsubscribed"] += len(rows) - len(ours)
    if profile.kind == "energy":
        for r in ours:
            sub = subs[r.identifier]
            spread = feeds.spread(r)
            for day, value in spread:
                if _in_consent(sub, day):
                    batch.days[sub.meter_id][day] = (value, "estimated" if len(spread) > 1 else quality)
                    counts["published"] += 1
        return
    if not ours:
        return
    await repository.save_indexes(session, profile.operator, [
        {"identifier": r.identifier, "day": r.day, "serial": r.serial or "", "index_wh": r.value,
         "install_wh": r.install_index} for r in ours])
    targets = {(r.identifier, r.day + dt.timedelta(days=k)) for r in ours for k in (0, 1)}
    days = [d for _, d in targets]
    known = await repository.indexes_around(session, profile.operator, sorted({r.identifier for r in ours}),
                                            min(days), max(days))
    for (ident, day), wh in index_energy(known, targets).items():
        if wh is None:
            counts["index_gap"] += 1
        elif _in_consent(subs[ident], day):
            batch.days[subs[ident].meter_id][day] = (wh, quality)
            counts["published"] += 1


def _parse(profile: Profile, part: str, data: bytes) -> list[Row] | list[Share]:
    return feeds.read_shares(profile, data) if part == "shares" else feeds.read_rows(profile, data)


def _holders(profile: Profile, part: str, rows) -> dict[str, str | None]:
    """The identifiers a file names, with the holder it gives (a dwelling's in the list of dwellings)."""
    if part == "shares":
        return {f"{s.substation}{DWELLING_SEP}{s.dwelling}": s.holder for s in rows}
    if profile.energy == "heat":
        return {}
    return {r.identifier: r.holder for r in rows}


async def import_files(session: AsyncSession, outbox: Outbox, operator: str, batch_files: list[DropFile], *,
                       via: str, pending: list[FileConsent], report: Report,
                       max_file_bytes: int) -> list[FileOutcome]:
    """Imports one operator's files in the caller's transaction: file rows, raw copies, indexes, activations and
    one readings.collected per meter for the whole batch. A bad file is quarantined and the rest go on."""
    outcomes: list[FileOutcome] = []
    known = await repository.known_files(session, operator, [f.name for f in batch_files])
    subs: dict[str, dict[str, sa.Row]] = {}
    waiting = {p.identifier: p for p in pending if p.dso == operator and p.status in PENDING}
    batch = Batch()
    for f in sorted(batch_files, key=lambda f: file_order(f.name)):
        common = {"operator": operator, "name": f.name, "size": f.size, "via": via}
        if f.data is None:
            key = f"unfetched:size={f.size}"
            if (f.name, key) not in known:
                await repository.add_file(session, **common, sha256=key, status="quarantined", reason="too_large",
                                          detail=f"{f.size} bytes, limit {max_file_bytes}")
                known.add((f.name, key))
                outcomes.append(FileOutcome(f.name, "quarantined", "too_large"))
            continue
        sha = hashlib.sha256(f.data).hexdigest()
        if (f.name, sha) in known:
            outcomes.append(FileOutcome(f.name, "already_done"))
            continue
        known.add((f.name, sha))
        found = profile_of(operator, f.name)
        if found is None:
            await repository.add_file(session, **common, sha256=sha, status="ignored", reason="no_profile")
            outcomes.append(FileOutcome(f.name, "ignored", "no_profile"))
            continue
        profile, part = found
        try:
            rows = await asyncio.to_thread(_parse, profile, part, f.data)
        except BadFile as exc:
            await repository.add_file(session, **common, sha256=sha, profile=profile.name, status="quarantined",
                                      reason=exc.reason, detail=exc.detail[:500], raw=f.data)
            outcomes.append(FileOutcome(f.name, "quarantined", exc.reason, exc.detail[:500]))
            continue
        except Exception as exc:  # a reader bug must not hold back the files after this one
            log.exception("unexpected error reading an operator file", extra={"file": f.name})
            await repository.add_file(session, **common, sha256=sha, profile=profile.name, status="quarantined",
                                      reason="reader_error", detail=repr(exc)[:500], raw=f.data)
            outcomes.append(FileOutcome(f.name, "quarantined", "reader_error", repr(exc)[:500]))
            continue
        counts: Counter[str] = Counter(rows=len(rows))
        if operator not in subs:
            subs[operator] = await repository.active_subscriptions(session, operator)
        await _activate(_holders(profile, part, rows), waiting, subs[operator], report, session, profile, f.name,
                        counts)
        await derive(session, profile, part, rows, subs[operator], batch, counts)
        await repository.add_file(session, **common, sha256=sha, profile=profile.name, status="imported",
                                  counts=dict(counts), raw=f.data)
        outcomes.append(FileOutcome(f.name, "imported", counts=dict(counts)))
    sources = {s.meter_id: f"{operator}.file" for s in subs.get(operator, {}).values()}
    await outbox.add_many(session, batch.events(sources))
    await repository.advance_last_day(session, {m: max(days) for m, days in batch.days.items() if days})
    return outcomes


async def replay(db: Database, outbox: Outbox, scope: ReplayScope, retention: dt.timedelta) -> ReplayCounts:
    """The kept files read again by the current reader in the order they were imported; the days of consents
    still active are published (a replay that changes no value changes no row downstream)."""
    counts = ReplayCounts()
    async with db.session() as session:
        chosen = await repository.subscriptions_to_replay(session, list(scope.meter_ids), list(scope.identifiers))
        kept = await repository.kept_files(session, dt.datetime.now(dt.UTC) - retention) if chosen else []
    subs: dict[str, dict[str, sa.Row]] = defaultdict(dict)
    for s in chosen:
        subs[s.dso][s.identifier] = s
    batch = Batch()
    for f in kept:
        found = profile_of(f.operator, f.name)
        if found is None or f.operator not in subs:
            continue
        profile, part = found
        async with db.session() as session, session.begin():
            data = await repository.kept_file(session, f.id)
            counts.payloads += 1
            try:
                rows = await asyncio.to_thread(_parse, profile, part, data)
            except Exception as exc:
                counts.unreadable += 1
                log.warning("kept file not replayed", extra={"file_id": f.id, "error": repr(exc)[:500]})
                continue
            await derive(session, profile, part, rows, subs[f.operator], batch, Counter())
    batch.days = {m: {d: v for d, v in days.items() if scope.holds(d)} for m, days in batch.days.items()}
    sources = {s.meter_id: f"{s.dso}.file" for s in chosen}
    events = batch.events(sources)
    async with db.session() as session, session.begin():
        await outbox.add_many(session, events)
    counts.meters, counts.events = len(batch.days), len(events)
    counts.days = sum(len(days) for days in batch.days.values())
    return counts


LIST_HEADER = ("IDENTIFIANT", "REFERENCE_CONTRAT", "TITULAIRE", "ENERGIE", "STATUT", "DEPUIS")


def consent_list(operator: str, consents: list[FileConsent]) -> tuple[bytes, int, int]:
    """The agreed list file: every meter consented for this operator (CONSENTI) and those withdrawn lately
    (RETIRE), sorted, closed by FIN;<rows>; its bytes depend on nothing else, so an unchanged list is not sent
    twice."""
    rows = []
    for c in consents:
        if c.dso != operator:
            continue
        status = "RETIRE" if c.ended_at else "CONSENTI"
        rows.append((c.identifier, c.contract_reference or "", c.holder_name or "", c.energy, status,
                     (c.ended_at or c.since).date().isoformat()))
    rows.sort()
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow(LIST_HEADER)
    w.writerows(rows)
    w.writerow(("FIN", len(rows)))
    withdrawn = sum(r[4] == "RETIRE" for r in rows)
    return out.getvalue().encode("utf-8"), len(rows) - withdrawn, withdrawn


def list_name(operator: str, now: dt.datetime) -> str:
    return f"METRO_CONSENTEMENTS_{operator.upper()}_{now.strftime('%Y%m%dT%H%M%SZ')}.csv"


async def expire_subscriptions(session: AsyncSession, outbox: Outbox, now: dt.datetime) -> int:
    """A consent past its end stops collection here and is reported to consent, once."""
    expired = await repository.expire_due(session, now)
    await repository.end_consents(session, [s.consent_id for s in expired], "expired")
    await outbox.add_many(session, [ConsentRevoked(
        consent_id=s.consent_id, meter_id=s.meter_id, account_id=s.account_id, dso=s.dso, channel="file",
        identifier=s.identifier, reason="expired") for s in expired])
    return len(expired)


def collection_statuses(rows: list[sa.Row], last_outcome: str | None, now: dt.datetime) -> list[CollectionStatus]:
    out = []
    for row in rows:
        caps = CAPABILITIES[row.dso]
        outcome = last_outcome if row.last_day is not None or last_outcome != Outcome.ok else None
        state, reason = freshness(caps, now, row.last_day, outcome, row.active)
        out.append(CollectionStatus(meter_id=row.meter_id, last_collected_day=row.last_day, freshness=state,
                                    reason=reason, expected_day=caps.newest_day(now)))
    return out


def known_operators() -> tuple[str, ...]:
    return tuple(sorted({p.operator for p in all_profiles()}))
