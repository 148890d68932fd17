"""The collection cycle: expire consents, take new files from the drop, import, then clean the drop."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ingest_sge import r151, repository, service
from metro.app import Runtime
from metro.filedrop import FileCycle, add_summary
from metro.metrics import DSO_LAST_SUCCESS
from metro.sftp import Drop, DropEntry, SftpDrop

log = logging.getLogger(__name__)
# pg advisory lock id: one collection cycle at a time across replicas (metro.filedrop.FileCycle).
CYCLE_LOCK = 0x5_6E_151


def keyring_from(settings) -> tuple[r151.KeyRing, str | None]:
    aes = tuple(bytes.fromhex(k.strip()) for k in settings.aes_keys.split(",") if k.strip())
    gpg, home = None, None
    if settings.pgp_private_key_path:
        import gnupg

        home = tempfile.mkdtemp(prefix="ingest-sge-gpg-")
        gpg = gnupg.GPG(gnupghome=home)
        imported = gpg.import_keys(Path(settings.pgp_private_key_path).read_text(),
                                   passphrase=settings.pgp_passphrase or None)
        if not imported.fingerprints:
            raise RuntimeError(f"no OpenPGP key in {settings.pgp_private_key_path}")
    return r151.KeyRing(aes_keys=aes, gpg=gpg, gpg_passphrase=settings.pgp_passphrase or None), home


def limits_from(settings) -> r151.Limits:
    return r151.Limits(max_file_bytes=settings.max_file_bytes,
                       max_uncompressed_bytes=settings.max_uncompressed_bytes)


def drop_from(settings) -> SftpDrop:
    return SftpDrop(settings.sftp_host, settings.sftp_port, settings.sftp_username, settings.sftp_key_path,
                    settings.sftp_dir, known_hosts=settings.sftp_known_hosts, timeout=settings.sftp_timeout_s)


async def open_keyring(rt: Runtime) -> None:
    rt.extras["keys"], rt.extras["gpg_home"] = await asyncio.to_thread(keyring_from, rt.settings)
    rt.extras["cycle_lock"] = asyncio.Lock()


async def close_keyring(rt: Runtime) -> None:
    home = rt.extras.get("gpg_home")
    if home:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def is_candidate(name: str) -> bool:
    # Other fluxes (R50, R171, *_svc.xml companions) may share the folder: they are not ours to take.
    return "_R151_" in name


def batches(entries: list[DropEntry], *, max_files: int, max_bytes: int,
            max_file_bytes: int) -> Iterator[list[DropEntry]]:
    """The files in order, cut into transactions of at most ``max_files`` files and ``max_bytes`` bytes fetched
    into memory (a file larger than that goes alone); a file too large to fetch weighs nothing."""
    batch: list[DropEntry] = []
    size = 0
    for e in entries:
        weight = 0 if e.size > max_file_bytes else e.size
        if batch and (len(batch) >= max_files or size + weight > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(e)
        size += weight
    if batch:
        yield batch


async def collect(db, outbox, drop: Drop, keys: r151.KeyRing, limits: r151.Limits, *,
                  files_per_transaction: int, raw_retention_days: int, batch_bytes: int) -> dict:
    """One pass over the drop; each batch of files commits before its files leave the drop. One batch's files
    are in memory at a time."""
    report: dict = {"files": {}, "readings": {}, "quarantined": [], "removed": 0, "skipped": 0}
    now = dt.datetime.now(dt.UTC)
    async with db.session() as session, session.begin():
        report["expired_subscriptions"] = await service.expire_subscriptions(session, outbox, now)
    entries = await drop.list()
    candidates = sorted((e for e in entries if is_candidate(e.name)), key=lambda e: service.file_order(e.name))
    report["skipped"] = len(entries) - len(candidates)
    for chunk in batches(candidates, max_files=files_per_transaction, max_bytes=batch_bytes,
                         max_file_bytes=limits.max_file_bytes):
        batch = [service.DropFile(e.name, e.size, None if e.size > limits.max_file_bytes else await drop.fetch(e.name))
                 for e in chunk]
        async with db.session() as session, session.begin():
            outcomes = await service.import_files(session, outbox, batch, keys, limits)
        del batch
        by_name = {e.name: e for e in chunk}
        for o in outcomes:
            unfetched = by_name[o.name].size > limits.max_file_bytes
            if o.status in ("imported", "quarantined", "already_done") and not unfetched:
                report["removed"] += await drop.remove(by_name[o.name])
        add_summary(report, outcomes)
    async with db.session() as session, session.begin():
        report["raw_purged"] = await repository.purge_raw(session, now - dt.timedelta(days=raw_retention_days))
    return report


async def probe(rt: Runtime) -> None:
    """The last successful cycle for Prometheus (metro.observe); SGE has no call quota."""
    async with rt.db.reader() as session:
        last = await repository.last_successful_cycle(session)
    if last is not None:
        DSO_LAST_SUCCESS.labels("sge").set(last.timestamp())


async def _collect(rt: Runtime, drop: SftpDrop) -> dict:
    s = rt.settings
    return await collect(rt.db, rt.outbox, drop, rt.extras["keys"], limits_from(s),
                         files_per_transaction=s.files_per_transaction, batch_bytes=s.batch_bytes,
                         raw_retention_days=s.raw_retention_days)


CYCLE = FileCycle("SGE", "sge", CYCLE_LOCK, drop_from, _collect, repository.try_cycle_lock, repository.add_cycle)
run_cycle, poll = CYCLE.run, CYCLE.poll
