"""Daily energy from R151 index readings: each PRM's registers differenced against its last usable reading, with
the day's quality (measured, or why no energy is given). Pure, no database; the caller keeps the index state
(``LastIndex``) between files."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import NamedTuple, TypeAlias

from ingest_sge.r151 import DEFAULT_KVA, Reading, UNMEASURED_CALENDARS


class IndexState(NamedTuple):
    """The last usable reading of a PRM: what the next day's energy is differenced against."""
    day: dt.date
    calendar: str
    registers: Mapping[str, int]


# A reading is its own index state (its day, distributor calendar and registers): storing it costs no copy.
LastIndex: TypeAlias = IndexState | Reading


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
    states: dict[str, LastIndex] = field(default_factory=dict)
    # (prm, day) readings at or before the stored state: republications and late backlog rows.
    ignored: list[tuple[str, dt.date]] = field(default_factory=list)


_DAWN = dt.datetime.min.replace(tzinfo=dt.UTC)
_ONE_DAY = dt.timedelta(days=1)
_PRM = itemgetter(0)
# DailyEnergy((prm, day, energy_wh, quality, max_power_va)) without the named tuple's __new__, which is Python
# code: one per PRM-day (callgrind: ~2 000 instructions an object against ~3 400).
_day_energy = partial(tuple.__new__, DailyEnergy)


def plausible_max_wh(kva: float) -> int:
    """No C5 meter draws more than its subscribed power around the clock: kVA × 24 h (cos φ ≤ 1)."""
    return int(kva * 1000 * 24)


def daily_energy(readings: Iterable[Reading], states: Mapping[str, LastIndex],
                 subscribed_kva: Mapping[str, float] | None = None) -> EnergyBatch:
    """Daily Wh per PRM = Σ over distributor classes of index(D) − index(D−1), never across a break.

    ``states`` is the last known index per PRM (possibly from an earlier file); the batch returns the
    new states to store. Within a batch, readings are taken in day order and a (PRM, day) seen twice
    keeps the newest file's values."""
    batch = EnergyBatch()
    days, ignored, changed = batch.days, batch.ignored, batch.states
    kva = subscribed_kva or {}
    default_max = plausible_max_wh(DEFAULT_KVA)
    current, state, max_wh = "", None, default_max
    for r in _newest_in_order(readings):
        prm, day, calendar, registers, _, _, max_power_va, _, _ = r
        if prm != current:  # a PRM's readings come together: its state and bound are carried between them
            current, state = prm, states.get(prm)
            max_wh = plausible_max_wh(kva[prm]) if prm in kva else default_max
        quality, energy, follows = "previous_index_missing", None, False
        new_state: LastIndex = r
        if state is not None:
            last = state.day
            if day <= last:
                ignored.append((prm, day))
                continue
            if day - last != _ONE_DAY:
                gap = last + _ONE_DAY
                while gap < day:
                    days.append(DailyEnergy(prm, gap, None, "reading_missing"))
                    gap += _ONE_DAY
            else:
                follows = bool(state.registers)
        if not registers or calendar in UNMEASURED_CALENDARS:
            quality, new_state = "calendar_unknown", IndexState(day, calendar, {})
        elif follows:  # the day after a usable state: the registers' advances, or why there are none
            before = state.registers
            if state.calendar != calendar or before.keys() != registers.keys():
                quality = "calendar_changed"
            else:
                total = 0
                decreased = False
                for c, value in registers.items():
                    delta = value - before[c]
                    if delta < 0:
                        decreased = True
                    total += delta
                if decreased:
                    quality = "index_decreased"
                elif total > max_wh:
                    quality = "implausible_jump"
                else:
                    quality, energy = "measured", total
        days.append(_day_energy((prm, day, energy, quality, max_power_va)))
        state = changed[prm] = new_state
    return batch


def _newest_in_order(readings: Iterable[Reading]) -> list[Reading]:
    """The newest reading of each (PRM, day), from the file created last (of two as new, the later one), in
    (PRM, day) order. A file usually holds one day of each PRM, in PRM order: that is only checked."""
    readings = readings if isinstance(readings, list) else list(readings)
    prms = list(map(_PRM, readings))
    if prms == sorted(prms) and len(set(prms)) == len(prms):
        return readings
    latest: dict[tuple[str, dt.date], Reading] = {}
    for r in readings:
        key = (r.prm, r.day)
        old = latest.get(key)
        if old is None or (r.created or _DAWN) >= (old.created or _DAWN):
            latest[key] = r
    return [latest[key] for key in sorted(latest)]
