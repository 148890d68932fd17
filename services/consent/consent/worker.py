"""Time-driven moves of the life cycle: the 7-day time-out of an unanswered consent page, reminders 30 and
7 days before the end, expiry, and asking Enedis again about consents it had not confirmed yet."""
from __future__ import annotations

import datetime as dt
import logging

from consent import flows, repository, service
from consent.lifecycle import Status
from metro.app import Runtime
from metro.events import ConsentExpiring
from metro.workers import repeat

log = logging.getLogger(__name__)


async def sweep(rt: Runtime, now: dt.datetime | None = None) -> dict[str, int]:
    now = now or service.utcnow()
    settings = rt.settings
    counts = {"timed_out": 0, "expiring": 0, "expired": 0, "reminders": 0}
    async with rt.db.session() as session, session.begin():
        stale = await repository.lock_unanswered_consents(session, now - settings.holder_timeout,
                                                          Status.awaiting_holder.value)
        for c in stale:
            counts["timed_out"] += await service.transition(session, rt.outbox, c, Status.timed_out, actor="platform",
                                                            reason="no_answer_in_time")
        ending = await repository.lock_ending_consents(session, [Status.active.value, Status.expiring.value])
        for c in ending:
            left = c.expires_at - now
            if left <= dt.timedelta(0):
                counts["expired"] += await service.transition(session, rt.outbox, c, Status.expired, actor="platform",
                                                              reason="expired")
                continue
            if c.status == Status.active.value and left <= dt.timedelta(days=30):
                counts["expiring"] += await service.transition(session, rt.outbox, c, Status.expiring,
                                                               actor="platform", reason="ends_within_30_days")
            for days in sorted(settings.reminder_days, reverse=True):
                if left <= dt.timedelta(days=days) and days not in (c.reminders_sent or []):
                    await rt.outbox.add(session, ConsentExpiring(
                        consent_id=c.id, meter_id=c.meter_id, account_id=c.account_id, dso=c.dso,
                        expires_at=c.expires_at, days_left=max(left.days, 0), reminder=days))
                    await repository.update_consent(session, c.id, {
                        "reminders_sent": sorted({*(c.reminders_sent or []), days})})
                    counts["reminders"] += 1
                    break
    return counts


def dso_backoff(settings) -> flows.Backoff:
    return flows.Backoff(settings.dso_check_retry_base, settings.dso_check_retry_max)


async def recheck_dso(rt: Runtime, limit: int = 20) -> dict[str, int]:
    """Each due consent in its own transaction: one slow DSO answer holds no other row."""
    counts = {"checked": 0, "active": 0, "invalid": 0}
    async with rt.db.session() as session:
        due = await repository.due_dso_checks(session, service.utcnow(), Status.awaiting_holder.value, limit)
    for consent_id in due:
        async with rt.db.session() as session, session.begin():
            status = await flows.recheck_dataconnect(session, rt.outbox, rt.services, consent_id,
                                                     dso_backoff(rt.settings))
        if status is not None:
            counts["checked"] += 1
            counts[status] = counts.get(status, 0) + 1
    return counts


async def dso_check_worker(rt: Runtime) -> None:
    async def step() -> None:
        counts = await recheck_dso(rt)
        if counts["checked"]:
            log.info("consents checked again at the DSO", extra=counts)
    await repeat(rt.stop, "DSO check of waiting consents", step, rt.settings.dso_check_interval.total_seconds())


async def lifecycle_worker(rt: Runtime) -> None:
    async def step() -> None:
        counts = await sweep(rt)
        if any(counts.values()):
            log.info("consent sweep", extra=counts)
    await repeat(rt.stop, "consent sweep", step, rt.settings.sweep_interval.total_seconds())
