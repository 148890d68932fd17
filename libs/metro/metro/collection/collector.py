"""One meter's collection: the ``Collector`` a connector subclasses with its calls, payloads and events."""
from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metro.collection.days import PARIS, Range, covered_until, merge_ranges, missing_ranges
from metro.collection.policy import CallFailed, CallStats, Policy, call_dso, next_publication
from metro.collection.quota import TokenBucket
from metro.collection.repository import (CollectionStore, add_collected, clear_gaps, collected_ranges,
                                         record_gap, record_in_cycle, release, renew_lease)
from metro.collection.settings import CollectionSettings
from metro.dso import Capabilities, DsoError, Outcome, Transient
from metro.events import ConsentRevoked, ContractChanged, ReadingsCollected

log = logging.getLogger(__name__)


def jsonable_contract(contract: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The contract fields a connector keeps, dates as ISO strings (stored as JSONB, compared as is)."""
    keep = set(fields)
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in contract.items() if k in keep}


@dataclass(frozen=True)
class Answer:
    """What the DSO served for a period: its readings, and the sub-periods it asked to be asked again on
    their own (a partial answer). ``fetch_window`` may return one, or the readings alone."""
    readings: list
    retry: list[tuple[Range, DsoError]] = field(default_factory=list)


def served_ranges(period: Range, retry: Iterable[Range], last_returned: dt.date | None,
                  late_from: dt.date) -> list[Range]:
    """The parts of ``period`` answered for good: outside the sub-periods to ask again, and in the days
    the DSO may still publish late, only up to the last day it returned (see ``covered_until``)."""
    served = []
    for piece in missing_ranges(period, merge_ranges(retry)):
        returned = last_returned if last_returned is not None and last_returned >= piece[0] else None
        end = min(piece[1], covered_until(piece, returned, late_from))
        if end > piece[0]:
            served.append((piece[0], end))
    return served


class LeaseLost(Exception):
    """Another replica took the meter (this one was too slow): what was about to be committed is dropped."""


class Collector:
    """Collects one meter under the shared quota: the contract when stale, then the days not yet collected,
    newest window first, each answer committed with its events; one policy per outcome.

    A connector subclasses it with its DSO's ``capabilities``, ``store`` and raw payload kind, and the
    methods marked "the connector's" below: its client calls, its payloads and events.
    """
    capabilities: Capabilities
    store: CollectionStore
    raw_kind: str
    supply_ended_codes: frozenset[str] = frozenset()

    def __init__(self, rt, client, bucket: TokenBucket, owner: str, rng: random.Random | None = None,
                 clock: Callable[[], dt.datetime] | None = None):
        self.rt = rt
        # What the scheduling decisions read the time from (a simulated run drives it: bench/collection_sim.py).
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.settings: CollectionSettings = rt.settings
        self.client = client
        self.bucket = bucket
        self.owner = owner
        self.rng = rng or random.Random()
        s = self.settings
        self.policy = Policy(transient_attempts=s.transient_attempts, retry_base_s=s.retry_base_s,
                             backoff_base_s=s.backoff_base_s)

    # The connector's: what to ask the DSO and what its answers become.

    def last_published_day(self, now: dt.datetime) -> dt.date:
        raise NotImplementedError

    def history_start(self, cursor, contract: dict[str, Any] | None, today: dt.date) -> dt.date:
        raise NotImplementedError

    def windows(self, gap: Range, today: dt.date) -> list[Range]:
        raise NotImplementedError

    async def fetch_window(self, cursor, window: Range, raw: list[Any]) -> list | Answer:
        """The readings of ``window`` (or an ``Answer`` when the DSO may answer in part), appending the
        DSO's answer as received to ``raw``."""
        raise NotImplementedError

    def last_day(self, readings: list) -> dt.date | None:
        raise NotImplementedError

    def readings_events(self, cursor, readings: list) -> list[ReadingsCollected]:
        raise NotImplementedError

    async def fetch_contract(self, cursor, stats: CallStats) -> dict[str, Any] | None:
        """The contract as JSON, or None to keep the one known."""
        raise NotImplementedError

    def contract_event(self, cursor, contract: dict[str, Any]) -> ContractChanged:
        raise NotImplementedError

    def calls_dso(self, cursor, window: Range) -> bool:
        """Whether fetching this window calls the DSO (and so takes a token of the quota): a connector that
        already holds the window's answer, asked ahead in a wider call, says no."""
        return True

    def raw_body(self, raw: list[Any]) -> Any:
        return raw or None

    def no_data_is_final(self, error: DsoError, window: Range, late_from: dt.date) -> bool:
        """NoData for days the DSO will not publish any more: the window counts as collected."""
        return window[1] <= late_from

    def supply_ended(self, contract: dict[str, Any] | None) -> bool:
        return False

    def revoked_event(self, cursor, reason: str, code: str | None) -> ConsentRevoked:
        return ConsentRevoked(consent_id=cursor.consent_id, meter_id=cursor.meter_id, account_id=cursor.account_id,
                              dso=self.capabilities.dso, channel=self.capabilities.channel,
                              identifier=cursor.identifier, reason=reason, dso_reference=cursor.dso_reference)

    async def on_revoked(self, session: AsyncSession, cursor) -> None:
        """What else the connector records when the DSO says the consent is gone."""

    # The shared mechanism.

    def next_cycle(self, now: dt.datetime) -> dt.datetime:
        return next_publication(now, self.settings.cycle_time, jitter_s=self.settings.cycle_jitter_minutes * 60,
                                rng=self.rng)

    async def call(self, stats: CallStats, make_call):
        return await call_dso(self.capabilities.dso, self.bucket, self.policy, stats, make_call)

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
                      "next_due_at": self.policy.next_attempt(self.clock(), cursor.attempts + 1)}
        async with self.rt.db.session() as session, session.begin():
            if outcome is Outcome.consent_revoked:
                await self._revoke(session, cursor, values["reason"], values.get("code"))
            else:
                await release(session, self.store.cursors, cursor.meter_id, self.owner, last_outcome=outcome.value,
                              **values)
            await record_in_cycle(session, self.store.cycles, self.capabilities.dso, stats)

    async def _collect(self, cursor, stats: CallStats) -> tuple[Outcome, dict]:
        now = self.clock()
        contract = cursor.contract
        if contract is None or self.contract_stale(cursor, now):
            contract = await self._refresh_contract(cursor, contract, stats)
            if self.supply_ended(contract):
                return Outcome.consent_revoked, {"reason": "supply_ended"}
        async with self.rt.db.session() as session:
            have = await collected_ranges(session, self.store.collected_ranges, cursor.meter_id)
            failing = [] if self.store.gaps is None else \
                await collected_ranges(session, self.store.gaps, cursor.meter_id)
        windows, known, late_from = self.plan(cursor, contract, have, failing, now)
        outcome = Outcome.ok
        # Newest first: the resident sees last month before the history fills in.
        for window in reversed(windows):
            window_outcome, retry = await self._fetch_period(cursor, window, stats, late_from)
            if window_outcome is Outcome.no_data:
                outcome = Outcome.no_data
            await self._ask_again(cursor, retry, stats, late_from)
        await self._ask_again(cursor, [(period, None) for period in known], stats, late_from)
        return outcome, {"attempts": 0, "last_error": None, "next_due_at": await self.next_due(cursor, now)}

    def plan(self, cursor, contract: dict[str, Any] | None, have: list[Range], failing: list[Range],
             now: dt.datetime) -> tuple[list[Range], list[Range], dt.date]:
        """Pure: the windows to ask at ``now`` (oldest first; asked newest first), the days that kept failing
        (asked on their own, after the windows, never inside one) and the first day the DSO may still publish
        late. A meter whose days are all collected up to the last published one gets no window: no call."""
        caps = self.capabilities
        today = now.astimezone(PARIS).date()
        last_published = self.last_published_day(now)
        late_from = last_published - dt.timedelta(days=caps.lag_days_max - caps.lag_days_min)
        wanted = (self.history_start(cursor, contract, today), last_published + dt.timedelta(days=1))
        known = [w for gap in missing_ranges(wanted, have + missing_ranges(wanted, failing))
                 for w in self.windows(gap, today)]
        windows = [w for gap in missing_ranges(wanted, have + known) for w in self.windows(gap, today)]
        return windows, known, late_from

    def contract_stale(self, cursor, now: dt.datetime) -> bool:
        return cursor.contract_checked_at is None or \
            now - cursor.contract_checked_at > dt.timedelta(days=self.settings.contract_refresh_days)

    async def next_due(self, cursor, now: dt.datetime) -> dt.datetime:
        """When a meter collected at ``now`` is due again: the next publication (a connector may order its
        meters by priority here)."""
        return self.next_cycle(now)

    async def _ask_again(self, cursor, pending: list[tuple[Range, DsoError | None]], stats: CallStats,
                         late_from: dt.date) -> None:
        """Each sub-period the DSO asked to be asked again, on its own, for up to ``transient_attempts``
        rounds. What still fails is a gap with its reason: the days around it are committed, and it is
        asked again at the next cycle, never holding the rest back."""
        gaps: list[tuple[Range, DsoError | None]] = []
        for _ in range(self.policy.transient_attempts):
            if not pending:
                break
            again = []
            for period, error in pending:
                try:
                    again += (await self._fetch_period(cursor, period, stats, late_from))[1]
                except CallFailed as failed:
                    # The call was already retried in place: the period stays a gap until the next cycle.
                    if failed.error.outcome is not Outcome.transient:
                        raise
                    gaps.append((period, failed.error))
            pending = again
        gaps += pending
        if gaps:
            await self._record_gaps(cursor, gaps)

    async def _fetch_period(self, cursor, period: Range, stats: CallStats,
                            late_from: dt.date) -> tuple[Outcome, list[tuple[Range, DsoError]]]:
        raw: list[Any] = []
        fetch = lambda p=period, raw=raw: self.fetch_window(cursor, p, raw)  # noqa: E731
        try:
            answer = await (self.call(stats, fetch) if self.calls_dso(cursor, period) else fetch())
        except CallFailed as failed:
            if failed.error.outcome is not Outcome.no_data:
                raise
            if not self.no_data_is_final(failed.error, period, late_from):
                return Outcome.no_data, []
            await self._commit_window(cursor, period, [], None, [period])
            return Outcome.ok, []
        if not isinstance(answer, Answer):
            answer = Answer(answer)
        served = served_ranges(period, (r for r, _ in answer.retry), self.last_day(answer.readings),
                               late_from)
        await self._commit_window(cursor, period, answer.readings, self.raw_body(raw), served)
        return Outcome.ok, answer.retry

    async def _refresh_contract(self, cursor, previous: dict | None, stats: CallStats) -> dict | None:
        fresh = await self.fetch_contract(cursor, stats)
        if fresh is None:
            return previous
        async with self.rt.db.session() as session, session.begin():
            if not await renew_lease(session, self.store.cursors, cursor.meter_id, self.owner,
                                     self.settings.lease_seconds, contract=fresh, contract_checked_at=sa.func.now()):
                raise LeaseLost()
            if fresh != previous:
                await self.rt.outbox.add(session, self.contract_event(cursor, fresh))
        return fresh

    async def _commit_window(self, cursor, window: Range, readings: list, body: Any, served: list[Range]) -> None:
        """One transaction: the readings events, the raw answer, the collected days and the cursor, so a
        crash loses nothing and a restart asks only what was not committed."""
        store = self.store
        async with self.rt.db.session() as session, session.begin():
            values: dict[str, Any] = {}
            if readings:
                values = {"last_success_at": sa.func.now(),
                          "last_day": sa.func.greatest(store.cursors.c.last_day, self.last_day(readings))}
            if not await renew_lease(session, store.cursors, cursor.meter_id, self.owner, self.settings.lease_seconds,
                                     **values):
                raise LeaseLost()
            if body is not None:
                await store.keep_raw(session, cursor.meter_id, self.raw_kind, body, self.settings.raw_retention_days,
                                     window)
            for days in served:
                await add_collected(session, store.collected_ranges, cursor.meter_id, days)
                if store.gaps is not None:
                    await clear_gaps(session, store.gaps, cursor.meter_id, days)
            await self.rt.outbox.add_many(session, self.readings_events(cursor, readings))

    async def _record_gaps(self, cursor, gaps: list[tuple[Range, DsoError | None]]) -> None:
        gaps = [(period, error or Transient("still failing")) for period, error in gaps]
        log.warning("days the DSO keeps failing", extra={
            "meter_id": str(cursor.meter_id), "dso": self.capabilities.dso,
            "gaps": [f"{a.isoformat()}..{b.isoformat()} {e.code}" for (a, b), e in gaps]})
        if self.store.gaps is None:
            return
        async with self.rt.db.session() as session, session.begin():
            if not await renew_lease(session, self.store.cursors, cursor.meter_id, self.owner,
                                     self.settings.lease_seconds):
                raise LeaseLost()
            for period, error in gaps:
                await record_gap(session, self.store.gaps, cursor.meter_id, period, error.code,
                                 f"{error.code or ''} {error}".strip())

    def _on_failure(self, cursor, failed: CallFailed) -> tuple[Outcome, dict]:
        error = failed.error
        now = self.clock()
        detail = f"{error.code or ''} {error}"[:500]
        if error.outcome is Outcome.consent_revoked:
            return error.outcome, {"reason": "supply_ended" if error.code in self.supply_ended_codes else "dso",
                                   "code": error.code}
        if error.outcome is Outcome.no_data:
            return error.outcome, {"attempts": 0, "last_error": None, "next_due_at": self.next_cycle(now)}
        if error.outcome is Outcome.bad_request:
            log.warning("request refused by the DSO", extra={"meter_id": str(cursor.meter_id), "error": detail,
                                                             "dso": self.capabilities.dso})
            return error.outcome, {"last_error": detail, "next_due_at": self.next_cycle(now)}
        attempts = cursor.attempts + 1
        next_at = self.policy.next_attempt(now, attempts, self.rng)
        if error.outcome is Outcome.quota_exceeded and error.retry_after:
            next_at = max(next_at, now + dt.timedelta(seconds=error.retry_after))
        return error.outcome, {"attempts": attempts, "last_error": detail, "next_due_at": next_at}

    async def _revoke(self, session: AsyncSession, cursor, reason: str, code: str | None) -> None:
        """The DSO says the consent is gone: stop now, tell the consent service; collected history stays."""
        await self.store.deactivate(session, cursor.meter_id, None, Outcome.consent_revoked.value)
        await self.store.end_consents(session, [cursor.consent_id], "revoked")
        await self.on_revoked(session, cursor)
        await self.rt.outbox.add(session, self.revoked_event(cursor, reason, code))
