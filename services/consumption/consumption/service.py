"""Decisions of the consumption service: turning stored days into the series a resident reads."""
from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from metro.contracts import ConsumptionPoint, ConsumptionSeries, Step
from metro.errors import AppError, NotFound
from metro.service_auth import Principal

MAX_DAYS = {Step.day: 3 * 366 + 31, Step.week: 10 * 366, Step.month: 20 * 366, Step.year: 50 * 366}


def period_start(day: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return day - dt.timedelta(days=day.weekday())
    if step is Step.month:
        return day.replace(day=1)
    if step is Step.year:
        return day.replace(month=1, day=1)
    return day


def next_period(start: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return start + dt.timedelta(days=7)
    if step is Step.month:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if step is Step.year:
        return start.replace(year=start.year + 1)
    return start + dt.timedelta(days=1)


async def authorize_meter(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> str:
    """The meter's energy, if the principal may read it; otherwise not found (no existence leak)."""
    owner = await repository.meter_owner(session, meter_id)
    if owner is None:
        raise NotFound("no such meter", code="meter_not_found")
    account_id, energy = owner
    if principal.account_id != account_id and not principal.has("reader:all"):
        raise NotFound("no such meter", code="meter_not_found")
    return energy


def check_range(start: dt.date, end: dt.date, step: Step) -> None:
    if end <= start:
        raise AppError("'to' must be after 'from' (to is exclusive)", code="invalid_period", status_code=422)
    if (end - start).days > MAX_DAYS[step]:
        raise AppError(f"period too long for step {step.value}", code="period_too_long", status_code=422)


def aggregate(rows, start: dt.date, end: dt.date, step: Step) -> list[ConsumptionPoint]:
    by_day = {r.day: (r.wh, r.quality) for r in rows}
    points: list[ConsumptionPoint] = []
    p = period_start(start, step)
    while p < end:
        nxt = next_period(p, step)
        lo, hi = max(p, start), min(nxt, end)
        days = (hi - lo).days
        wh, present, estimated = 0, 0, False
        d = lo
        while d < hi:
            v = by_day.get(d)
            if v is not None:
                wh += v[0]
                present += 1
                estimated |= v[1] != "measured"
            d += dt.timedelta(days=1)
        if present == 0:
            quality = "missing"
        elif present < days:
            quality = "partial"
        else:
            quality = "estimated" if estimated else "measured"
        points.append(ConsumptionPoint(period=p, wh=wh if present else None, quality=quality, days=days,
                                       days_missing=days - present))
        p = nxt
    return points


async def consumption(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                      end: dt.date, step: Step) -> ConsumptionSeries:
    await authorize_meter(session, meter_id, principal)
    check_range(start, end, step)
    rows = await repository.daily(session, meter_id, start, end)
    return ConsumptionSeries(meter_id=meter_id, step=step, points=aggregate(rows, start, end, step))
