"""Issue 22: Grenoble's own operators end to end. A resident declares a GreenAlp, CCIAG or Eau de Grenoble meter
with the contract reference and holder on the bill; the real ingest-local sends the operator its consented-meter
list on the sandbox's SFTP drop; the operator's files (with their quirks: late, corrected, meter exchange,
truncated, wrong encoding) activate the meter when they name it with the same holder; what the resident reads
through the gateway equals the sandbox's ground truth; revocation and erasure take the meter off the next list."""
from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
import uuid

import httpx
import pytest

from devstack.client import ApiUser, admin_user
from devstack.db import fetch, fetchval
from devstack.waiting import eventually
from metro.service_auth import ServiceTokens

pytestmark = pytest.mark.timeout(600)
DAY0 = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def sandbox(stack):
    handle = stack.sandboxes["local"]
    with httpx.Client(base_url=handle.url + "/_sandbox", timeout=60) as client:
        yield client


def run_cycle(stack) -> dict:
    token = ServiceTokens.local("gateway").issue("ingest_local")
    r = httpx.post(stack.url("ingest_local") + "/internal/collections/run",
                   headers={"authorization": f"Bearer {token}"}, timeout=300)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "ok", r.json()
    return r.json()


def holder(sandbox, identifier: str) -> str:
    return sandbox.get(f"/holders/{identifier}").json()["holder_name"]


def declare(user, sandbox, energy: str, dso: str, identifier: str, holder_name: str | None = None) -> dict:
    r = user.post("/meters", json={"energy": energy, "dso": dso, "identifier": identifier, "local_holder": {
        "contract_reference": f"CT-{identifier[-6:]}", "holder_name": holder_name or holder(sandbox, identifier)}})
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "file" and r.json()["consent"]["status"] == "requested"
    return r.json()


def consent_of(user, meter_id: str) -> dict:
    return {m["id"]: m for m in user.get("/meters").json()}[meter_id]["consent"]


def listed(sandbox, operator: str) -> dict[str, dict]:
    return sandbox.get(f"/{operator}/lists").json()["latest"]


def publish(sandbox, operator: str, energy: str, start: dt.date, end: dt.date | None = None, **kw) -> list[str]:
    r = sandbox.post("/publish", json={"operator": operator, "energy": energy, "start": start.isoformat(),
                                       "end": (end or start).isoformat(), **kw})
    assert r.status_code == 200, r.text
    return r.json()["files"]


def truth(sandbox, energy: str, identifier: str, start: dt.date, end: dt.date) -> dict[str, int]:
    return sandbox.get(f"/ground_truth/{energy}/{identifier}",
                       params={"start": start.isoformat(), "end": end.isoformat()}).json()["values"]


def served(user, meter_id: str, start: dt.date, end: dt.date, step: str = "day") -> dict[str, dict]:
    r = user.get(f"/meters/{meter_id}/consumption", params={"from": start.isoformat(),
                                                            "to": (end + dt.timedelta(days=1)).isoformat(),
                                                            "step": step})
    assert r.status_code == 200, r.text
    return {p["period"]: p for p in r.json()["points"] if p["wh"] is not None}


def accented_prm(sandbox, rng: random.Random) -> str:
    """A PRM whose holder's name is not plain ASCII: the wrong-encoding file is then unreadable as UTF-8."""
    while True:
        prm = f"{rng.randrange(10**13, 2 * 10**13):014d}"
        if not holder(sandbox, prm).isascii():
            return prm


async def test_greenalp_electricity_from_declaration_to_the_residents_days_through_every_quirk(stack, sandbox):
    rng = random.Random()
    alice, mallory = ApiUser(stack.url("gateway")).signup(), ApiUser(stack.url("gateway")).signup()
    prm, other = accented_prm(sandbox, rng), accented_prm(sandbox, rng)
    meter = declare(alice, sandbox, "electricity", "greenalp", prm)
    wrong_holder = declare(mallory, sandbox, "electricity", "greenalp", other, holder_name="Gérard Imposteur")

    run_cycle(stack)
    ours = listed(sandbox, "greenalp")
    assert ours[prm]["STATUT"] == "CONSENTI" and ours[prm]["TITULAIRE"] == holder(sandbox, prm)
    assert ours[prm]["REFERENCE_CONTRAT"] == f"CT-{prm[-6:]}" and other in ours

    exchange = DAY0 + dt.timedelta(days=5)
    sandbox.put(f"/exchanges/{prm}", json={"day": exchange.isoformat(), "old_serial": "LKY-OLD",
                                           "new_serial": "LKY-NEW"})
    for i in (0, 1, 2, 3, 5, 7, 8):  # day 4 comes late, day 6 wrong then corrected
        publish(sandbox, "greenalp", "electricity", DAY0 + dt.timedelta(days=i))
    publish(sandbox, "greenalp", "electricity", DAY0 + dt.timedelta(days=6), wrong={prm: 5000})
    publish(sandbox, "greenalp", "electricity", DAY0 + dt.timedelta(days=9), truncate=True)
    publish(sandbox, "greenalp", "electricity", DAY0 + dt.timedelta(days=10), encoding="latin-1")
    run_cycle(stack)  # or the poller's cycle took them first: the collection report says what it did
    report = admin_user(stack.url("gateway")).get("/admin/collections").json()["collections"]
    reasons = {q["name"]: q["reason"] for q in next(c for c in report if c["dso"] == "local")["quarantined"]}
    assert reasons == {"GA_ELEC_INDEX_20261010.csv": "truncated", "GA_ELEC_INDEX_20261011.csv": "wrong_encoding"}

    await eventually(lambda: consent_of(alice, meter["id"])["status"] == "active", timeout=30)
    refused = consent_of(mallory, wrong_holder["id"])
    assert refused["status"] == "invalid" and refused["reason"] == "holder_mismatch"

    # The late day, the corrected day (same name, right values) and the two bad files sent again.
    for i in (4, 6, 9, 10):
        publish(sandbox, "greenalp", "electricity", DAY0 + dt.timedelta(days=i))
    run_cycle(stack)
    first, last = DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=10)
    expected = truth(sandbox, "electricity", prm, first, last)

    def all_days():
        got = {d: p["wh"] for d, p in served(alice, meter["id"], first, last).items()}
        assert got == expected, {d: (got.get(d), v) for d, v in expected.items() if got.get(d) != v}
        return True
    await eventually(all_days, timeout=60, interval=1)
    collections = {c["dso"]: c for c in admin_user(stack.url("gateway")).get("/admin/collections").json()["collections"]}
    assert collections["local"]["files"]["quarantined"] >= 2
    # The meter's freshness comes from ingest-local like any collected meter's.
    assert {m["id"]: m for m in alice.get("/meters").json()}[meter["id"]]["last_collected_day"] == last.isoformat()

    # The same files again change nothing (idempotent re-import), nothing is left on the drop.
    assert run_cycle(stack)["files"] == {}


async def test_gas_heat_and_water_each_reach_the_resident_as_the_operator_measured(stack, sandbox):
    rng = random.Random()
    bob = ApiUser(stack.url("gateway")).signup()
    pce = f"GI{rng.randrange(10**5, 10**6):06d}"
    dwelling = f"SST{rng.randrange(1, 41):04d}-L00{rng.randrange(1, 6)}"
    water, monthly = f"EG{rng.randrange(10**7, 10**8)}", f"M{rng.randrange(10**7, 10**8)}"
    gas = declare(bob, sandbox, "gas", "greenalp", pce)
    heat = declare(bob, sandbox, "heat", "cciag", dwelling)
    daily = declare(bob, sandbox, "water", "eau_de_grenoble", water)
    month = declare(bob, sandbox, "water", "eau_de_grenoble", monthly)
    run_cycle(stack)
    assert listed(sandbox, "cciag")[dwelling]["STATUT"] == "CONSENTI"
    assert set(listed(sandbox, "eau_de_grenoble")) >= {water, monthly}

    start, end = DAY0, DAY0 + dt.timedelta(days=30)
    publish(sandbox, "greenalp", "gas", start, start + dt.timedelta(days=6))
    publish(sandbox, "cciag", "heat", start, start + dt.timedelta(days=6))
    publish(sandbox, "eau_de_grenoble", "water", start, end + dt.timedelta(days=1))
    run_cycle(stack)
    for m in (gas, heat, daily, month):
        await eventually(lambda m=m: consent_of(bob, m["id"])["status"] == "active", timeout=30)
    run_cycle(stack)  # the granted consents are projected; nothing more to take

    week = start + dt.timedelta(days=6)

    def gas_days():
        got = {d: p["wh"] for d, p in served(bob, gas["id"], start, week).items()}
        assert got == truth(sandbox, "gas", pce, start, week)
        return True
    await eventually(gas_days, timeout=60, interval=1)

    def heat_days():
        got = served(bob, heat["id"], start, week)
        assert {d: p["wh"] for d, p in got.items()} == truth(sandbox, "heat", dwelling, start, week)
        assert {p["quality"] for p in got.values()} == {"estimated"}, "a dwelling's share is an estimate"
        return True
    await eventually(heat_days, timeout=60, interval=1)

    def water_days():
        got = {d: p["wh"] for d, p in served(bob, daily["id"], start, end).items()}
        assert got == truth(sandbox, "water", water, start, end)
        return True
    await eventually(water_days, timeout=60, interval=1)

    # Euros and CO2e for heat and water: the example tariffs shipped, then one an administrator uploads.
    one = start.isoformat()
    heat_day = served(bob, heat["id"], start, start)[one]
    water_day = served(bob, daily["id"], start, start)[one]
    assert heat_day["eur"] is not None  # CCIAG's network: 0.091 kgCO2e/kWh, gCO2e per Wh
    assert heat_day["co2e_g"] == int((Decimal(heat_day["wh"]) * Decimal("0.091")).quantize(Decimal(1), ROUND_HALF_UP))
    assert water_day["eur"] is not None and water_day["co2e_g"] is not None
    assert "example" in bob.get(f"/meters/{heat['id']}/consumption", params={
        "from": one, "to": (start + dt.timedelta(days=1)).isoformat()}).json()["eur_method"]
    admin = admin_user(stack.url("gateway"))
    csv_type = {"content-type": "text/csv"}
    heat_csv = ("valid_from,valid_to,network,r1_eur_ttc_mwh,r2_basis,r2_eur_ttc_year,example,source\n"
                "2026-01-01,,CCIAG Grenoble (3802C),100.00,dwelling,365.00,no,CCIAG tariff 2026 (test)\n")
    water_csv = ("valid_from,valid_to,operator,price_eur_ttc_m3,subscription_eur_ttc_year,example,source\n"
                 "2026-01-01,,Eau de Grenoble,5.00,0,no,Régie tariff 2026 (test)\n")
    bad = admin.put("/admin/tariffs/heat", content=heat_csv.replace("dwelling", "flat"), headers=csv_type)
    assert bad.status_code == 422 and bad.json()["error"] == "tariff_csv_bad_basis"
    assert admin.put("/admin/tariffs/heat", content=heat_csv, headers=csv_type).status_code == 200
    assert admin.put("/admin/tariffs/water", content=water_csv, headers=csv_type).status_code == 200
    assert [v["energy"] for v in admin.get("/admin/tariffs/heat").json()][:1] == ["heat"]

    def repriced():
        h = served(bob, heat["id"], start, start)[one]
        w = served(bob, daily["id"], start, start)[one]
        # R1 100 €/MWh × kWh + R2 365 €/yr ÷ 365 days; water 5 €/m3 × litres ÷ 1000.
        assert h["eur"] == str((Decimal(h["wh"]) / 1000 * Decimal("0.1") + 1).quantize(Decimal("0.01"),
                                                                                       ROUND_HALF_UP))
        assert w["eur"] == str((Decimal(w["wh"]) * Decimal("0.005")).quantize(Decimal("0.01"), ROUND_HALF_UP))
        return True
    await eventually(repriced, timeout=30, interval=1)
    admin.close()

    def water_month():
        got = served(bob, month["id"], start, end)
        assert len(got) == 31 and {p["quality"] for p in got.values()} == {"estimated"}
        assert sum(p["wh"] for p in got.values()) == truth(sandbox, "water", monthly, start, end)["2026-10"]
        return True
    await eventually(water_month, timeout=60, interval=1)


async def test_revocation_and_erasure_take_the_meter_off_the_operators_next_list(stack, sandbox):
    rng = random.Random()
    carol, dave = ApiUser(stack.url("gateway")).signup(), ApiUser(stack.url("gateway")).signup()
    revoked_prm, erased_prm = accented_prm(sandbox, rng), accented_prm(sandbox, rng)
    kept = declare(carol, sandbox, "electricity", "greenalp", revoked_prm)
    gone = declare(dave, sandbox, "electricity", "greenalp", erased_prm)
    run_cycle(stack)
    day = DAY0 + dt.timedelta(days=40)
    publish(sandbox, "greenalp", "electricity", day, day + dt.timedelta(days=1))
    run_cycle(stack)
    await eventually(lambda: consent_of(carol, kept["id"])["status"] == "active", timeout=30)
    await eventually(lambda: consent_of(dave, gone["id"])["status"] == "active", timeout=30)
    # The file's day reaches the consumption service through the bus, after the consent's activation.
    collected = [(day + dt.timedelta(days=1)).isoformat()]
    await eventually(lambda: list(served(carol, kept["id"], day, day + dt.timedelta(days=3))) == collected,
                     timeout=30)

    assert carol.delete(f"/meters/{kept['id']}/consent").json()["status"] == "revoked"
    run_cycle(stack)
    assert listed(sandbox, "greenalp")[revoked_prm]["STATUT"] == "RETIRE"
    # The operator stops sending it; what was collected before stays the resident's.
    before = served(carol, kept["id"], day, day + dt.timedelta(days=3))
    assert list(before) == collected
    publish(sandbox, "greenalp", "electricity", day + dt.timedelta(days=2))
    run_cycle(stack)
    assert served(carol, kept["id"], day, day + dt.timedelta(days=3)) == before

    email = dave.email
    assert dave.delete("/me").status_code == 202
    admin = admin_user(stack.url("gateway"))
    [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
    assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200

    async def erased():
        return await fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests "
                                                  "where id = $1", uuid.UUID(pending["id"]))
    await eventually(erased, timeout=90, interval=1)
    run_cycle(stack)
    assert erased_prm not in listed(sandbox, "greenalp")
    assert not await fetch(stack.database_url, "select 1 from ingest_local.indexes where identifier = $1",
                           erased_prm)


async def test_an_operator_that_pushes_uploads_with_its_token_and_nothing_else_gets_in(stack, sandbox):
    tokens = stack.sandboxes["local"].info["upload_tokens"]
    url = stack.url("ingest_local") + "/upload/cciag/CCIAG_SST_20261201.csv"
    body = "SOUS_STATION;DATE;ENERGIE_KWH\r\nSST0001;01/12/2026;812,5\r\nFIN;1\r\n".encode("cp1252")
    assert httpx.put(url, content=body).status_code == 401
    assert httpx.put(url, content=body, headers={"authorization": f"Bearer {tokens['greenalp']}"}).status_code == 401
    ok = httpx.put(url, content=body, headers={"authorization": f"Bearer {tokens['cciag']}"})
    assert ok.status_code == 200 and ok.json()["status"] == "imported", ok.text
    again = httpx.put(url, content=body, headers={"authorization": f"Bearer {tokens['cciag']}"})
    assert again.json()["status"] == "already_done"
    cut = httpx.put(url.replace("1201", "1202"), content=body[:-8], headers={"authorization": f"Bearer {tokens['cciag']}"})
    assert cut.json()["status"] == "quarantined" and cut.json()["reason"] == "truncated"
    big = httpx.put(url.replace("1201", "1203"), content=b"x" * (64 * 1024 * 1024 + 1),
                    headers={"authorization": f"Bearer {tokens['cciag']}"}, timeout=60)
    assert big.status_code == 413 and big.json()["error"] == "file_too_large"
