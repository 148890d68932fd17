"""An organisation's annual report per type of building (school, gymnasium, offices, …) for a year, from the
per-meter monthly rollups: per use type the number of buildings, floor area, kWh, kWh/m² raw and
weather-normalised (the heating energy's heating share scaled by the reference year's degree days over the
year's, as the comparisons do), €, CO2e, the change against the year before on the buildings measured both
years, and the 10 buildings furthest above their type's median. As data, as an HTML page that prints well, and
as the same page in PDF (WeasyPrint)."""
from __future__ import annotations

import datetime as dt
import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal


from consumption import printable, repository
from consumption.catalogues import DEGREE_DAYS
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.peers import DEFAULT_DEGREE_DAY_STATION
from consumption.series import co2e_factor
from metro.db import Database
from metro.schemas.orgs import AnnualReport, BuildingFigures, PortfolioMeter, UseTypeFigures

USE_TYPES_FR = {"school": "Écoles", "gymnasium": "Gymnases", "offices": "Bureaux", "housing": "Logements",
                "nursery": "Crèches", "town_hall": "Mairies", "pool": "Piscines", "other": "Autres", "all": "Total"}
TOP = 10


@dataclass
class Building:
    meter: PortfolioMeter  # the first of its meters: the building's own fields
    wh: int = 0
    wh_normalised: float = 0.0
    eur: Decimal | None = None
    co2e_kg: float = 0.0
    days_present: int = 0
    days: int = 0
    previous_wh: int = 0
    previous_days_present: int = 0
    previous_days: int = 0
    meters: set = field(default_factory=set)

    @property
    def complete(self) -> float:
        return self.days_present / self.days if self.days else 0.0

    @property
    def kwh_m2(self) -> float | None:
        return self.wh / 1000 / self.meter.heated_area_m2 if self.meter.heated_area_m2 else None

    @property
    def kwh_m2_normalised(self) -> float | None:
        return self.wh_normalised / 1000 / self.meter.heated_area_m2 if self.meter.heated_area_m2 else None


async def compute(db: Database, holder: uuid.UUID, meters: list[PortfolioMeter], year: int) -> AnnualReport:
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    before = dt.date(year - 1, 1, 1)
    async with db.session() as session:
        energy = await repository.owned_meters(session, holder, [m.meter_id for m in meters])
        rollups = await repository.rollups_of(session, list(energy), before, end)
        dju = (await DEGREE_DAYS.get(session)).period_and_reference(DEFAULT_DEGREE_DAY_STATION, start, end)
    buildings: dict[str, Building] = {}
    meter_of = {m.meter_id: m for m in meters if m.meter_id in energy}
    for m in meter_of.values():
        b = buildings.setdefault(m.building_id, Building(m))
        b.meters.add(m.meter_id)
        b.days += (end - start).days
        b.previous_days += (start - before).days
    for r in rollups:
        m = meter_of[r.meter_id]
        b = buildings[m.building_id]
        if r.month < start:
            b.previous_wh += r.wh
            b.previous_days_present += r.days_present
            continue
        b.wh += r.wh
        b.days_present += r.days_present
        heating = m.heating_energy == energy[r.meter_id]
        b.wh_normalised += normalise_heating(r.wh, *dju, DEFAULT_HEATING_SHARE) if dju and heating else r.wh
        if r.eur is not None:
            b.eur = (b.eur or Decimal(0)) + r.eur
        factor = co2e_factor(energy[r.meter_id])
        b.co2e_kg += r.wh * factor[0] / factor[1] / 1000 if factor else 0.0
    return _report(year, list(buildings.values()), dju)


def _figures(use_type: str, group: list[Building]) -> UseTypeFigures:
    area = sum(b.meter.heated_area_m2 for b in group)
    wh, normalised = sum(b.wh for b in group), sum(b.wh_normalised for b in group)
    eurs = [b.eur for b in group if b.eur is not None]
    both = [b for b in group if b.days_present and b.previous_days_present]
    now, then = sum(b.wh for b in both), sum(b.previous_wh for b in both)
    days = sum(b.days for b in group)
    return UseTypeFigures(
        use_type=use_type, buildings=len(group), floor_area_m2=round(area, 1), kwh=round(wh / 1000, 1),
        kwh_m2=round(wh / 1000 / area, 1) if area else None,
        kwh_m2_normalised=round(normalised / 1000 / area, 1) if area else None,
        eur=round(float(sum(eurs)), 2) if eurs else None, co2e_kg=round(sum(b.co2e_kg for b in group), 1),
        change_pct=round(100 * (now - then) / then, 1) if then else None,
        completeness_pct=round(100 * sum(b.days_present for b in group) / days) if days else 0)


def _report(year: int, buildings: list[Building], dju: tuple[float, float] | None) -> AnnualReport:
    by_type: dict[str, list[Building]] = defaultdict(list)
    for b in buildings:
        by_type[b.meter.use_type.value].append(b)
    ranked = []
    for use_type, group in by_type.items():
        values = [b.kwh_m2_normalised for b in group if b.kwh_m2_normalised is not None and b.days_present]
        median = statistics.median(values) if values else None
        for b in group:
            above = (100 * (b.kwh_m2_normalised - median) / median
                     if median and b.kwh_m2_normalised is not None and b.days_present else None)
            ranked.append(BuildingFigures(
                building_id=b.meter.building_id, name=b.meter.building, site=b.meter.site, use_type=use_type,
                floor_area_m2=b.meter.heated_area_m2, kwh=round(b.wh / 1000, 1),
                kwh_m2=round(b.kwh_m2, 1) if b.kwh_m2 is not None else None,
                kwh_m2_normalised=round(b.kwh_m2_normalised, 1) if b.kwh_m2_normalised is not None else None,
                type_median_kwh_m2=round(median, 1) if median is not None else None,
                above_median_pct=round(above, 1) if above is not None else None,
                completeness_pct=round(100 * b.complete)))
    above = sorted((r for r in ranked if r.above_median_pct is not None and r.above_median_pct > 0),
                   key=lambda r: -r.above_median_pct)[:TOP]
    order = list(USE_TYPES_FR)
    return AnnualReport(
        year=year, use_types=[_figures(t, by_type[t]) for t in sorted(by_type, key=order.index)],
        totals=_figures("all", buildings) if buildings else None, furthest_above_median=above,
        degree_days=(round(dju[0], 1), round(dju[1], 1)) if dju else None)


def html(report: AnnualReport, organisation: str) -> str:
    return printable.render("annual_report.html", report=report, organisation=organisation, labels=USE_TYPES_FR,
                            generated=dt.date.today())


async def pdf(report: AnnualReport, organisation: str) -> bytes:
    return await printable.pdf(html(report, organisation))
