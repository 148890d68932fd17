"""The Métropole's anonymised aggregates for energy planning, under statistical secrecy.

A home is a profiled resident's meter of one energy (its dwelling's municipality, IRIS, type, heating energy
and construction year from consent's profile), with its year read from the per-meter monthly rollups: a home
with fewer than 90 % of the year's days is left out, one missing a few is scaled to the whole year. kWh/m² is
weather-normalised (the heating share scaled by the reference year's degree days over the year's, as the
comparisons do) when the energy is the home's heating energy.

Cells: per area (municipality or IRIS) and energy, and per area, energy and one of dwelling type, heating
energy and construction period; with the Métropole's total per energy. Each gives the number of homes, the
median and quartiles of kWh/m², the total kWh and its change against the year before.

Secrecy, as French public statistics apply it:
- primary: a cell is published only with at least 10 homes and no single home above 85 % of its total kWh;
- secondary: cells that add up to a published total (the areas to the Métropole's total, the breakdown of an
  area to its cell) never leave exactly one of them suppressed, or the total minus the published ones would
  give it away: the published cell with the fewest homes is suppressed too, until no group has exactly one.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.catalogues import DEGREE_DAYS
from consumption.climate import municipalities, normalise_heating
from consumption.tariffs import DATA_DIR
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.peers import DEFAULT_DEGREE_DAY_STATION, MIN_PEER_COVERAGE
from metro.errors import AppError

MIN_HOMES = 10
MAX_SHARE = 0.85
DIMENSIONS = ("dwelling_type", "heating_energy", "construction_period")
PERIODS = ((1948, "before_1949"), (1974, "1949_1974"), (2000, "1975_2000"), (2012, "2001_2012"),
           (9999, "after_2012"))
UNKNOWN = "unknown"
Level = Literal["municipality", "iris"]


def construction_period(year: int | None) -> str:
    if year is None:
        return UNKNOWN
    return next(label for last, label in PERIODS if year <= last)


@dataclass(frozen=True)
class HomeYear:
    area: str
    energy: str
    kwh: float  # the year's, scaled to the whole year
    kwh_m2: float | None  # weather-normalised where the energy is the home's heating energy
    dimensions: Mapping[str, str]


@dataclass
class Cell:
    key: dict[str, str]
    kwh: list[float] = field(default_factory=list)
    kwh_m2: list[float] = field(default_factory=list)
    secret: str | None = None  # too_few_homes, dominant_home, secondary

    @property
    def homes(self) -> int:
        return len(self.kwh)

    @property
    def total(self) -> float:
        return sum(self.kwh)


def primary(cell: Cell) -> str | None:
    if cell.homes < MIN_HOMES:
        return "too_few_homes"
    if cell.total > 0 and max(cell.kwh) > MAX_SHARE * cell.total:
        return "dominant_home"
    return None


def protect(groups: Iterable[list[Cell]]) -> None:
    """Secondary secrecy over groups of cells that add up to a published figure (their total)."""
    groups = [g for g in groups if len(g) > 1]
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [c for c in group if c.secret]
            shown = [c for c in group if not c.secret]
            if len(hidden) == 1 and shown:
                min(shown, key=lambda c: (c.homes, c.total)).secret = "secondary"
                changed = True


def build(homes: Iterable[HomeYear]) -> tuple[dict[tuple, Cell], dict[tuple, Cell], dict[str, Cell]]:
    """(area cells, breakdown cells, Métropole totals), secrecy applied."""
    cells: dict[tuple, Cell] = {}
    breakdown: dict[tuple, Cell] = {}
    totals: dict[str, Cell] = {}

    def into(cell: Cell, home: HomeYear) -> None:
        cell.kwh.append(home.kwh)
        if home.kwh_m2 is not None:
            cell.kwh_m2.append(home.kwh_m2)

    for home in homes:
        into(totals.setdefault(home.energy, Cell({"energy": home.energy})), home)
        into(cells.setdefault((home.area, home.energy), Cell({"area": home.area, "energy": home.energy})), home)
        for dim in DIMENSIONS:
            value = home.dimensions.get(dim) or UNKNOWN
            key = (home.area, home.energy, dim, value)
            into(breakdown.setdefault(key, Cell({"area": home.area, "energy": home.energy, dim: value})), home)
    for cell in (*cells.values(), *breakdown.values(), *totals.values()):
        cell.secret = primary(cell)
    by_energy: dict[str, list[Cell]] = defaultdict(list)
    for (_, energy), cell in cells.items():
        by_energy[energy].append(cell)
    protect(by_energy.values())
    # A suppressed area hides its breakdown whole; a published area's breakdown adds up to it.
    by_area: dict[tuple, list[Cell]] = defaultdict(list)
    for (area, energy, dim, _), cell in breakdown.items():
        if cells[(area, energy)].secret:
            cell.secret = cell.secret or "secondary"
        by_area[(area, energy, dim)].append(cell)
    protect(by_area.values())
    return cells, breakdown, totals


def quartiles(values: list[float]) -> tuple[float, float, float] | None:
    if len(values) < 4:
        return None
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def view(cell: Cell, previous: Cell | None) -> dict[str, Any]:
    if cell.secret:
        return {**cell.key, "secret": cell.secret, "homes": None, "total_kwh": None, "kwh_m2": None,
                "trend_pct": None}
    q = quartiles(cell.kwh_m2) if len(cell.kwh_m2) >= MIN_HOMES else None
    trend = None
    if previous is not None and not previous.secret and previous.total > 0:
        trend = round(100 * (cell.total - previous.total) / previous.total, 1)
    return {**cell.key, "secret": None, "homes": cell.homes, "total_kwh": round(cell.total),
            "kwh_m2": {"q1": round(q[0], 1), "median": round(q[1], 1), "q3": round(q[2], 1),
                       "homes": len(cell.kwh_m2)} if q else None,
            "trend_pct": trend}


async def homes_of(session: AsyncSession, energy: str, year: int, level: Level) -> list[HomeYear]:
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    days = (end - start).days
    dju = (await DEGREE_DAYS.get(session)).period_and_reference(DEFAULT_DEGREE_DAY_STATION, start, end)
    metro = municipalities()
    homes = []
    for _, profile, wh, present in await repository.period_totals(session, energy, start, end):
        area = profile.get("insee_code") if level == "municipality" else profile.get("iris_code")
        if wh is None or present < days * MIN_PEER_COVERAGE or area is None:
            continue
        if level == "municipality" and area not in metro:
            continue
        kwh = wh / 1000 * days / present
        normalised = kwh
        if dju and profile.get("heating_energy") == energy:
            normalised = normalise_heating(kwh, dju[0], dju[1], DEFAULT_HEATING_SHARE)
        surface = profile.get("surface_m2")
        homes.append(HomeYear(area=area, energy=energy, kwh=kwh,
                              kwh_m2=normalised / surface if surface else None, dimensions={
                                  "dwelling_type": profile.get("dwelling_type"),
                                  "heating_energy": profile.get("heating_energy"),
                                  "construction_period": construction_period(profile.get("construction_year"))}))
    return homes


ENERGIES = ("electricity", "gas")


async def aggregates(session: AsyncSession, level: Level, year: int, energy: str | None) -> dict[str, Any]:
    if not 2000 <= year < dt.date.today().year + 1:
        raise AppError("no such year", code="invalid_period", status_code=422)
    energies = (energy,) if energy else ENERGIES
    now_homes = [h for e in energies for h in await homes_of(session, e, year, level)]
    before_homes = [h for e in energies for h in await homes_of(session, e, year - 1, level)]
    cells, breakdown, totals = build(now_homes)
    p_cells, p_breakdown, p_totals = build(before_homes)
    names = {code: row["name"] for code, row in municipalities().items()}
    return {
        "level": level, "year": year, "min_homes": MIN_HOMES, "max_share": MAX_SHARE,
        "cells": [{**view(c, p_cells.get(k)), "name": names.get(k[0]) if level == "municipality" else None}
                  for k, c in sorted(cells.items())],
        "breakdowns": [view(c, p_breakdown.get(k)) for k, c in sorted(breakdown.items())],
        "totals": [view(c, p_totals.get(e)) for e, c in sorted(totals.items())],
    }


@functools.cache
def boundaries() -> dict[str, Any]:
    """The 49 municipalities' polygons (data/SOURCES.md: IGN ADMIN EXPRESS via france-geojson, Licence Ouverte)."""
    return json.loads((DATA_DIR / "metro_municipalities.geojson").read_text("utf-8"))


def geojson(result: dict[str, Any], boundaries: Mapping[str, Any], energy: str) -> dict[str, Any]:
    """The municipality cells of one energy as properties of the 49 municipalities' polygons."""
    by_code = {c["area"]: c for c in result["cells"] if c["energy"] == energy}
    features = []
    for feature in boundaries["features"]:
        code = feature["properties"]["code"]
        cell = by_code.get(code) or {"secret": "too_few_homes", "homes": None, "total_kwh": None, "kwh_m2": None,
                                     "trend_pct": None}
        features.append({"type": "Feature", "geometry": feature["geometry"], "properties": {
            "code": code, "name": feature["properties"]["nom"], "energy": energy, "year": result["year"],
            "secret": cell["secret"], "homes": cell["homes"], "total_kwh": cell["total_kwh"],
            "kwh_m2_median": cell["kwh_m2"]["median"] if cell["kwh_m2"] else None,
            "kwh_m2_q1": cell["kwh_m2"]["q1"] if cell["kwh_m2"] else None,
            "kwh_m2_q3": cell["kwh_m2"]["q3"] if cell["kwh_m2"] else None,
            "trend_pct": cell["trend_pct"]}})
    return {"type": "FeatureCollection", "features": features}
