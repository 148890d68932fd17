"""Issue 23 items 5 and 6: the Métropole's aggregates through the gateway, for analysts only, under statistical
secrecy, as a table and as GeoJSON over the 49 municipalities. The population is crafted in consumption's own
tables (homes with their dwelling profile and a year of monthly rollups), as the pricing worker leaves them; the
aggregates are served as consumption's worker stored them after the rollups changed (item 8), with when."""
from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from devstack.client import ApiUser, admin_user
from devstack.db import connection

pytestmark = pytest.mark.timeout(300)
YEAR = 2023  # no other test writes rollups for 2022-2023


def analyst(stack) -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    assert admin.put(f"/admin/accounts/{user.account['id']}/roles", json={"roles": ["analyst"]}).status_code == 200
    admin.close()
    return user


def settled(user: ApiUser, year: int = YEAR, timeout: float = 120, **params) -> dict:
    """The aggregates once consumption's worker has stored them after the last rollups written (not `stale`)."""
    deadline = time.monotonic() + timeout
    while True:
        r = user.get("/analyst/aggregates", params={"year": year, **params})
        assert r.status_code == 200, r.text
        if not r.json()["stale"] or time.monotonic() > deadline:
            return r.json()
        time.sleep(0.5)


async def add_homes(database_url: str, insee: str, n: int, kwh_year: float, *, year: int = YEAR,
                    energy: str = "gas", heating: str = "gas", dwelling: str = "apartment",
                    built: int = 1970, surface: float = 60, iris: str | None = None) -> None:
    async with connection(database_url) as conn:
        for _ in range(n):
            meter_id, account_id = uuid.uuid4(), uuid.uuid4()
            await conn.execute("INSERT INTO consumption.meters (meter_id, account_id, energy, dso) "
                               "VALUES ($1, $2, $3, 'grdf')", meter_id, account_id, energy)
            await conn.execute("INSERT INTO consumption.profiles (account_id, profile) VALUES ($1, $2)", account_id,
                               json.dumps({"insee_code": insee, "iris_code": iris, "surface_m2": surface,
                                           "dwelling_type": dwelling, "heating_energy": heating,
                                           "construction_year": built}))
            for m in range(1, 13):
                month = dt.date(year, m, 1)
                days = ((dt.date(year + (m == 12), m % 12 + 1, 1)) - month).days
                await conn.execute(
                    "INSERT INTO consumption.monthly_rollups (meter_id, month, energy, wh, days, days_present, "
                    "days_estimated, days_priced) VALUES ($1, $2, $3, $4, $5, $5, 0, 0)",
                    meter_id, month, energy, round(kwh_year * 1000 * days / 365), days)


def test_analysts_get_aggregates_under_secrecy_and_others_are_refused(stack, resident):
    import asyncio

    async def population():
        await add_homes(stack.database_url, "38057", 12, 6000, iris="380570000")   # Bresson: published
        await add_homes(stack.database_url, "38057", 12, 5000, year=YEAR - 1)      # ... and the year before
        await add_homes(stack.database_url, "38059", 11, 6000)                     # Brié: one home dominates
        await add_homes(stack.database_url, "38059", 1, 500_000)
        await add_homes(stack.database_url, "38068", 4, 6000)                      # Champagnier: too few
        await add_homes(stack.database_url, "38111", 30, 4000, surface=100)        # Claix: published
        await add_homes(stack.database_url, "38111", 2, 4000, heating="wood")      # ... with a small breakdown
    asyncio.run(population())

    refused = resident.get(f"/analyst/aggregates?year={YEAR}&energy=gas")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_role"
    assert resident.get(f"/analyst/aggregates.geojson?year={YEAR}&energy=gas").status_code == 403

    reader = analyst(stack)
    body = settled(reader, energy="gas")
    assert not body["stale"] and dt.datetime.fromisoformat(body["computed_at"])
    cells = {c["area"]: c for c in body["cells"]}
    assert body["min_homes"] == 10 and body["max_share"] == 0.85
    bresson = cells["38057"]
    assert bresson["secret"] is None and bresson["homes"] == 12 and bresson["name"] == "Bresson"
    assert bresson["total_kwh"] == pytest.approx(72_000, abs=12)
    assert bresson["kwh_m2"]["median"] == pytest.approx(100.0, abs=0.2)  # 6 000 kWh on 60 m²
    assert bresson["trend_pct"] == pytest.approx(20.0, abs=0.1)  # 72 000 against 60 000
    assert cells["38059"]["secret"] == "dominant_home" and cells["38059"]["total_kwh"] is None
    assert cells["38068"]["secret"] == "too_few_homes" and cells["38068"]["homes"] is None
    assert cells["38111"]["secret"] is None and cells["38111"]["homes"] == 32
    # Claix's heating energies: wood (2 homes) is withheld, so gas (the only other) is withheld too.
    heating = {c["heating_energy"]: c for c in body["breakdowns"] if c["area"] == "38111" and "heating_energy" in c}
    assert heating["wood"]["secret"] == "too_few_homes" and heating["gas"]["secret"] == "secondary"
    for cell in body["cells"] + body["breakdowns"] + body["totals"]:
        assert cell["secret"] is not None or cell["homes"] >= 10, cell

    iris = reader.get(f"/analyst/aggregates?year={YEAR}&energy=gas&level=iris").json()
    assert {c["area"] for c in iris["cells"]} >= {"380570000"}

    geo = reader.get(f"/analyst/aggregates.geojson?year={YEAR}&energy=gas")
    assert geo.status_code == 200
    features = {f["properties"]["code"]: f for f in geo.json()["features"]}
    assert len(features) == 49
    assert features["38057"]["properties"]["homes"] == 12 and features["38057"]["geometry"]["type"] in (
        "Polygon", "MultiPolygon")
    assert features["38059"]["properties"]["secret"] == "dominant_home"
    assert features["38059"]["properties"]["total_kwh"] is None
    assert geo.json()["computed_at"] == body["computed_at"]

    # One municipality, as stored: its cells and breakdowns, and the Métropole's totals.
    one = reader.get(f"/analyst/aggregates?year={YEAR}&energy=gas&area=38057").json()
    assert {c["area"] for c in one["cells"] + one["breakdowns"]} == {"38057"} and one["totals"]
    assert one["cells"][0]["homes"] == 12


def test_new_rollups_reach_analysts_once_the_worker_has_recomputed_the_year(stack):
    import asyncio

    reader = analyst(stack)
    year = YEAR - 5  # this test's year alone
    asyncio.run(add_homes(stack.database_url, "38185", 15, 5000, year=year))   # Grenoble
    before = settled(reader, year, energy="gas")
    grenoble = next(c for c in before["cells"] if c["area"] == "38185")
    assert grenoble["homes"] == 15

    asyncio.run(add_homes(stack.database_url, "38185", 5, 5000, year=year))
    after = settled(reader, year, energy="gas")
    assert not after["stale"] and after["computed_at"] > before["computed_at"]
    assert next(c for c in after["cells"] if c["area"] == "38185")["homes"] == 20
