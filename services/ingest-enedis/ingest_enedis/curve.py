"""Load-curve intervals packed into local days: one row of watts per day at the day's finest step."""
from __future__ import annotations

import datetime as dt
import math
from itertools import groupby

from ingest_enedis.dataconnect_calendar import PARIS
from ingest_enedis.dataconnect_payloads import CurvePoint
from metro.events import LoadCurveDay


def day_span(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day's first instant and the next day's, in UTC (23 or 25 hours apart on DST days)."""
    return (dt.datetime.combine(day, dt.time(0), PARIS).astimezone(dt.UTC),
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS).astimezone(dt.UTC))


def pack_days(points: list[CurvePoint]) -> list[LoadCurveDay]:
    """Each local day of ``points`` as [day, step, watts]: slots with no point stay None (the DSO's holes)."""
    days: list[LoadCurveDay] = []
    for day, group in groupby(sorted(points, key=lambda p: p.start),
                              key=lambda p: p.start.astimezone(PARIS).date()):
        pts = list(group)
        step = math.gcd(*(p.minutes for p in pts))
        start, end = day_span(day)
        watts: list[int | None] = [None] * int((end - start).total_seconds() // (step * 60))
        for p in pts:
            first = int((p.start - start).total_seconds() // (step * 60))
            for i in range(first, min(first + p.minutes // step, len(watts))):
                watts[i] = p.w
        days.append((day, step, watts))
    return days
