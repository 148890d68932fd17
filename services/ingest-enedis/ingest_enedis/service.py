"""Collection decisions for one meter: which days to ask, and what each Data Connect outcome means."""
from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

import sqlalchemy as sa

from ingest_enedis import models, repository
from ingest_enedis.dataconnect import (CAPABILITIES, PARIS, DataConnectClient, _add_months, earliest_history_day,
                                       latest_published_day, plan_windows)
from metro.app import Runtime
from metro.collection import (CallFailed, CallStats, Policy, TokenBucket, add_collected, call_dso,
                              collected_ranges, missing_ranges, next_publication, record_in_cycle, release,
                              renew_lease)
from metro.dso import Outcome
from metro.events import Events

log = logging.getLogger(__name__)

SOURCE = "enedis.dataconnect"
CHANNEL = "dataconnect"
BEFORE_ACTIVATION = "ADAM-ERR0123"
SUPPLY_ENDED_CODES = {"ADAM-DC-0007"}
CONTRACT_FIELDS = ("tariff_option", "subscribed_kva", "offpeak_hours", "status", "activation_date",
                   "distribution_tariff", "segment", "last_change")


class LeaseLost(Exception):
    """Another replica took the meter (this one was too slow): what was about to be committed is dropped."""


def history_start(cursor, contract: dict[str, Any] | None, today: dt.date, history_months: int) -> dt.date:
    """Oldest day to collect: the consent's history_from, the DSO's history depth, the meter's activation."""
    candidates = [earliest_history_day(today), _add_months(today, -history_months)]
    if cursor.history_from:
        candidates.append(cursor.history_from)
    if contract and contract.get("activation_date"):
        candidates.append(dt.date.fromisoformat(contract["activation_date"]))
    return max(candidates)


def covered_until(window: tuple[dt.date, dt.date], last_returned: dt.date | None, late_from: dt.date) -> dt.date:
    """End of the part of ``window`` the DSO has answered for good. Days from ``late_from`` on may still be
    published late (D+2), so they count only when returned; older days the DSO did not return are holes
    it will not fill, and asking again every day would spend the quota for nothing."""
    start, end = window
    if end <= late_from:
        return end
    if last_returned is not None:
        return max(min(late_from, end), last_returned + dt.timedelta(days=1))
    return max(start, min(late_from, end))


def _jsonable_contract(contract: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items() if k in CONTRACT_FIELDS}


class Collector:
    def __init__(self, rt: Runtime, client: DataConnectClient, bucket: TokenBucket, owner: str,
                 rng: random.Random | None = None):
        self.rt = rt
        self.settings = rt.settings
        self.client = client
        self.bucket = bucket
        self.owner = owner
        self.rng = rng or random.Random()
        s = self.settings
        self.policy = Policy(transient_attempts=s.transient_attempts, retry_base_s=s.retry_base_s,
                             backoff_base_s=s.backoff_base_s)

    def next_cycle(self, now: dt.datetime) -> dt.datetime:
        return next_publication(now, self.settings.cycle_time, jitter_s=self.settings.cycle_jitter_minutes * 60,
                                rng=self.rng)

    async def call(self, stats: CallStats, make_call):
        return await call_dso(CAPABILITIES.dso, self.bucket, self.policy, stats, make_call)

    async def collect(self, cursor) -> None:
        stats = CallStats()
        try:
            outcome, values = await self._collect(cursor, stats)
        except LeaseLost:
            log.warning("lease lost", extra={"meter_id": str(cursor.meter_id)})
            return
        except CallFailed as failed:
            outcome, values = await self._on_failure(cursor, failed)
        except Exception as exc:
            log.exception("collection failed", extra={"meter_id": str(cursor.meter_id)})
            outcome = Outcome.transient
            values = {"attempts": cursor.attempts + 1, "last_error": repr(exc)[:500],
                      "next_due_at": self.policy.next_attempt(dt.datetime.now(dt.UTC), cursor.attempts + 1)}
        async with self.rt.db.session() as session, session.begin():
            if outcome is Outcome.consent_revoked:
                await self._revoke(session, cursor, values.pop("reason"))
            else:
                await release(session, models.cursors, cursor.meter_id, self.owner, last_outcome=outcome.value,
                              **values)
            await record_in_cycle(session, models.cycles, CAPABILITIES.dso, stats)

    async def _collect(self, cursor, stats: CallStats) -> tuple[Outcome, dict]:
        s = self.settings
        now = dt.datetime.now(dt.UTC)
        contract = cursor.contract
        stale = cursor.contract_checked_at is None or \
            now - cursor.contract_checked_at > dt.timedelta(days=s.contract_refresh_days)
        if contract is None or stale:
            fresh = _jsonable_contract(await self.call(stats, lambda: self.client.contract(cursor.identifier)))
            await self._store_contract(cursor, contract, fresh)
            contract = fresh
            if fresh.get("status") == "terminated":
                return Outcome.consent_revoked, {"reason": "supply_ended"}
        today = now.astimezone(PARIS).date()
        last_published = latest_published_day(now)
        late_from = last_published - dt.timedelta(days=CAPABILITIES.lag_days_max - CAPABILITIES.lag_days_min)
        wanted = (history_start(cursor, contract, today, s.history_months), last_published + dt.timedelta(days=1))
        async with self.rt.db.session() as session:
            have = await collected_ranges(session, models.collected_ranges, cursor.meter_id)
        windows = [w for gap in missing_ranges(wanted, have) for w in plan_windows(*gap)]
        outcome = Outcome.ok
        # Newest first: the resident sees last month before the history fills in.
        for window in reversed(windows):
            raw: list[Any] = []
            try:
                readings = await self.call(stats, lambda w=window: self.client.daily_consumption(
                    cursor.identifier, w[0], w[1], raw))
            except CallFailed as failed:
                if failed.error.outcome is not Outcome.no_data:
                    raise
                if failed.error.code == BEFORE_ACTIVATION or window[1] <= late_from:
                    await self._commit_window(cursor, window, [], None, window[1])
                    continue
                outcome = Outcome.no_data
                continue
            last = max((d for d, _ in readings), default=None)
            await self._commit_window(cursor, window, readings, raw[0] if raw else None,
                                      covered_until(window, last, late_from))
        return outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}

    async def _commit_window(self, cursor, window, readings: list[tuple[dt.date, int]], body: Any,
                             covered_end: dt.date) -> None:
        """One transaction: the readings event, the raw answer, the collected days and the cursor, so a
        crash loses nothing and a restart asks only what was not committed."""
        async with self.rt.db.session() as session, session.begin():
            values: dict[str, Any] = {}
            if readings:
                values = {"last_success_at": sa.func.now(),
                          "last_day": sa.func.greatest(models.cursors.c.last_day, max(d for d, _ in readings))}
            if not await renew_lease(session, models.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     **values):
                raise LeaseLost()
            if body is not None:
                await repository.keep_raw(session, cursor.meter_id, "daily_consumption", body,
                                          self.settings.raw_retention_days, window)
            if covered_end > window[0]:
                await add_collected(session, models.collected_ranges, cursor.meter_id, (window[0], covered_end))
            if readings:
                await self.rt.outbox.add(session, Events.readings_collected, {
                    "meter_id": str(cursor.meter_id), "source": SOURCE, "unit": "Wh",
                    "readings": [{"day": d.isoformat(), "wh": wh, "quality": "measured"} for d, wh in readings]})

    async def _store_contract(self, cursor, previous: dict | None, fresh: dict) -> None:
        async with self.rt.db.session() as session, session.begin():
            if not await renew_lease(session, models.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     contract=fresh, contract_checked_at=sa.func.now()):
                raise LeaseLost()
            if fresh != previous:
                await self.rt.outbox.add(session, Events.contract_changed, {
                    "meter_id": str(cursor.meter_id), "dso": CAPABILITIES.dso,
                    "tariff_option": fresh.get("tariff_option"), "subscribed_kva": fresh.get("subscribed_kva"),
                    "offpeak_hours": fresh.get("offpeak_hours"), "start": fresh.get("activation_date"),
                    "end": None, "status": fresh.get("status"),
                    "raw": {k: fresh.get(k) for k in ("distribution_tariff", "segment", "last_change")}})

    async def _on_failure(self, cursor, failed: CallFailed) -> tuple[Outcome, dict]:
        error = failed.error
        now = dt.datetime.now(dt.UTC)
        detail = f"{error.code or ''} {error}"[:500]
        if error.outcome is Outcome.consent_revoked:
            return error.outcome, {"reason": "supply_ended" if error.code in SUPPLY_ENDED_CODES else "dso"}
        if error.outcome is Outcome.no_data:
            return error.outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}
        if error.outcome is Outcome.bad_request:
            log.warning("request refused by Data Connect", extra={"meter_id": str(cursor.meter_id), "error": detail})
            return error.outcome, {"last_error": detail, "next_due_at": self.next_cycle(now)}
        attempts = cursor.attempts + 1
        next_at = self.policy.next_attempt(now, attempts, self.rng)
        if error.outcome is Outcome.quota_exceeded and error.retry_after:
            next_at = max(next_at, now + dt.timedelta(seconds=error.retry_after))
        return error.outcome, {"attempts": attempts, "last_error": detail, "next_due_at": next_at}

    async def _revoke(self, session, cursor, reason: str) -> None:
        """The DSO says the consent is gone: stop now, tell the consent service; collected history stays."""
        await repository.deactivate(session, cursor.meter_id, None, Outcome.consent_revoked.value)
        await self.rt.outbox.add(session, Events.consent_revoked, {
            "consent_id": str(cursor.consent_id), "meter_id": str(cursor.meter_id),
            "account_id": str(cursor.account_id) if cursor.account_id else None, "dso": CAPABILITIES.dso,
            "channel": CHANNEL, "identifier": cursor.identifier, "reason": reason,
            "dso_reference": cursor.dso_reference})

