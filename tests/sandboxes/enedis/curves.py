"""Synthetic load curves: each day's average power per interval, consistent with the meter's daily energy.

The DSO notes (§3.1): points carry the END of their interval in local time, a day runs midnight to midnight
(46 points on the last Sunday of March, 50 on the last Sunday of October at PT30M), the step may change within one
answer (PT10M, PT15M, PT30M, PT60M mixed), and missing data shows up as missing points.
"""
from __future__ import annotations

import datetime as dt
import math

from .customers import Meter, mix
from .state import PARIS

# A day whose step changes (sandbox: one day in 40, never a DST day): (local hour it starts, minutes).
MIXED_STEPS = ((0, 30), (6, 10), (8, 15), (12, 60), (16, 30))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's first and last instants in UTC: 23 or 25 hours apart on DST days."""
    start = dt.datetime.combine(day, dt.time(0), PARIS).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS).astimezone(dt.UTC)
    return start, end


def is_dst_day(day: dt.date) -> bool:
    start, end = day_bounds(day)
    return end - start != dt.timedelta(hours=24)


def has_mixed_steps(meter: Meter, day: dt.date) -> bool:
    return mix(meter.seed, day.toordinal(), 11) % 40 == 0 and not is_dst_day(day)


def missing_run(meter: Meter, day: dt.date) -> range:
    """A few points the meter failed to send (sandbox: one day in 25 loses 3 consecutive points)."""
    h = mix(meter.seed, day.toordinal(), 13)
    if h % 25:
        return range(0)
    first = 4 + (h >> 8) % 30
    return range(first, first + 3)


def intervals(meter: Meter, day: dt.date) -> list[tuple[dt.datetime, int]]:
    """(start in UTC, minutes) of each interval of the day."""
    start, end = day_bounds(day)
    steps = MIXED_STEPS if has_mixed_steps(meter, day) else ((0, 30),)
    out = []
    at = start
    while at < end:
        hour = at.astimezone(PARIS).hour
        minutes = next(m for h, m in reversed(steps) if hour >= h)
        out.append((at, minutes))
        at += dt.timedelta(minutes=minutes)
    return out


def _shape(meter: Meter, local: dt.datetime, day: dt.date) -> float:
    hour = local.hour + local.minute / 60
    morning = math.exp(-((hour - 7.5) ** 2) / 2.0)
    evening = 1.6 * math.exp(-((hour - 19.5) ** 2) / 3.0)
    noise = 0.8 + 0.4 * (mix(meter.seed, day.toordinal(), int(hour * 60)) & 0xFFFF) / 65536.0
    return (0.35 + morning + evening) * noise


def day_curve(meter: Meter, day: dt.date, energy_wh: int) -> list[tuple[dt.datetime, int, int]]:
    """(start in UTC, minutes, average W) of each point served for ``day``, whose energy sums to about
    ``energy_wh`` (integer watts), the meter's missing points left out."""
    slots = intervals(meter, day)
    weights = [_shape(meter, at.astimezone(PARIS), day) * minutes for at, minutes in slots]
    total = sum(weights) or 1.0
    missing = missing_run(meter, day)
    points = []
    for i, ((at, minutes), weight) in enumerate(zip(slots, weights)):
        if i in missing:
            continue
        wh = energy_wh * weight / total
        points.append((at, minutes, round(wh * 60 / minutes)))
    return points


def end_label(at: dt.datetime, minutes: int) -> str:
    """The DSO's timestamp of a point: the end of its interval, local time, no offset."""
    return (at + dt.timedelta(minutes=minutes)).astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")


def curve_series(meter: Meter, series: list[tuple[dt.date, int]]) -> list[tuple[dt.datetime, int, int]]:
    return [p for day, wh in series for p in day_curve(meter, day, wh)]
