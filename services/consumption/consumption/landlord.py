"""Landlord statements (RT 2012 art. 23; décret n° 2016-710 on individual consumption information): for a month,
each dwelling of a housing building gets its own meters' consumption and its share of the building's collective
heating and hot-water meters, in kWh and €, the shares marked as estimated by the share key. The key is the
dwellings' tantièmes of that use when every dwelling has some, their floor area otherwise (as a district-heat
substation is split per dwelling by its share key). From the monthly rollups; as data, as a printable HTML page
(FR) and as its PDF (WeasyPrint), as the annual report."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal


from consumption import printable, repository
from metro.db import Database
from metro.errors import NotFound
from metro.schemas.landlord import (BuildingStatements, DwellingStatement, MeterRole, OrgDwelling, StatementInput,
                                    StatementLine)

COLLECTIVE = {MeterRole.collective_heating: ("collective_heating", "heating_tantiemes"),
              MeterRole.collective_hot_water: ("collective_hot_water", "hot_water_tantiemes")}


def month_range(month: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(f"{month}-01")
    return start, (start + dt.timedelta(days=32)).replace(day=1)


def share_keys(dwellings: list[OrgDwelling], tantiemes: str) -> tuple[str, dict[uuid.UUID, Decimal]]:
    """The key a collective use is split by, and each dwelling's fraction of it."""
    if dwellings and all(getattr(d, tantiemes) for d in dwellings):
        key, weights = "tantiemes", {d.id: Decimal(getattr(d, tantiemes)) for d in dwellings}
    else:
        key, weights = "surface", {d.id: Decimal(str(d.floor_area_m2)) for d in dwellings}
    total = sum(weights.values())
    return key, {d: w / total for d, w in weights.items()} if total else {}


async def compute(db: Database, holder: uuid.UUID, building: StatementInput, month: str,
                  only: uuid.UUID | None = None) -> BuildingStatements:
    start, end = month_range(month)
    days = (end - start).days
    async with db.session() as session:
        held = await repository.held_month(session, holder, [m.meter_id for m in building.meters
                                                             if m.role is not MeterRole.none], start)
    meters = [m for m in building.meters if m.meter_id in held]
    keys = {role: share_keys(building.dwellings, column) for role, (_, column) in COLLECTIVE.items()}
    statements = []
    for d in building.dwellings:
        if only is not None and d.id != only:
            continue
        lines = []
        for m in meters:
            r = held[m.meter_id]
            wh, eur = Decimal(r.wh or 0), r.eur
            if m.role is MeterRole.dwelling and m.dwelling_id == d.id:
                lines.append(_line("own", m, wh, eur, r.days_present or 0, days))
            elif m.role in COLLECTIVE:
                key, fractions = keys[m.role]
                part = fractions.get(d.id, Decimal(0))
                lines.append(_line(COLLECTIVE[m.role][0], m, wh * part, None if eur is None else eur * part,
                                   r.days_present or 0, days, key=key, share=part))
        kwh = round(sum(line.kwh for line in lines), 1)
        eurs = [line.eur for line in lines if line.eur is not None]
        statements.append(DwellingStatement(
            dwelling_id=d.id, label=d.label, floor_area_m2=d.floor_area_m2, lines=lines, kwh=kwh,
            eur=round(sum(eurs), 2) if eurs else None, kwh_m2=round(kwh / d.floor_area_m2, 2)))
    if only is not None and not statements:
        raise NotFound("no such dwelling", code="dwelling_not_found")
    return BuildingStatements(month=month, building_id=building.building_id, building=building.building,
                              address=building.address, organisation=building.organisation, statements=statements)


def _line(kind: str, meter, wh: Decimal, eur: Decimal | None, present: int, days: int, *, key: str | None = None,
          share: Decimal | None = None) -> StatementLine:
    return StatementLine(kind=kind, energy=meter.energy, meter_label=meter.label or meter.identifier,
                         kwh=round(float(wh) / 1000, 1), eur=None if eur is None else round(float(eur), 2),
                         estimated_by_share_key=key is not None, share_key=key,
                         share_pct=None if share is None else round(float(share) * 100, 2),
                         days_present=present, days=days)


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")
KINDS_FR = {"own": "Compteur du logement", "collective_heating": "Chauffage collectif",
            "collective_hot_water": "Eau chaude collective"}
ENERGIES_FR = {"electricity": "électricité", "gas": "gaz", "heat": "chaleur", "water": "eau",
               "fuel_oil": "fioul", "wood": "bois"}


def html(result: BuildingStatements) -> str:
    year, month = (int(x) for x in result.month.split("-"))
    return printable.render("landlord_statement.html", result=result, period=f"{MONTHS_FR[month - 1]} {year}",
                            kinds=KINDS_FR, energies=ENERGIES_FR, generated=dt.date.today())


async def pdf(result: BuildingStatements) -> bytes:
    return await printable.pdf(html(result))
