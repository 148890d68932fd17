"""What an account reads at once: the summary of its meters, the periodic report and the month to date for
personal-threshold alerts."""
from __future__ import annotations

import calendar
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import authorize_account
from consumption.catalogues import degree_days_version
from consumption.contracts import resolve_pricing
from consumption.euros import cents, priced_days
from consumption.peers import compare
from consumption.periods import DAY, check_range, last_complete_month
from consumption.series import series_json
from consumption.totals import load_meter_year, load_recent, to_date, with_weather
from metro.errors import AddressUnconfirmed, AppError
from metro.schemas.consumption import AnomalyAlert, Step, ToDateTotals
from metro.service_auth import Principal

def _alert(r: sa.Row) -> AnomalyAlert:
    return AnomalyAlert(meter_id=r.meter_id, episode_key=r.episode_key, kind=r.kind, start=r.start, end=r.end,
                        expected_wh=r.expected_wh, observed_wh=r.observed_wh, detected_at=r.published_at)


async def meter_entry(session: AsyncSession, meter: sa.Row) -> dict[str, Any]:
    """A shown meter's summary without its comparison (what a stored summary holds, as JSON)."""
    y = await load_recent(session, meter)
    if y.as_of is None:
        return {"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": None,
                "totals": to_date(y).model_dump()}
    week_start = y.as_of - dt.timedelta(days=6)
    week = orjson.loads(await series_json(session, meter, week_start, y.as_of + DAY, Step.day, y.pricing))
    totals = await with_weather(session, y, to_date(y))
    return {"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": week, "totals": totals.model_dump()}


def stored_entry(meter: sa.Row, body: str) -> dict[str, Any]:
    """meter_entry as stored: the totals as the model gives them (dates, not their text), as computed."""
    entry = orjson.loads(body)
    entry["meter_id"] = meter.meter_id
    entry["totals"] = ToDateTotals.model_validate(entry["totals"]).model_dump()
    return entry


async def store_entry(session: AsyncSession, meter: sa.Row, degree_days: str) -> dict[str, Any]:
    """meter_entry, stored for the next reads while the meter stays as it was read (repository.STORE_SUMMARY)."""
    entry = await meter_entry(session, meter)
    if meter.priced_key is not None:
        await repository.store_summary(session, meter.meter_id, meter.priced_version, degree_days,
                                       orjson.dumps(entry, default=str).decode())
    return entry


async def store_summaries(session: AsyncSession, meter_ids: list[uuid.UUID]) -> int:
    """The stored summaries of these meters computed again (in the caller's transaction)."""
    degree_days = await degree_days_version(session)
    stored = 0
    for meter_id in meter_ids:
        meter = await repository.meter_info(session, meter_id)
        if meter is not None and not meter.address_hold:
            await store_entry(session, meter, degree_days)
            stored += 1
    return stored


async def refresh_stored(session: AsyncSession, meter_ids: list[uuid.UUID]) -> int:
    """The pricing worker's step after pricing these meters (in its transaction): those with a stored summary (their
    residents read it) have it computed again, so that the next read finds it current."""
    return await store_summaries(session, await repository.summarised_meters(session, meter_ids))


async def summary(session: AsyncSession, account_id: uuid.UUID, alert_days: int = 30) -> dict[str, Any]:
    """A metro.schemas.consumption.Summary as a plain dict. Each meter's figures are its stored summary while it is
    current (the meter priced no further since, no pricing waiting, the same degree days), else computed and
    stored; the comparison and the alerts are read at each request."""
    meters = await repository.account_meters(session, account_id)
    shown = [m for m in meters if not m.address_hold]
    stored = await repository.stored_summaries(session, [m.meter_id for m in shown])
    degree_days = await degree_days_version(session) if shown else ""
    out: list[dict[str, Any]] = []
    latest: dt.date | None = None
    for meter in meters:
        if meter.address_hold:
            out.append({"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": None,
                        "totals": ToDateTotals(meter_id=meter.meter_id, energy=meter.energy, as_of=None).model_dump(),
                        "comparison": None, "withheld": AddressUnconfirmed.code})
            continue
        s = stored.get(meter.meter_id)
        if s is not None and s.priced_version == meter.priced_version and s.degree_days == degree_days:
            entry, computed_at = stored_entry(meter, s.body), s.computed_at
        else:
            entry, computed_at = await store_entry(session, meter, degree_days), dt.datetime.now(dt.UTC)
        as_of = entry["totals"]["as_of"]
        entry["comparison"] = None
        if as_of is not None:
            latest = max(latest or as_of, as_of)
            start, end = last_complete_month(as_of)
            entry["comparison"] = (await compare(session, meter, start, end)).model_dump()
        entry["computed_at"] = computed_at
        out.append(entry)
    alerts = []
    if latest is not None:
        alerts = [_alert(r).model_dump() for r in await repository.recent_episodes(
            session, [m.meter_id for m in shown], latest - dt.timedelta(days=alert_days))]
    return {"meters": out, "alerts": alerts}


async def accounts_with_meters(session: AsyncSession) -> list[str]:
    return [str(a) for a in await repository.accounts_with_meters(session)]


async def report(session: AsyncSession, account_id: uuid.UUID, principal: Principal, start: dt.date,
                 end: dt.date) -> dict[str, Any]:
    """The periodic report of one account over [start, end) (`to` is exclusive, as everywhere)."""
    authorize_account(account_id, principal)
    check_range(start, end, Step.year)
    if (end - start).days > 366:
        raise AppError("a report covers at most one year", code="period_too_long", status_code=422)
    meters = []
    for meter in await repository.account_meters(session, account_id):
        if meter.address_hold:
            continue
        rows, by_day = await priced_days(session, meter, await resolve_pricing(session, meter), start, end)
        eur = [by_day.get(r.day) for r in rows]
        priced = [e for e in eur if e is not None]
        peers = await compare(session, meter, start, end)
        metric = peers.kwh
        meters.append({
            "meter_id": str(meter.meter_id), "energy": meter.energy,
            "wh": sum(r.wh for r in rows), "eur": cents(sum(priced, Decimal(0))) if priced else None,
            "days": (end - start).days, "days_missing": (end - start).days - len(rows),
            "last_year_wh": peers.last_year_wh,
            "peer_median_wh": round(metric.median * 1000) if metric else None,
            "peer_efficient_wh": round(metric.efficient * 1000) if metric else None,
            "rank": metric.rank if metric else None, "group_size": metric.group_size if metric else None,
            "daily": [{"day": r.day.isoformat(), "wh": r.wh, "eur": cents(e)} for r, e in zip(rows, eur)],
        })
    return {"account_id": str(account_id), "from": start.isoformat(), "to": end.isoformat(), "meters": meters}


def parse_month(month: str) -> dt.date:
    try:
        return dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise AppError("month is YYYY-MM", code="invalid_month", status_code=422) from None


async def month(session: AsyncSession, account_id: uuid.UUID, principal: Principal, month: str) -> dict[str, Any]:
    """Month to date and forecast per meter, for personal-threshold alerts."""
    authorize_account(account_id, principal)
    first = parse_month(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    meters = []
    for meter in await repository.account_meters(session, account_id):
        if meter.address_hold:
            continue
        latest = await repository.last_day(session, meter.meter_id)
        as_of = min(latest, last) if latest is not None and latest >= first else None
        t = to_date(await load_meter_year(session, meter, as_of)) if as_of else None
        meters.append({
            "meter_id": str(meter.meter_id), "energy": meter.energy,
            "as_of": as_of.isoformat() if as_of else None,
            "wh": t.month_wh if t else 0, "eur": t.month_eur if t else None,
            "days": t.month_days if t else 0, "days_missing": t.month_days_missing if t else last.day,
            "forecast_wh": t.forecast_wh if t else None, "forecast_eur": t.forecast_eur if t else None,
            "forecast_method": t.forecast_method if t else None,
            "eur_estimated": t.eur_estimated if t else False,
        })
    return {"account_id": str(account_id), "month": month, "meters": meters}
