"""Renovation monitoring: for works declared on a building or a dwelling, the consumption of its meters over the 12
whole months before the works' month against the 12 whole months after it, from the per-meter monthly rollups.

Each side is weather-normalised as the aggregates and the annual report do (the heating energy's heating share
scaled by the reference degree days over the side's), and scaled to the whole 12 months from the days with a
reading; its completeness (days present over days) gives the confidence. A programme's figures add up the
renovations measured on both sides (≥ 90 % complete, as a home in the aggregates) under the aggregates'
statistical secrecy: at least 10 renovations and none above 85 % of the total, otherwise withheld."""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.aggregates import MAX_SHARE, MIN_HOMES, Cell, primary
from consumption.catalogues import DEGREE_DAYS
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.peers import DEFAULT_DEGREE_DAY_STATION, MIN_PEER_COVERAGE
from metro.events import RenovationDeclared, Received

SECRETS = {"too_few_homes": "too_few_renovations", "dominant_home": "dominant_renovation"}


async def on_renovation_declared(session: AsyncSession, events: list[Received[RenovationDeclared]]) -> None:
    for e in events:
        p = e.payload
        await repository.upsert_renovation(session, {
            "id": p.renovation_id, "holder_id": p.holder_id, "building_id": p.building_id, "day": p.day,
            "works": p.works, "programme": p.programme, "heating_energy": p.heating_energy,
            "meter_ids": p.meter_ids})


def _months(first: dt.date, n: int) -> dt.date:
    index = first.year * 12 + first.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def windows(day: dt.date) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
    """The 12 whole months before the works' month, and the 12 after it."""
    m0 = day.replace(day=1)
    return (_months(m0, -12), m0), (_months(m0, 1), _months(m0, 13))


def confidence(before: float, after: float) -> str:
    worst = min(before, after)
    return "none" if worst == 0 else "high" if worst >= MIN_PEER_COVERAGE else "medium" if worst >= 0.5 else "low"


async def figures(session: AsyncSession, rows: list[Any]) -> list[dict[str, Any]]:
    """Each renovation with its two sides, change and confidence."""
    meters = defaultdict(list)
    for m in await repository.around_works(session, [r.id for r in rows]):
        meters[m.id].append(m)
    dd = await DEGREE_DAYS.get(session)
    out = []
    for r in rows:
        sides = []
        for (start, end), wh_key, present_key in zip(windows(r.day), ("wh_before", "wh_after"),
                                                     ("present_before", "present_after")):
            days = (end - start).days
            dju = dd.period_and_reference(DEFAULT_DEGREE_DAY_STATION, start, end)
            kwh, present, expected = 0.0, 0, 0
            for m in meters[r.id]:
                expected += days
                if not getattr(m, present_key):
                    continue
                present += getattr(m, present_key)
                scaled = getattr(m, wh_key) / 1000 * days / getattr(m, present_key)
                if dju and m.energy == r.heating_energy:
                    scaled = normalise_heating(scaled, dju[0], dju[1], DEFAULT_HEATING_SHARE)
                kwh += scaled
            sides.append({"start": start, "end": end, "kwh": round(kwh, 1) if present else None,
                          "completeness": round(present / expected, 3) if expected else 0.0})
        before, after = sides
        change = None
        if before["kwh"] and after["kwh"] is not None:
            change = round(100 * (after["kwh"] - before["kwh"]) / before["kwh"], 1)
        out.append({"id": r.id, "day": r.day, "works": r.works, "programme": r.programme,
                    "building_id": r.building_id, "before": before, "after": after, "change_pct": change,
                    "confidence": confidence(before["completeness"], after["completeness"])})
    return out


async def of_holder(session: AsyncSession, holder_id: uuid.UUID,
                    building_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    return await figures(session, await repository.holder_renovations(session, holder_id, building_id))


def programme_view(name: str, renovations: list[dict[str, Any]]) -> dict[str, Any]:
    measured = [r for r in renovations if min(r["before"]["completeness"], r["after"]["completeness"])
                >= MIN_PEER_COVERAGE]
    before = Cell.of({"programme": name}, [r["before"]["kwh"] for r in measured])
    after = Cell.of({"programme": name}, [r["after"]["kwh"] for r in measured])
    secret = primary(before) or primary(after)
    if secret:
        return {"programme": name, "declared": len(renovations), "measured": None, "secret": SECRETS[secret],
                "before_kwh": None, "after_kwh": None, "change_pct": None, "completeness": None}
    completeness = [r[side]["completeness"] for r in measured for side in ("before", "after")]
    return {"programme": name, "declared": len(renovations), "measured": len(measured), "secret": None,
            "before_kwh": round(before.total), "after_kwh": round(after.total),
            "change_pct": round(100 * (after.total - before.total) / before.total, 1) if before.total else None,
            "completeness": round(sum(completeness) / len(completeness), 3)}


async def programmes(session: AsyncSession, programme: str | None) -> dict[str, Any]:
    """Every programme (or the one asked) with its before/after figures under statistical secrecy."""
    by_programme: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in await figures(session, await repository.programme_renovations(session, programme)):
        by_programme[r["programme"]].append(r)
    if programme is not None and programme not in by_programme:
        by_programme[programme] = []
    return {"min_renovations": MIN_HOMES, "max_share": MAX_SHARE,
            "programmes": [programme_view(name, rows) for name, rows in sorted(by_programme.items())]}
