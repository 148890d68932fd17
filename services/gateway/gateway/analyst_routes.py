"""The Métropole's analysts: anonymised aggregates under statistical secrecy, as tables and as GeoJSON. Analyst
role only; every query is logged with who asked and what."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from gateway.auth import Identity, require_role
from metro.errors import Forbidden, error_responses
from metro.schemas.analyst import Aggregates, FeatureCollection
from metro.schemas.renovations import Programmes

router = APIRouter(prefix="/api/v1/analyst", tags=["analyst"])
Analyst = Annotated[Identity, Depends(require_role("analyst"))]
log = logging.getLogger(__name__)
Year = Annotated[int, Query(ge=2000, le=2100, description="a calendar year; the last whole one by default")]
Energy = Literal["electricity", "gas"]
Area = Annotated[str | None, Query(pattern=r"^[0-9][0-9AB][0-9]{3}([0-9]{4})?$",
                                   description="an INSEE municipality code, or an IRIS code with level=iris")]


def _last_year() -> int:
    return dt.date.today().year - 1


async def _ask(request: Request, who: Identity, path: str, params: dict) -> dict:
    log.info("analyst query", extra={"account_id": str(who.account_id), "query": path, "params": params})
    return await request.app.state.runtime.services.json("consumption", "GET", f"/internal/analyst/{path}",
                                                         principal=who.principal, params=params)


@router.get("/aggregates", response_model=Aggregates, responses=error_responses(Forbidden))
async def aggregates(who: Analyst, request: Request, level: Literal["municipality", "iris"] = "municipality",
                     energy: Energy | None = None, year: Year | None = None, area: Area = None):
    """Per municipality or IRIS and energy, and by dwelling type, heating energy and construction period: number
    of homes, quartiles of weather-normalised kWh/m², total kWh and its trend. A cell is published only with at
    least 10 homes and no home above 85 % of its total; cells adding up to a published total never leave exactly
    one withheld (secondary secrecy). `area`: one municipality or IRIS only, with the Métropole's totals.
    Computed after the rollups change and served as stored: `computed_at` says when, `stale` that newer rollups
    wait for the next computation."""
    params = {"level": level, "year": year or _last_year(), **({"energy": energy} if energy else {}),
              **({"area": area} if area else {})}
    return await _ask(request, who, "aggregates", params)


@router.get("/aggregates.geojson", response_model=FeatureCollection, responses=error_responses(Forbidden))
async def aggregates_geojson(who: Analyst, request: Request, energy: Energy, year: Year | None = None):
    """The municipality cells of one energy as the properties of the 49 municipalities' polygons (IGN ADMIN
    EXPRESS via france-geojson, Licence Ouverte): for the energy GIS."""
    return await _ask(request, who, "aggregates.geojson", {"energy": energy, "year": year or _last_year()})


@router.get("/renovations", response_model=Programmes, responses=error_responses(Forbidden))
async def renovations(who: Analyst, request: Request,
                      programme: Annotated[str | None, Query(max_length=120, description="one programme; all by "
                                                                                           "default")] = None):
    """Per renovation programme: the weather-normalised kWh of the 12 whole months before the works against the
    12 after, added over the renovations measured on both sides (≥ 90 % of days), the change and the mean
    completeness. Withheld (`secret`) under 10 measured renovations or when one renovation is above 85 % of the
    total, as the aggregates."""
    return await _ask(request, who, "renovations", {"programme": programme} if programme else {})
