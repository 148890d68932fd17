"""Issue 23 item 7: renovation monitoring. Works declared on an organisation's buildings (and on a resident's
dwelling) are weighed from the meters' monthly rollups, 12 whole months before the works' month against 12 after;
the Métropole's analysts read a programme's figures under statistical secrecy (≥ 10 renovations, none above 85 %
of the total), nobody else does."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from devstack.db import connection, fetchval
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from tests.e2e.test_analyst import analyst
from tests.e2e.test_organisations import SCHOOL, declared_meter, new_org, professional

pytestmark = pytest.mark.timeout(300)
WORKS_DAY = dt.date(2024, 6, 15)  # before: June 2023 - May 2024 (366 days); after: July 2024 - June 2025 (365)
PROGRAMME = "Mur|Mur 2"
SMALL = "Écoles sobres"


async def add_renovations(database_url: str, programme: str, n: int) -> None:
    """Renovations as consumption stores them from renovation.declared, on buildings without a meter yet."""
    async with connection(database_url) as conn:
        for _ in range(n):
            await conn.execute("INSERT INTO consumption.renovations (id, holder_id, day, works, programme, meter_ids) "
                               "VALUES ($1, $2, $3, 'windows', $4, '{}')", uuid.uuid4(), uuid.uuid4(), WORKS_DAY,
                               programme)


def readings(meter_id: str) -> list:
    """2 kWh a day for the year before, 5 kWh a day during the works' month (counted on neither side), 1.5 kWh a
    day for the year after."""
    return [readings_event(meter_id, dt.date(2023, 6, 1), [2000] * 366),
            readings_event(meter_id, dt.date(2024, 6, 1), [5000] * 30),
            readings_event(meter_id, dt.date(2024, 7, 1), [1500] * 365)]


def test_a_programme_s_before_and_after_reach_analysts_only_and_a_small_one_is_withheld(stack, resident):
    manager = professional(stack)
    org = new_org(manager, "Ville d'Échirolles")
    meters, buildings = [], []
    for i in range(11):
        b = manager.post(f"/orgs/{org['id']}/buildings", json={**SCHOOL, "name": f"École {i}", "site": None}).json()
        buildings.append(b)
        meters.append(declared_meter(manager, org, b))
    for i, b in enumerate(buildings):
        r = manager.post(f"/orgs/{org['id']}/buildings/{b['id']}/renovations", json={
            "day": WORKS_DAY.isoformat(), "works": "wall_insulation", "programme": PROGRAMME if i < 10 else SMALL})
        assert r.status_code == 201, r.text
        assert r.json()["meters"] == 1
    bad = manager.post(f"/orgs/{org['id']}/buildings/{buildings[0]['id']}/renovations",
                       json={"day": "2024-06-15", "works": "paint"})
    assert bad.status_code == 422

    async def feed():
        for m in meters:
            await eventually(lambda m=m: fetchval(stack.database_url, "select 1 from consumption.meters "
                                                  "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(stack.amqp_url, *(e for m in meters for e in readings(m["id"])))
    asyncio.run(feed())

    refused = resident.get("/analyst/renovations")
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden_role"
    assert manager.get(f"/analyst/renovations?programme={PROGRAMME}").status_code == 403

    reader = analyst(stack)

    async def measured():
        r = reader.get("/analyst/renovations", params={"programme": PROGRAMME})
        assert r.status_code == 200, r.text
        (figures,) = r.json()["programmes"]
        assert figures["measured"] == 10, figures
        return r.json()
    body = asyncio.run(eventually(measured, timeout=120))
    (figures,) = body["programmes"]
    assert body["min_renovations"] == 10 and body["max_share"] == 0.85
    assert figures["secret"] is None and figures["declared"] == 10
    assert figures["before_kwh"] == pytest.approx(7320, abs=1)   # 10 × 366 days × 2 kWh
    assert figures["after_kwh"] == pytest.approx(5475, abs=1)    # 10 × 365 days × 1.5 kWh
    assert figures["change_pct"] == pytest.approx(-25.2, abs=0.1)
    assert figures["completeness"] == pytest.approx(1.0)

    small = reader.get("/analyst/renovations", params={"programme": SMALL}).json()["programmes"]
    assert small == [{"programme": SMALL, "declared": 1, "measured": None, "secret": "too_few_renovations",
                      "before_kwh": None, "after_kwh": None, "change_pct": None, "completeness": None}]
    every = {p["programme"]: p for p in reader.get("/analyst/renovations").json()["programmes"]}
    assert every[PROGRAMME]["before_kwh"] == figures["before_kwh"] and every[SMALL]["secret"] == "too_few_renovations"

    # The organisation's members read each building's own figures; others learn nothing.
    (own,) = manager.get(f"/orgs/{org['id']}/buildings/{buildings[0]['id']}/renovations").json()
    assert own["before"]["kwh"] == pytest.approx(732) and own["after"]["kwh"] == pytest.approx(547.5)
    assert own["before"]["start"] == "2023-06-01" and own["after"]["end"] == "2025-07-01"
    assert own["confidence"] == "high" and own["change_pct"] == pytest.approx(-25.2, abs=0.1)
    assert resident.get(f"/orgs/{org['id']}/buildings/{buildings[0]['id']}/renovations").status_code == 404
    assert resident.post(f"/orgs/{org['id']}/buildings/{buildings[0]['id']}/renovations",
                         json={"day": "2024-06-15", "works": "windows"}).status_code == 404


def test_a_resident_declares_works_on_their_described_dwelling(stack, resident):
    works = {"day": "2025-03-01", "works": "heating_system", "programme": PROGRAMME}
    missing = resident.post("/me/dwelling/renovations", json=works)
    assert missing.status_code == 404 and missing.json()["error"] == "dwelling_not_found"
    from tests.e2e.test_actions import DWELLING
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    r = resident.post("/me/dwelling/renovations", json=works)
    assert r.status_code == 201, r.text

    async def listed():
        rows = resident.get("/me/dwelling/renovations").json()
        assert len(rows) == 1, rows
        return rows[0]
    row = asyncio.run(eventually(listed, timeout=60))
    assert row["works"] == "heating_system" and row["programme"] == PROGRAMME
    assert row["before"]["start"] == "2024-03-01" and row["after"]["start"] == "2025-04-01"
    # No meter yet: nothing to weigh, and it says so.
    assert row["confidence"] == "none" and row["change_pct"] is None and row["before"]["kwh"] is None
