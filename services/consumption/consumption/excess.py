"""Excess tracking for organisations: per building, the meters whose anomaly episodes touch a period, with the
excess in kWh and, where the days are priced, in euros at those days' own average price."""
from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from metro.errors import AppError
from metro.schemas.orgs import PortfolioMeter

MAX_DAYS = 92


def _excess_eur(episode, days: dict[dt.date, tuple[int, Decimal | None]]) -> float | None:
    """The excess at the episode's average price per Wh; None unless every day of it is priced."""
    covered = [days.get(episode.start + dt.timedelta(days=i)) for i in range((episode.end - episode.start).days + 1)]
    if not covered or any(c is None or c[1] is None for c in covered):
        return None
    wh = sum(c[0] for c in covered)
    eur = sum(c[1] for c in covered)
    if wh <= 0:
        return None
    return round(float(eur / wh * (episode.observed_wh - episode.expected_wh)), 2)


async def compute(session: AsyncSession, holder: uuid.UUID, meters: list[PortfolioMeter], start: dt.date,
                  end: dt.date) -> dict:
    """The body of OrgExcess; meters the holder does not hold are left out, as are those without an episode."""
    if not start < end or (end - start).days > MAX_DAYS:
        raise AppError(f"the period must be 1 to {MAX_DAYS} days", code="invalid_period", status_code=422)
    held = await repository.owned_meters(session, holder, [m.meter_id for m in meters])
    episodes = await repository.episodes_touching(session, list(held), start, end)
    of_meter: dict[uuid.UUID, list] = defaultdict(list)
    for e in episodes:
        of_meter[e.meter_id].append(e)
    prices: dict[uuid.UUID, dict[dt.date, tuple[int, Decimal | None]]] = defaultdict(dict)
    if episodes:
        first = min(e.start for e in episodes)
        last = max(e.end for e in episodes)
        for p in await repository.priced_days_of(session, list(of_meter), first, last):
            prices[p.meter_id][p.day] = (p.wh, p.eur)
    buildings: dict[str, dict] = {}
    for m in meters:
        if m.meter_id not in of_meter:
            continue
        b = buildings.setdefault(m.building_id, {
            "building_id": m.building_id, "name": m.building, "site": m.site, "use_type": m.use_type.value,
            "meters": [], "excess_kwh": 0.0, "excess_eur": 0.0})
        listed = []
        for e in of_meter.pop(m.meter_id):
            eur = _excess_eur(e, prices[m.meter_id])
            excess = (e.observed_wh - e.expected_wh) / 1000
            listed.append({"kind": e.kind, "start": e.start, "end": e.end, "observed_kwh": e.observed_wh / 1000,
                           "expected_kwh": e.expected_wh / 1000, "excess_kwh": excess, "excess_eur": eur})
            b["excess_kwh"] += excess
            b["excess_eur"] = None if eur is None or b["excess_eur"] is None else b["excess_eur"] + eur
        b["meters"].append({"meter_id": m.meter_id, "identifier": m.identifier, "label": m.label,
                            "energy": m.energy, "episodes": listed})
    ordered = sorted(buildings.values(), key=lambda b: -b["excess_kwh"])
    for b in ordered:
        b["excess_kwh"] = round(b["excess_kwh"], 3)
        b["excess_eur"] = None if b["excess_eur"] is None else round(b["excess_eur"], 2)
    return {"start": start, "end": end, "buildings": ordered}
