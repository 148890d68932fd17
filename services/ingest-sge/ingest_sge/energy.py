"""Daily energy from R151 index readings: each PRM's registers differenced against its last usable reading, with
the day's quality (measured, or why no energy is given). Pure, no database; the caller keeps the index state
(``IndexState``) between files."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ingest_sge.r151 import DEFAULT_KVA, Reading, UNMEASURED_CALENDARS


class IndexState(NamedTuple):
    """The last usable reading of a PRM: what the next day's energy is differenced against."""
    day: dt.date
    calendar: str
    registers: Mapping[str, int]


class DailyEnergy(NamedTuple):
    prm: str
    day: dt.date
    energy_wh: int | None
    # measured | reading_missing | previous_index_missing | calendar_unknown | calendar_changed |
    # index_decreased | implausible_jump
    quality: str
    max_power_va: int | None = None


@dataclass
class EnergyBatch:
    days: list[DailyEnergy] = field(default_factory=list)
    states: dict[str, IndexState] = field(default_factory=dict)
    # (prm, day) readings at or before the stored state: republications and late backlog rows.
    ignored: list[tuple[str, dt.date]] = field(default_factory=list)


_DAWN = dt.datetime.min.replace(tzinfo=dt.UTC)


def plausible_max_wh(kva: float) -> int:
    """No C5 meter draws more than its subscribed power around the clock: kVA × 24 h (cos φ ≤ 1)."""
    return int(kva * 1000 * 24)


def daily_energy(readings: Iterable[Reading], states: Mapping[str, IndexState],
                 subscribed_kva: Mapping[str, float] | None = None) -> EnergyBatch:
    """Daily Wh per PRM = Σ over distributor classes of index(D) − index(D−1), never across a break.

    ``states`` is the last known index per PRM (possibly from an earlier file); the batch returns the
    new states to store. Within a batch, readings are taken in day order and a (PRM, day) seen twice
    keeps the newest file's values."""
    latest: dict[tuple[str, dt.date], Reading] = {}
    for r in readings:
        key = (r.prm, r.day)
        old = latest.get(key)
        if old is None or (r.created or _DAWN) >= (old.created or _DAWN):
            latest[key] = r
    batch = EnergyBatch()
    days, ignored = batch.days, batch.ignored
    new_states = dict(states)
    kva = subscribed_kva or {}
    default_max = plausible_max_wh(DEFAULT_KVA)
    for key in sorted(latest):
        prm, day = key
        r = latest[key]
        state = new_states.get(prm)
        if state is not None:
            if day <= state.day:
                ignored.append(key)
                continue
            gap = state.day + _ONE_DAY
            while gap < day:
                days.append(DailyEnergy(prm, gap, None, "reading_missing"))
                gap += _ONE_DAY
        registers = r.registers
        if not registers or r.calendar in UNMEASURED_CALENDARS:
            days.append(DailyEnergy(prm, day, None, "calendar_unknown", r.max_power_va))
            new_states[prm] = IndexState(day, r.calendar, {})
            continue
        quality, energy = _quality(state, r, day, plausible_max_wh(kva[prm]) if prm in kva else default_max)
        days.append(DailyEnergy(prm, day, energy, quality, r.max_power_va))
        new_states[prm] = IndexState(day, r.calendar, dict(registers))
    batch.states = {p: s for p, s in new_states.items() if states.get(p) is not s}
    return batch


_ONE_DAY = dt.timedelta(days=1)


def _quality(state: IndexState | None, r: Reading, day: dt.date, max_wh: int) -> tuple[str, int | None]:
    """The day's quality and, when measured, its energy (the sum of the registers' advances)."""
    if state is None or not state.registers or state.day != day - _ONE_DAY:
        return "previous_index_missing", None
    before, after = state.registers, r.registers
    if state.calendar != r.calendar or before.keys() != after.keys():
        return "calendar_changed", None
    total = 0
    decreased = False
    for c, value in after.items():
        delta = value - before[c]
        if delta < 0:
            decreased = True
        total += delta
    if decreased:
        return "index_decreased", None
    if total > max_wh:
        return "implausible_jump", None
    return "measured", total
