"""Issue 23 item 7: a renovation's two sides from the monthly rollups. The heating energy's side is
weather-normalised with the degree days in force (a colder year before the works weighs less), each side is scaled
to 12 months from its days present and its completeness gives the confidence; a programme is withheld when one
renovation is above 85 % of its total."""
from __future__ import annotations

import calendar
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from consumption import catalogues, renovations
from consumption.climate import normalise_heating
from consumption.comparison import DEFAULT_HEATING_SHARE
from consumption.models import meters, monthly_rollups, tariff_catalogues
from consumption.peers import DEFAULT_DEGREE_DAY_STATION
from metro.service_auth import Principal

WORKS = dt.date(2024, 6, 10)  # before: June 2023 - May 2024; after: July 2024 - June 2025


def degree_days_csv() -> bytes:
    """Normals of 300 DJU a month; 360 actual before the works (a colder year), 300 after."""
    lines = ["station_id,station_name,kind,period,base_c,dju_value,raw_value,status_source"]
    lines += [f"{DEFAULT_DEGREE_DAY_STATION},TEST,normal_1991_2020,{m:02d},18,300,," for m in range(1, 13)]
    for y in (2023, 2024, 2025):
        for m in range(1, 13):
            lines.append(f"{DEFAULT_DEGREE_DAY_STATION},TEST,actual,{y}-{m:02d},18,"
                         f"{360 if dt.date(y, m, 1) < dt.date(2024, 6, 1) else 300},,")
    return "\n".join(lines).encode()


async def renovation(session, energy: str, heating: str, kwh_a_day: tuple[float, float],
                     present: float = 1.0, programme: str = "P") -> uuid.UUID:
    meter_id, rid = uuid.uuid4(), uuid.uuid4()
    await session.execute(sa.insert(meters).values(meter_id=meter_id, account_id=uuid.uuid4(), energy=energy,
                                                   dso="grdf"))
    for (start, end), per_day in zip(renovations.windows(WORKS), kwh_a_day):
        month = start
        while month < end:
            days = calendar.monthrange(month.year, month.month)[1]
            here = round(days * present)
            await session.execute(sa.insert(monthly_rollups).values(
                meter_id=meter_id, month=month, energy=energy, wh=round(per_day * 1000 * here), days=days,
                days_present=here, days_estimated=0, days_priced=0))
            month = (month + dt.timedelta(days=32)).replace(day=1)
    await renovations.repository.upsert_renovation(session, {
        "id": rid, "holder_id": uuid.uuid4(), "building_id": None, "day": WORKS, "works": "wall_insulation",
        "programme": programme, "heating_energy": heating, "meter_ids": [meter_id]})
    return rid


@pytest.fixture
async def colder_before(db):
    """The crafted degree days in force for one test, then removed (the tests after it see the bundled file)."""
    async with db.session() as session, session.begin():
        version = await catalogues.upload_degree_days(session, degree_days_csv(), "test",
                                                      Principal(uuid.uuid4(), ("admin",)))
    yield
    async with db.session() as session, session.begin():
        await session.execute(sa.delete(tariff_catalogues).where(tariff_catalogues.c.id == version.version))
    catalogues.DEGREE_DAYS.invalidate()


async def test_the_heating_side_is_weather_normalised_and_completeness_gives_confidence(db, colder_before):
    programme = f"P {uuid.uuid4()}"
    async with db.session() as session, session.begin():
        heated = await renovation(session, "gas", "gas", (10, 8), programme=programme)
        other = await renovation(session, "electricity", "gas", (10, 8), present=0.6, programme=programme)
    async with db.session() as session:
        rows = {r["id"]: r for r in await renovations.figures(
            session, await renovations.repository.programme_renovations(session, programme))}
    gas, elec = rows[heated], rows[other]
    assert gas["before"]["start"] == dt.date(2023, 6, 1) and gas["after"]["end"] == dt.date(2025, 7, 1)
    # 366 days at 10 kWh, its heating share scaled by 300/360; 365 days at 8 kWh in a normal year.
    assert gas["before"]["kwh"] == pytest.approx(normalise_heating(3660, 360 * 12, 300 * 12, DEFAULT_HEATING_SHARE),
                                                 rel=1e-3)
    assert gas["before"]["kwh"] < 3660 and gas["after"]["kwh"] == pytest.approx(2920, rel=1e-3)
    assert gas["confidence"] == "high" and gas["before"]["completeness"] == 1.0
    # Not the heating energy: raw, scaled to the whole 12 months from 60 % of the days; medium confidence.
    assert elec["before"]["kwh"] == pytest.approx(3660, rel=0.01)
    assert elec["before"]["completeness"] == pytest.approx(0.6, abs=0.01) and elec["confidence"] == "medium"


async def test_a_programme_with_a_dominant_renovation_is_withheld(db):
    dominated, balanced = f"Dominé {uuid.uuid4()}", f"Équilibré {uuid.uuid4()}"
    async with db.session() as session, session.begin():
        for _ in range(10):
            await renovation(session, "electricity", "gas", (10, 8), programme=dominated)
        await renovation(session, "electricity", "gas", (1000, 800), programme=dominated)
        for _ in range(10):
            await renovation(session, "electricity", "gas", (10, 8), programme=balanced)
    async with db.session() as session:
        result = {p["programme"]: p for p in (await renovations.programmes(session, None))["programmes"]}
    assert result[dominated]["secret"] == "dominant_renovation" and result[dominated]["before_kwh"] is None
    assert result[balanced]["secret"] is None and result[balanced]["measured"] == 10
    assert result[balanced]["change_pct"] == pytest.approx(-20.2, abs=0.1)  # 2 920 against 3 660
