"""Time-driven moves of the life cycle: the 7-day time-out of an unanswered consent page, reminders 30 and
7 days before the end, and expiry."""
from __future__ import annotations

import datetime as dt
import logging

from consent import repository, service
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


async def lifecycle_worker(rt: Runtime) -> None:
    async def step() -> None:
        counts = await sweep(rt)
        if any(counts.values()):
            log.info("consent sweep", extra=counts)
    await repeat(rt.stop, "consent sweep", step, rt.settings.sweep_interval.total_seconds())
