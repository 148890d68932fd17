"""The collection cycle: expire consents, send each operator its consented-meter list, take new files from its
folder of the drop, import them, then clean the drop."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import posixpath
from collections.abc import Iterator

from ingest_local import repository, service
from metro.app import Runtime
from metro.filedrop import FileCycle, add_summary
from metro.metrics import DSO_LAST_SUCCESS
from metro.schemas.consent import FileConsent
from metro.service_auth import ServiceClient
from metro.sftp import Drop, DropEntry, SftpDrop

log = logging.getLogger(__name__)
CYCLE_LOCK = 0x10CA1


def drop_from(settings) -> SftpDrop:
    return SftpDrop(settings.sftp_host, settings.sftp_port, settings.sftp_username, settings.sftp_key_path, ".",
                    known_hosts=settings.sftp_known_hosts, timeout=settings.sftp_timeout_s, label="local operators'")


async def open_cycle_lock(rt: Runtime) -> None:
    rt.extras["cycle_lock"] = asyncio.Lock()


async def consents_of(services: ServiceClient, operator: str) -> list[FileConsent]:
    rows = await services.json("consent", "GET", "/internal/file-consents", params={"dso": operator})
    return [FileConsent.model_validate(r) for r in rows]


def reporter(services: ServiceClient) -> service.Report:
    """Tells consent what a file said of a consented meter; True when the consent moved."""
    async def report(consent: FileConsent, status: str, reason: str | None, evidence: dict) -> bool:
        body: dict = {"status": status, "reason": reason, "evidence": evidence}
        if status == "active":
            now = dt.datetime.now(dt.UTC)
            body["expires_at"] = now.replace(year=now.year + service.CONSENT_YEARS).isoformat()
        answer = await services.json("consent", "POST", f"/internal/consents/{consent.consent_id}/dso-status",
                                     json=body)
        return bool(answer.get("changed"))
    return report


def chunks(entries: list[DropEntry], size: int) -> Iterator[list[DropEntry]]:
    for i in range(0, len(entries), size):
        yield entries[i:i + size]


async def send_list(db, drop: Drop, operator: str, consents: list[FileConsent], now: dt.datetime) -> bool:
    """Leaves the operator's consented-meter list on the drop when it differs from the last one sent."""
    content, meters, withdrawn = service.consent_list(operator, consents)
    sha = hashlib.sha256(content).hexdigest()
    async with db.session() as session, session.begin():
        last = await repository.last_list(session, operator)
        if last is not None and last.sha256 == sha:
            return False
        name = service.list_name(operator, now)
        await drop.put(name, content)
        await repository.add_list(session, operator=operator, name=name, sha256=sha, meters=meters,
                                  withdrawn=withdrawn)
    return True


async def collect(rt: Runtime, drop: SftpDrop, operators: tuple[str, ...]) -> dict:
    s = rt.settings
    report: dict = {"files": {}, "readings": {}, "quarantined": [], "removed": 0, "lists_sent": 0}
    now = dt.datetime.now(dt.UTC)
    async with rt.db.session() as session, session.begin():
        report["expired_subscriptions"] = await service.expire_subscriptions(session, rt.outbox, now)
    for operator in operators:
        consents = await consents_of(rt.services, operator)
        report["lists_sent"] += await send_list(rt.db, drop.at(posixpath.join(operator, s.outbound_dir)), operator,
                                                consents, now)
        inbound = drop.at(posixpath.join(operator, s.inbound_dir))
        entries = sorted(await inbound.list(), key=lambda e: service.file_order(e.name))
        for chunk in chunks(entries, s.files_per_transaction):
            batch = [service.DropFile(e.name, e.size, None if e.size > s.max_file_bytes else await inbound.fetch(e.name))
                     for e in chunk]
            async with rt.db.session() as session, session.begin():
                outcomes = await service.import_files(session, rt.outbox, operator, batch, via="sftp",
                                                      pending=consents, report=reporter(rt.services),
                                                      max_file_bytes=s.max_file_bytes)
            by_name = {e.name: e for e in chunk}
            for o in outcomes:
                if o.status != "ignored" and by_name[o.name].size <= s.max_file_bytes:
                    report["removed"] += await inbound.remove(by_name[o.name])
            add_summary(report, outcomes)
    async with rt.db.session() as session, session.begin():
        report["raw_purged"] = await repository.purge_raw(session, now - dt.timedelta(days=s.raw_retention_days))
    return report


async def probe(rt: Runtime) -> None:
    async with rt.db.reader() as session:
        last = await repository.last_successful_cycle(session)
    if last is not None:
        DSO_LAST_SUCCESS.labels("local").set(last.timestamp())


async def _collect(rt: Runtime, drop: SftpDrop) -> dict:
    return await collect(rt, drop, tuple(rt.settings.sftp_operators))


CYCLE = FileCycle("local operators'", "local", CYCLE_LOCK, drop_from, _collect, repository.try_cycle_lock,
                  repository.add_cycle)
run_cycle, poll = CYCLE.run, CYCLE.poll
