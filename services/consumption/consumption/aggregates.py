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
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.catalogues import DEGREE_DAYS
from consumption.climate import municipalities, normalise_heating
from consumption.tariffs import DATA_DIR
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.peers import DEFAULT_DEGREE_DAY_STATION, MIN_PEER_COVERAGE

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


@dataclass
class Cell:
    key: dict[str, str]
    homes: int = 0
    total: float = 0.0  # kWh
    largest: float = 0.0  # the largest home's kWh
    kwh_m2: tuple[float, float, float] | None = None  # quartiles, of the homes_m2 homes that give a surface
    homes_m2: int = 0
    secret: str | None = None  # too_few_homes, dominant_home, secondary

    @classmethod
    def of(cls, key: dict[str, str], kwh: Iterable[float], kwh_m2: Iterable[float] = ()) -> Cell:
        """A cell from its homes' figures, in memory (a programme's renovations)."""
        kwh, kwh_m2 = list(kwh), list(kwh_m2)
        return cls(key, homes=len(kwh), total=sum(kwh), largest=max(kwh, default=0.0), kwh_m2=quartiles(kwh_m2),
                   homes_m2=len(kwh_m2))


def primary(cell: Cell) -> str | None:
    if cell.homes < MIN_HOMES:
        return "too_few_homes"
    if cell.total > 0 and cell.largest > MAX_SHARE * cell.total:
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


Cells = tuple[dict[tuple, Cell], dict[tuple, Cell], dict[str, Cell]]


def secure(cells: dict[tuple, Cell], breakdown: dict[tuple, Cell], totals: dict[str, Cell]) -> Cells:
    """(area cells keyed (area, energy), breakdown cells keyed (area, energy, dimension, value), Métropole totals
    keyed by energy), with primary and secondary secrecy applied."""
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
    q = cell.kwh_m2 if cell.homes_m2 >= MIN_HOMES else None
    trend = None
    if previous is not None and not previous.secret and previous.total > 0:
        trend = round(100 * (cell.total - previous.total) / previous.total, 1)
    return {**cell.key, "secret": None, "homes": cell.homes, "total_kwh": round(cell.total),
            "kwh_m2": {"q1": round(q[0], 1), "median": round(q[1], 1), "q3": round(q[2], 1),
                       "homes": cell.homes_m2} if q else None,
            "trend_pct": trend}


async def cells_of(session: AsyncSession, energies: Iterable[str], year: int, level: Level) -> Cells:
    """The year's cells of these energies, grouped by PostgreSQL from the rollups, secrecy applied."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    days = (end - start).days
    dju = (await DEGREE_DAYS.get(session)).period_and_reference(DEFAULT_DEGREE_DAY_STATION, start, end)
    factor = normalise_heating(1.0, dju[0], dju[1], DEFAULT_HEATING_SHARE) if dju else 1.0
    areas = sorted(municipalities()) if level == "municipality" else None
    cells: dict[tuple, Cell] = {}
    breakdown: dict[tuple, Cell] = {}
    totals: dict[str, Cell] = {}
    for energy in energies:
        for row in await repository.aggregate_cells(
                session, energy, start, end, area_key="insee_code" if level == "municipality" else "iris_code",
                areas=areas, min_present=days * MIN_PEER_COVERAGE, factor=factor):
            if not row.homes:  # the total's grouping set answers even with no home
                continue
            cell = Cell({}, homes=row.homes, total=float(row.total), largest=float(row.largest),
                        kwh_m2=tuple(row.quartiles) if row.homes_m2 >= 4 else None, homes_m2=row.homes_m2)
            if row.all_areas:
                cell.key = {"energy": energy}
                totals[energy] = cell
                continue
            cell.key = {"area": row.area, "energy": energy}
            dims = [(dim, getattr(row, dim)) for dim, off in zip(DIMENSIONS, (row.no_type, row.no_heating,
                                                                              row.no_period)) if not off]
            if not dims:
                cells[(row.area, energy)] = cell
            else:
                [(dim, value)] = dims
                cell.key[dim] = value
                breakdown[(row.area, energy, dim, value)] = cell
    return secure(cells, breakdown, totals)


ENERGIES = ("electricity", "gas")
LEVELS: tuple[Level, ...] = ("municipality", "iris")


async def compute(session: AsyncSession, level: Level, year: int) -> dict[str, Any]:
    """Every cell of a level and year, both energies, secrecy applied, with its trend against the year before:
    seconds of database work at the Métropole's scale, done by the worker (consumption.publication)."""
    cells, breakdown, totals = await cells_of(session, ENERGIES, year, level)
    p_cells, p_breakdown, p_totals = await cells_of(session, ENERGIES, year - 1, level)
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
    """The municipality cells of one energy as properties of the 49 municipalities' polygons (with when they were
    computed, as foreign members of the collection)."""
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
    return {"type": "FeatureCollection", "computed_at": result["computed_at"], "stale": result["stale"],
            "features": features}
