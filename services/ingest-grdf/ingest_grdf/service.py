"""Collection decisions for one PCE: which gas days to ask, and what each ADICT outcome means."""
from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ingest_grdf import models, repository
from ingest_grdf.adict import CAPABILITIES, INFORMATIVE_HISTORY_YEARS, AdictClient, DailyReading, \
    history_windows, years_before
from metro.app import Runtime
from metro.collection import (CallFailed, CallStats, Policy, TokenBucket, add_collected, call_dso,
                              collected_ranges, missing_ranges, next_publication, record_in_cycle, release,
                              renew_lease)
from metro.dso import Outcome
from metro.events import Events

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
SOURCE = "grdf.adict"
CHANNEL = "adict"
MAX_DAYS_PER_EVENT = 365
# A meter that moved out (1000000) ends the supply; every other "no right" code is the consent's end.
SUPPLY_ENDED_CODES = {"1000000"}
CONTRACT_FIELDS = ("tariff", "annual_consumption_kwh", "daily_capacity_kwh", "profile", "commissioning_date",
                   "published_on")


class LeaseLost(Exception):
    """Another replica took the meter (this one was too slow): what was about to be committed is dropped."""


def latest_published_day(now: dt.datetime) -> dt.date:
    """Informative gas day D is published from D+1 after GRDF's publication time (Europe/Paris)."""
    local = now.astimezone(PARIS)
    lag = CAPABILITIES.lag_days_min if local.time() >= CAPABILITIES.publication_time else CAPABILITIES.lag_days_min + 1
    return local.date() - dt.timedelta(days=lag)


def history_start(cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
    """Oldest gas day to collect: ADICT's 3-year depth, the consent's history_from, commissioning."""
    candidates = [years_before(today, INFORMATIVE_HISTORY_YEARS) + dt.timedelta(days=1)]
    if cursor.history_from:
        candidates.append(cursor.history_from)
    if contract and contract.get("commissioning_date"):
        candidates.append(dt.date.fromisoformat(contract["commissioning_date"]))
    return max(candidates)


def covered_until(window: tuple[dt.date, dt.date], last_returned: dt.date | None, late_from: dt.date) -> dt.date:
    """End of the part of ``window`` GRDF has answered for good. Days from ``late_from`` on may still come
    (D+1 to D+5), so they count only once returned; older days it did not return are holes it keeps."""
    start, end = window
    if end <= late_from:
        return end
    if last_returned is not None:
        return max(min(late_from, end), last_returned + dt.timedelta(days=1))
    return max(start, min(late_from, end))


def readings_payloads(meter_id: str, readings: list[DailyReading]) -> list[dict[str, Any]]:
    """readings.collected bodies, a year at most each; volume and conversion coefficient ride along."""
    out = []
    for i in range(0, len(readings), MAX_DAYS_PER_EVENT):
        out.append({"meter_id": meter_id, "source": SOURCE, "unit": "Wh", "readings": [
            {"day": r.day.isoformat(), "wh": r.wh, "quality": r.quality,
             "extra": {"volume_m3": r.volume_m3, "conversion_coefficient": r.conversion_coefficient}}
            for r in readings[i:i + MAX_DAYS_PER_EVENT]]})
    return out


def jsonable_contract(contract: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items() if k in CONTRACT_FIELDS}


def contract_event(meter_id: str, contract: dict[str, Any]) -> dict[str, Any]:
    """Gas has no subscribed power nor off-peak hours: the routing tariff (T1..T4) stands for the option."""
    return {"meter_id": meter_id, "dso": CAPABILITIES.dso, "tariff_option": contract.get("tariff"),
            "subscribed_kva": None, "offpeak_hours": None, "start": contract.get("commissioning_date"),
            "end": None, "status": "active",
            "raw": {k: contract.get(k) for k in ("annual_consumption_kwh", "daily_capacity_kwh", "profile",
                                                 "published_on")}}


def revoked_event(cursor_or_right, reason: str, dso_status: str | None = None, code: str | None = None) -> dict:
    r = cursor_or_right
    return {"consent_id": str(r.consent_id), "meter_id": str(r.meter_id),
            "account_id": str(r.account_id) if getattr(r, "account_id", None) else None, "dso": CAPABILITIES.dso,
            "channel": CHANNEL, "identifier": getattr(r, "identifier", None) or getattr(r, "pce", None),
            "reason": reason, "dso_reference": getattr(r, "dso_reference", None) or getattr(r, "access_right_id", None),
            "dso_status": dso_status, "code": code}


class Collector:
    def __init__(self, rt: Runtime, client: AdictClient, bucket: TokenBucket, owner: str,
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
            contract = await self._refresh_contract(cursor, contract, stats)
        today = now.astimezone(PARIS).date()
        last_published = latest_published_day(now)
        late_from = last_published - dt.timedelta(days=CAPABILITIES.lag_days_max - CAPABILITIES.lag_days_min)
        wanted = (history_start(cursor, contract, today), last_published + dt.timedelta(days=1))
        async with self.rt.db.session() as session:
            have = await collected_ranges(session, models.collected_ranges, cursor.meter_id)
        windows = [w for gap in missing_ranges(wanted, have) for w in history_windows(*gap, today)]
        outcome = Outcome.ok
        # Newest first: the resident sees last month before the history fills in.
        for window in reversed(windows):
            raw: list[Any] = []
            try:
                readings = await self.call(stats, lambda w=window, raw=raw: self.client.informative_daily(
                    cursor.identifier, w[0], w[1], raw))
            except CallFailed as failed:
                if failed.error.outcome is not Outcome.no_data:
                    raise
                if window[1] <= late_from:
                    await self._commit_window(cursor, window, [], None, window[1])
                else:
                    outcome = Outcome.no_data
                continue
            last = readings[-1].day if readings else None
            await self._commit_window(cursor, window, readings, raw, covered_until(window, last, late_from))
        return outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}

    async def _refresh_contract(self, cursor, previous: dict | None, stats: CallStats) -> dict | None:
        try:
            fresh = jsonable_contract(await self.call(stats, lambda: self.client.contract(cursor.identifier)))
        except CallFailed as failed:
            # Contract data outside the right's perimeter must not stop the consumption it allows.
            if failed.error.outcome is not Outcome.bad_request:
                raise
            log.warning("contract data refused", extra={"meter_id": str(cursor.meter_id), "error": str(failed)})
            return previous
        async with self.rt.db.session() as session, session.begin():
            if not await renew_lease(session, models.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     contract=fresh, contract_checked_at=sa.func.now()):
                raise LeaseLost()
            if fresh != previous:
                await self.rt.outbox.add(session, Events.contract_changed, contract_event(str(cursor.meter_id), fresh))
        return fresh

    async def _commit_window(self, cursor, window: tuple[dt.date, dt.date], readings: list[DailyReading],
                             body: Any, covered_end: dt.date) -> None:
        """One transaction: the readings events, the raw answer, the collected days and the cursor, so a
        crash loses nothing and a restart asks only what was not committed."""
        async with self.rt.db.session() as session, session.begin():
            values: dict[str, Any] = {}
            if readings:
                values = {"last_success_at": sa.func.now(),
                          "last_day": sa.func.greatest(models.cursors.c.last_day, readings[-1].day)}
            if not await renew_lease(session, models.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     **values):
                raise LeaseLost()
            if body:
                await repository.keep_raw(session, cursor.meter_id, "informative_daily", body,
                                          self.settings.raw_retention_days, window)
            if covered_end > window[0]:
                await add_collected(session, models.collected_ranges, cursor.meter_id, (window[0], covered_end))
            for payload in readings_payloads(str(cursor.meter_id), readings):
                await self.rt.outbox.add(session, Events.readings_collected, payload)

    def _on_failure(self, cursor, failed: CallFailed) -> tuple[Outcome, dict]:
        error = failed.error
        now = dt.datetime.now(dt.UTC)
        detail = f"{error.code or ''} {error}"[:500]
        if error.outcome is Outcome.consent_revoked:
            return error.outcome, {"reason": "supply_ended" if error.code in SUPPLY_ENDED_CODES else "dso",
                                   "code": error.code}
        if error.outcome is Outcome.no_data:
            return error.outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}
        if error.outcome is Outcome.bad_request:
            log.warning("request refused by ADICT", extra={"meter_id": str(cursor.meter_id), "error": detail})
            return error.outcome, {"last_error": detail, "next_due_at": self.next_cycle(now)}
        attempts = cursor.attempts + 1
        next_at = self.policy.next_attempt(now, attempts, self.rng)
        if error.outcome is Outcome.quota_exceeded and error.retry_after:
            next_at = max(next_at, now + dt.timedelta(seconds=error.retry_after))
        return error.outcome, {"attempts": attempts, "last_error": detail, "next_due_at": next_at}

    async def _revoke(self, session, cursor, reason: str, code: str | None) -> None:
        """GRDF says the right is gone: stop now, tell the consent service; collected history stays."""
        await repository.deactivate(session, cursor.meter_id, None, Outcome.consent_revoked.value)
        if cursor.dso_reference:
            await repository.update_access_right(session, cursor.dso_reference, status="revoked",
                                                 reported_status="revoked", checked_at=sa.func.now())
        await self.rt.outbox.add(session, Events.consent_revoked, revoked_event(cursor, reason, code=code))
