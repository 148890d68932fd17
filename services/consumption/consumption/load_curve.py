"""The load curve (a day or a week) with each day's maximum power, and the daily maximum power over longer
periods: read by the meter's owner, or a reader the resident shares with, as the readings are."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import authorize_meter, check_shown
from metro.errors import AppError
from metro.events import LoadCurveCollected, Received
from metro.schemas.consumption import (DailyMaxPower, LoadCurve, LoadCurveDayView, LoadCurvePoint, MaxPowerSeries)
from metro.service_auth import Principal

PARIS = ZoneInfo("Europe/Paris")
MAX_CURVE_DAYS = 7
MAX_POWER_DAYS = 366


def check_days(start: dt.date, end: dt.date, most: int) -> None:
    if end <= start:
        raise AppError("'to' must be after 'from' (to is exclusive)", code="invalid_period", status_code=422)
    if (end - start).days > most:
        raise AppError(f"at most {most} days a call", code="period_too_long", status_code=422)


def day_points(day: dt.date, step: int, watts: list[int | None]) -> list[LoadCurvePoint]:
    midnight = dt.datetime.combine(day, dt.time(0), PARIS).astimezone(dt.UTC)
    return [LoadCurvePoint(start=(midnight + dt.timedelta(minutes=i * step)).astimezone(PARIS), minutes=step, w=w)
            for i, w in enumerate(watts)]


async def curve(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                end: dt.date) -> LoadCurve:
    check_shown(await authorize_meter(session, meter_id, principal))
    check_days(start, end, MAX_CURVE_DAYS)
    days = []
    for r in await repository.curve_days(session, meter_id, start, end):
        watts = r.watts or []
        known = [w for w in watts if w is not None]
        wh = round(sum(known) * r.step_minutes / 60) if known else None
        peak = DailyMaxPower(day=r.day, va=r.max_va, at=r.max_at) if r.max_va is not None else None
        days.append(LoadCurveDayView(day=r.day, step_minutes=r.step_minutes,
                                     points=day_points(r.day, r.step_minutes, watts) if watts else [],
                                     wh=wh, max_power=peak))
    return LoadCurve(meter_id=meter_id, days=days)


async def max_power(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                    end: dt.date) -> MaxPowerSeries:
    check_shown(await authorize_meter(session, meter_id, principal))
    check_days(start, end, MAX_POWER_DAYS)
    rows = await repository.max_power_days(session, meter_id, start, end)
    return MaxPowerSeries(meter_id=meter_id, points=[DailyMaxPower(day=r.day, va=r.va, at=r.at) for r in rows])


async def on_load_curve_collected(session: AsyncSession, events: list[Received[LoadCurveCollected]]) -> None:
    """Upserts keyed on (meter_id, day): a replay or a duplicate changes nothing; an erased meter's are dropped."""
    dropped = await repository.erased_meters(session, list({e.payload.meter_id for e in events}))
    rows: dict[tuple, dict] = {}
    for e in events:
        p = e.payload
        if p.meter_id in dropped:
            continue
        for day, step, watts in p.days:
            row = rows.setdefault((p.meter_id, day), {"meter_id": p.meter_id, "day": day, "source": p.source,
                                                      "max_va": None, "max_at": None})
            row.update(step_minutes=step, watts=watts)
        for day, va, at in p.max_power:
            row = rows.setdefault((p.meter_id, day), {"meter_id": p.meter_id, "day": day, "source": p.source,
                                                      "step_minutes": None, "watts": None})
            row.update(max_va=va, max_at=at)
    await repository.upsert_curve_days(session, [rows[k] for k in sorted(rows)])
