"""Issue 6: kWh to euros, totals, comparison with similar homes and anomalies, through the real stack.

Every euro figure below is computed by hand from data/trve.csv (TTC, Tarif Bleu):
  BASE 6 kVA   2023-08-01..2024-01-31: 0.2276 €/kWh, 149.96 €/yr
               2024-02-01..2025-01-31: 0.2516 €/kWh, 151.86 €/yr
               2025-02-01..2025-07-31: 0.2016 €/kWh, 165.17 €/yr
               2026-08-01..          : 0.2001 €/kWh, 190.81 €/yr
  HPHC 6 kVA   2025-02-01..2025-07-31: HP 0.2146, HC 0.1696 €/kWh, 168.48 €/yr
The daily subscription is the yearly one ÷ 365, or ÷ 366 in 2024.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import statistics
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest

from devstack.client import admin_user, ApiUser
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from metro.events import EXCHANGE, AnomalyDetected, ContractChanged, Envelope
from metro.service_auth import Principal, ServiceTokens

ROOT = Path(__file__).resolve().parents[2]
TRVE = (ROOT / "services/consumption/consumption/data/trve.csv").read_text("utf-8")
DJU = (ROOT / "services/consumption/consumption/data/dju_grenoble.csv").read_text("utf-8")
PRM = lambda: "".join(random.choice("0123456789") for _ in range(14))  # noqa: E731


def raw_dsn(stack) -> str:
    return stack.database_url.replace("postgresql+asyncpg", "postgresql")


def declare(user: ApiUser) -> str:
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": PRM()})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def wait_known(stack, sql: str, *args) -> None:
    async def known():
        conn = await asyncpg.connect(raw_dsn(stack))
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()
    await eventually(known)


def days_from(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


async def new_meter(stack, user: ApiUser) -> str:
    meter_id = declare(user)
    await wait_known(stack, "select 1 from consumption.meters where meter_id=$1", uuid.UUID(meter_id))
    return meter_id


def platform_client(stack, principal: Principal | None = None, issuer: str = "notify") -> httpx.Client:
    """notify's view (or the gateway's, for a reader with roles): a service token for the consumption service."""
    token = ServiceTokens.local(issuer).issue("consumption", principal)
    return httpx.Client(base_url=stack.url("consumption"), headers={"authorization": f"Bearer {token}"},
                        timeout=30)


@pytest.fixture(scope="module")
def base_home(stack):
    """A resident on BASE 6 kVA with a year of readings across two tariff versions and 29 February 2024:
    10 kWh a day, 12 kWh on the leap day."""
    user = ApiUser(stack.url("gateway")).signup()
    meter_id = asyncio.run(new_meter(stack, user))
    r = user.put(f"/meters/{meter_id}/contract", json={"tariff_option": "BASE", "subscribed_kva": 6})
    assert r.status_code == 200, r.text
    assert r.json()["origin"] == "resident"
    days = days_from(dt.date(2023, 8, 1), 366)
    values = [12_000 if d == dt.date(2024, 2, 29) else 10_000 for d in days]
    asyncio.run(publish(stack.amqp_url, readings_event(meter_id, days[0], values)))

    def stored():
        r = user.get(f"/meters/{meter_id}/consumption", params={"from": "2023-08-01", "to": "2024-08-01"})
        assert r.status_code == 200 and all(p["wh"] is not None for p in r.json()["points"]), r.text
        return True
    asyncio.run(eventually(stored))
    yield user, meter_id
    user.close()


def test_a_year_across_two_tariff_versions_and_a_leap_day_is_priced_day_by_day(base_home):
    user, meter_id = base_home
    series = user.get(f"/meters/{meter_id}/consumption", params={"from": "2023-08-01", "to": "2024-08-01"}).json()
    eur = {p["period"]: p["eur"] for p in series["points"]}
    assert eur["2023-12-31"] == "2.69"   # 10 × 0.2276 + 149.96/365 = 2.276 + 0.410849
    assert eur["2024-01-31"] == "2.69"   # 10 × 0.2276 + 149.96/366 = 2.276 + 0.409727
    assert eur["2024-02-01"] == "2.93"   # 10 × 0.2516 + 151.86/366 = 2.516 + 0.414918
    assert eur["2024-02-29"] == "3.43"   # 12 × 0.2516 + 151.86/366 = 3.0192 + 0.414918
    assert not series["eur_estimated"] and "declared by the resident" in series["eur_method"]
    # CO2e: 10 kWh × 0.0461 kg/kWh (Base Empreinte, electricity mix) = 461 g
    assert series["points"][0]["co2e_g"] == 461

    yearly = user.get(f"/meters/{meter_id}/consumption",
                      params={"from": "2023-08-01", "to": "2024-08-01", "step": "year"}).json()["points"]
    # 2023: 153 days × (2.276 + 0.410849) = 411.087897
    assert (yearly[0]["wh"], yearly[0]["eur"], yearly[0]["days"]) == (1_530_000, "411.09", 153)
    # 2024 to 31 July: 31 × (2.276 + 0.409727) + 181 × 2.516 + 3.0192 + 182 × 0.414918 = 617.187813
    assert (yearly[1]["wh"], yearly[1]["eur"], yearly[1]["days"]) == (2_132_000, "617.19", 213)
    assert yearly[1]["quality"] == "measured"

    totals = user.get(f"/meters/{meter_id}/totals", params={"as_of": "2024-07-31"}).json()
    assert (totals["year_wh"], totals["year_eur"], totals["year_partial"]) == (2_132_000, "617.19", False)
    # July: 31 × 2.930918 = 90.858458; the month is complete so the forecast is the month itself.
    assert (totals["month_wh"], totals["month_eur"], totals["month_partial"]) == (310_000, "90.86", False)
    assert (totals["forecast_wh"], totals["forecast_eur"]) == (310_000, "90.86")


async def test_a_missing_day_makes_the_month_partial_and_the_forecast_uses_the_days_present(stack, resident):
    meter_id = await new_meter(stack, resident)
    values = [None if d == dt.date(2025, 3, 10) else 8_000 for d in days_from(dt.date(2025, 3, 1), 20)]
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2025, 3, 1), values))

    def totals():
        r = resident.get(f"/meters/{meter_id}/totals")
        assert r.status_code == 200 and r.json()["as_of"] == "2025-03-20", r.text
        return r.json()
    t = await eventually(totals)
    # No contract known: Tarif Bleu BASE 6 kVA assumed, so the euros say they are estimated.
    # A day: 8 × 0.2016 + 165.17/365 = 1.6128 + 0.452521 = 2.065321; 19 days = 39.241099; × 31 = 64.024951
    assert (t["month_wh"], t["month_eur"], t["month_days_missing"], t["month_partial"]) == \
        (152_000, "39.24", 1, True)
    assert (t["forecast_wh"], t["forecast_eur"]) == (248_000, "64.02")
    assert t["eur_estimated"] and "no contract known" in t["eur_method"]

    month = resident.get(f"/meters/{meter_id}/consumption",
                         params={"from": "2025-03-01", "to": "2025-03-21", "step": "month"}).json()
    assert month["points"][0]["quality"] == "partial" and month["points"][0]["days_missing"] == 1
    daily = resident.get(f"/meters/{meter_id}/consumption", params={"from": "2025-03-09", "to": "2025-03-12"}).json()
    assert [(p["wh"], p["eur"], p["quality"]) for p in daily["points"]] == [
        (8_000, "2.07", "measured"), (None, None, "missing"), (8_000, "2.07", "measured")]


async def test_an_offpeak_contract_with_daily_totals_only_is_estimated_until_the_dso_contract_says_base(
        stack, resident):
    meter_id = await new_meter(stack, resident)
    r = resident.put(f"/meters/{meter_id}/contract",
                     json={"tariff_option": "HPHC", "subscribed_kva": 6, "offpeak_hours": "22:00-06:00"})
    assert r.status_code == 200 and r.json()["offpeak_hours_per_day"] == 8.0, r.text
    bad = resident.put(f"/meters/{meter_id}/contract", json={"tariff_option": "HPHC", "subscribed_kva": 6})
    assert bad.status_code == 422 and bad.json()["error"] == "offpeak_hours_required"
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2025, 3, 1), [9_000] * 3))

    def series():
        r = resident.get(f"/meters/{meter_id}/consumption", params={"from": "2025-03-01", "to": "2025-03-04"})
        assert r.json()["points"][-1]["wh"] == 9_000, r.text
        return r.json()
    s = await eventually(series)
    # HC share 8 h / 24 h = 1/3: 9 × (0.1696/3 + 2 × 0.2146/3) = 9 × 0.1996 = 1.7964; + 168.48/365 = 0.461589
    assert [p["eur"] for p in s["points"]] == ["2.26", "2.26", "2.26"]
    assert s["eur_estimated"] and "8 off-peak hours / 24 h" in s["eur_method"]

    await publish(stack.amqp_url, Envelope(name=ContractChanged.name, producer="ingest_enedis", payload={
        "meter_id": meter_id, "dso": "enedis", "tariff_option": "BASE", "subscribed_kva": 6,
        "offpeak_hours": None, "start": "2020-01-01", "end": None, "status": "active"}))

    def dso_contract():
        r = resident.get(f"/meters/{meter_id}/contract").json()
        assert r["origin"] == "dso", r
        return True
    await eventually(dso_contract)
    s = resident.get(f"/meters/{meter_id}/consumption", params={"from": "2025-03-01", "to": "2025-03-04"}).json()
    # 9 × 0.2016 + 165.17/365 = 1.8144 + 0.452521 = 2.266921
    assert [p["eur"] for p in s["points"]] == ["2.27"] * 3 and not s["eur_estimated"]


async def test_an_administrator_replaces_the_electricity_catalogue_and_prices_follow(stack, resident):
    meter_id = await new_meter(stack, resident)
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2026, 9, 1), [8_000]))

    def eur():
        r = resident.get(f"/meters/{meter_id}/consumption", params={"from": "2026-09-01", "to": "2026-09-02"})
        assert r.json()["points"][0]["wh"] == 8_000, r.text
        return r.json()["points"][0]["eur"]
    assert await eventually(eur) == "2.12"   # 8 × 0.2001 + 190.81/365 = 1.6008 + 0.522767

    admin = admin_user(stack.url("gateway"))
    csv = {"content-type": "text/csv"}
    assert resident.put("/admin/tariffs/electricity", content=TRVE, headers=csv).status_code == 403
    bad = admin.put("/admin/tariffs/electricity", content="valid_from,valid_to\n2026-01-01,\n", headers=csv)
    assert bad.status_code == 422 and bad.json()["error"] == "tariff_csv_missing_column"
    before = admin.get("/admin/tariffs/electricity").json()[0]["version"]
    changed = TRVE.replace("2026-08-01,,BASE,6,BASE,190.81,0.2001,", "2026-08-01,,BASE,6,BASE,190.81,0.3001,")
    try:
        r = admin.put("/admin/tariffs/electricity", params={"source": "CRE deliberation test"}, content=changed,
                      headers=csv)
        assert r.status_code == 200, r.text
        assert r.json()["version"] > before and r.json()["source"].startswith("CRE deliberation test")
        assert eur() == "2.92"   # 8 × 0.3001 + 0.522767 = 2.923567
    finally:
        assert admin.put("/admin/tariffs/electricity", content=TRVE, headers=csv).status_code == 200
        admin.close()
    assert eur() == "2.12"


# --- comparison on a synthetic population ------------------------------------------------------------------

MUNICIPALITIES = ("38185", "38421", "38151", "38169", "38229")
LONELY_MUNICIPALITY = "38057"
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 2, 1))


def synthetic_profile(rng: random.Random, insee: str | None = None) -> dict:
    return {"insee_code": insee or rng.choice(MUNICIPALITIES), "surface_m2": rng.choice((55.0, 85.0)),
            "occupants": rng.choice((2, 3)), "dwelling_type": rng.choice(("apartment", "house")),
            "heating_energy": rng.choice(("electricity", "gas")), "heating_mode": "individual",
            "hot_water_energy": "electricity", "construction_year": 1975}


def dwelling_body(profile: dict) -> dict:
    return {"street": "1 rue de la Paix", "postal_code": "38000", "municipality": "Grenoble", **profile}


def quantile(values: list[float], p: float) -> float:
    values = sorted(values)
    pos = (len(values) - 1) * p
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


@pytest.fixture(scope="module")
def population(stack):
    """5 000 homes: 3 residents through the API (dwelling, meter), the rest written straight into the DB."""
    rng = random.Random(6)
    residents = []
    for insee in ("38185", "38421", LONELY_MUNICIPALITY):
        user = ApiUser(stack.url("gateway")).signup()
        profile = synthetic_profile(rng, insee)
        assert user.put("/me/dwelling", json=dwelling_body(profile)).status_code == 200
        meter_id = asyncio.run(new_meter(stack, user))
        residents.append((user, uuid.UUID(meter_id), uuid.UUID(user.account["id"]), profile))
    homes = [(m, a, p) for _, m, a, p in residents]
    homes += [(uuid.uuid4(), uuid.uuid4(), synthetic_profile(rng)) for _ in range(5_000 - len(residents))]
    daily = {m: rng.randint(3_000, 30_000) for m, _, _ in homes}

    async def load():
        for _, _, account_id, _ in residents:
            await wait_known(stack, "select 1 from consumption.profiles where account_id=$1", account_id)
        conn = await asyncpg.connect(raw_dsn(stack))
        try:
            own = {m for _, m, _, _ in residents}
            await conn.copy_records_to_table("meters", schema_name="consumption",
                                             columns=["meter_id", "account_id", "energy", "dso"],
                                             records=[(m, a, "electricity", "enedis") for m, a, _ in homes
                                                      if m not in own])
            await conn.executemany("insert into consumption.profiles (account_id, profile) values ($1, $2)",
                                   [(a, json.dumps(p)) for m, a, p in homes if m not in own])
            days = days_from(PERIOD[0], (PERIOD[1] - PERIOD[0]).days)
            await conn.copy_records_to_table("readings", schema_name="consumption",
                                             columns=["meter_id", "day", "wh", "quality", "source"],
                                             records=[(m, d, daily[m], "measured", "synthetic")
                                                      for m, _, _ in homes for d in days])
            # As readings.collected would: the pricing worker prices them and rolls their month up.
            await conn.execute("insert into consumption.price_queue (meter_id) select unnest($1::uuid[]) "
                               "on conflict do nothing", [m for m, _, _ in homes])
        finally:
            await conn.close()
        async def rolled_up():
            conn = await asyncpg.connect(raw_dsn(stack))
            try:
                return await conn.fetchval("select count(*) = $1 from consumption.monthly_rollups "
                                           "where meter_id = any($2)", len(homes), [m for m, _, _ in homes])
            finally:
                await conn.close()
        await eventually(rolled_up, timeout=180, interval=2)
    asyncio.run(load())
    yield residents, homes, daily
    for user, *_ in residents:
        user.close()


def peers_of(homes, daily, profile: dict, level: int) -> list[tuple[float, dict]]:
    def band(p):
        return (p["heating_energy"], p["heating_mode"], p["hot_water_energy"], p["dwelling_type"],
                p["surface_m2"], p["occupants"])
    key = band(profile) + ((profile["insee_code"],) if level == 0 else ())
    return [(daily[m] * 31 / 1000, p) for m, _, p in homes
            if band(p) + ((p["insee_code"],) if level == 0 else ()) == key]


def test_comparison_matches_a_direct_computation_and_widens_for_a_lonely_home(stack, population):
    residents, homes, daily = population
    params = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}
    for user, meter_id, _, profile in residents:
        r = user.get(f"/meters/{meter_id}/comparison", params=params)
        assert r.status_code == 200, r.text
        c = r.json()
        lonely = profile["insee_code"] == LONELY_MUNICIPALITY
        assert c["available"] and c["level"] == (1 if lonely else 0)
        peers = peers_of(homes, daily, profile, c["level"])
        values = [v for v, _ in peers]
        mine = daily[meter_id] * 31 / 1000
        assert c["group_size"] == len(peers) >= 10 and c["wh"] == daily[meter_id] * 31
        assert c["kwh"]["median"] == pytest.approx(statistics.median(values), abs=1e-3)
        assert c["kwh"]["efficient"] == pytest.approx(quantile(values, 0.2), abs=1e-3)
        assert c["kwh"]["rank"] == 1 + sum(v < mine for v in values)
        assert c["kwh"]["percentile"] == pytest.approx(100 * sum(v < mine for v in values) / (len(values) - 1),
                                                       abs=0.05)
        per_m2 = [v / p["surface_m2"] for v, p in peers]
        assert c["kwh_per_m2"]["median"] == pytest.approx(statistics.median(per_m2), abs=1e-3)
        per_occupant = [v / p["occupants"] for v, p in peers]
        assert c["kwh_per_occupant"]["efficient"] == pytest.approx(quantile(per_occupant, 0.2), abs=1e-3)
        assert c["last_year_wh"] is None


def test_no_peer_group_in_the_population_is_under_ten_homes(stack, population):
    _, homes, daily = population
    sample = random.Random(7).sample(homes, 40)
    with platform_client(stack, Principal(None, ("reader:all",)), "gateway") as client:
        for meter_id, _, profile in sample:
            r = client.get(f"/internal/meters/{meter_id}/comparison",
                           params={"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()})
            assert r.status_code == 200, r.text
            c = r.json()
            assert c["available"] and c["group_size"] >= 10
            assert c["group_size"] == len(peers_of(homes, daily, profile, c["level"]))


def test_degree_days_uploaded_by_an_administrator_weather_normalise_the_heating_energy(stack, population):
    residents, homes, daily = population
    admin = admin_user(stack.url("gateway"))
    csv = {"content-type": "text/csv"}
    # January 2025 was 25 % colder than its normal at Le Versoud (the figures are the test's, not Météo-France's).
    cold = DJU.replace("38538002,GRENOBLE - LVD (Le Versoud),actual,2025-01,18,,",
                       "38538002,GRENOBLE - LVD (Le Versoud),actual,2025-01,18,500,")
    cold = cold.replace("38538002,GRENOBLE - LVD (Le Versoud),normal_1991_2020,01,18,,",
                        "38538002,GRENOBLE - LVD (Le Versoud),normal_1991_2020,01,18,400,")
    assert cold.count(",500,") == 1 and cold.count(",400,") == 1
    assert residents[0][0].put("/admin/degree-days", content=cold, headers=csv).status_code == 403
    bad = admin.put("/admin/degree-days", content=cold.replace("actual,2025-01", "actual,2025-1"), headers=csv)
    assert bad.status_code == 422 and bad.json()["error"] == "degree_days_csv_invalid_period"
    params = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat()}
    electric = next(h for h in homes if h[2]["heating_energy"] == "electricity")  # heated by the metered energy
    gas = next(h for h in homes if h[2]["heating_energy"] == "gas")

    def compared(client, home) -> dict:
        r = client.get(f"/internal/meters/{home[0]}/comparison", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    try:
        r = admin.put("/admin/degree-days", params={"source": "Météo-France DJU (test)"}, content=cold, headers=csv)
        assert r.status_code == 200, r.text
        assert admin.get("/admin/degree-days").json()[0]["version"] == r.json()["version"]
        with platform_client(stack, Principal(None, ("reader:all",)), "gateway") as client:
            c = compared(client, electric)
            # The heating share (70 % by default) is scaled by normal ÷ observed: 0.3 + 0.7 × 400/500 = 0.86.
            mine = daily[electric[0]] * 31 / 1000
            assert c["weather_normalised"] and c["kwh"]["value"] == pytest.approx(mine * 0.86, abs=1e-3)
            peers = [v for v, _ in peers_of(homes, daily, electric[2], c["level"])]
            assert c["kwh"]["median"] == pytest.approx(statistics.median(peers) * 0.86, abs=1e-3)
            g = compared(client, gas)  # electricity is not what heats this home: left as measured
            assert not g["weather_normalised"] and g["kwh"]["value"] == pytest.approx(daily[gas[0]] * 31 / 1000,
                                                                                       abs=1e-3)
    finally:
        assert admin.put("/admin/degree-days", content=DJU, headers=csv).status_code == 200
        admin.close()
    with platform_client(stack, Principal(None, ("reader:all",)), "gateway") as client:
        assert not compared(client, electric)["weather_normalised"], "the bundled file has gaps only"


# --- anomalies, summary, reports for notify ----------------------------------------------------------------

async def test_a_spike_is_announced_once_even_when_readings_are_replayed(stack, resident):
    meter_id = await new_meter(stack, resident)
    connection = await aio_pika.connect(stack.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(f"test.anomalies.{uuid.uuid4().hex[:8]}", exclusive=True)
    await queue.bind(exchange, routing_key=AnomalyDetected.name)
    got: list[dict] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        body = json.loads(message.body)
        if body["payload"]["meter_id"] == meter_id:
            got.append(body["payload"])
        await message.ack()
    await queue.consume(on_message)
    try:
        start = dt.date(2025, 9, 1)
        values = [10_000] * 56 + [40_000]
        first = readings_event(meter_id, start, values)
        await publish(stack.amqp_url, first)
        await eventually(lambda: len(got) >= 1, timeout=30)
        await publish(stack.amqp_url, first, readings_event(meter_id, start, values), readings_event(meter_id, start, values))
        await asyncio.sleep(6)
        assert len(got) == 1
        spike = got[0]
        assert spike["episode_key"] == "day:2025-10-27" and spike["kind"] == "day"
        assert (spike["expected_wh"], spike["observed_wh"], spike["excess_wh"]) == (10_000, 40_000, 30_000)
        assert spike["account_id"] == resident.account["id"]
    finally:
        await connection.close()

    summary = resident.get("/me/summary").json()
    [meter] = [m for m in summary["meters"] if m["meter_id"] == meter_id]
    assert [p["wh"] for p in meter["last_7_days"]["points"]] == [10_000] * 6 + [40_000]
    # October to the 27th: 26 × 10 kWh + 40 kWh
    assert meter["totals"]["as_of"] == "2025-10-27" and meter["totals"]["month_wh"] == 300_000
    assert [a["episode_key"] for a in summary["alerts"]] == ["day:2025-10-27"]
    assert meter["comparison"]["reason"] == "dwelling_not_described"


def test_notify_reads_reports_and_month_to_date_without_an_account_principal(stack, base_home):
    user, meter_id = base_home
    account_id = user.account["id"]
    with platform_client(stack) as client:
        assert account_id in client.get("/internal/accounts", params={"with_meters": "true"}).json()["accounts"]
        r = client.get(f"/internal/accounts/{account_id}/report", params={"from": "2024-02-01", "to": "2024-03-01"})
        assert r.status_code == 200, r.text
        [m] = r.json()["meters"]
        # 28 × 2.930918 + 3.434118 (leap day, 12 kWh) = 85.499822
        assert (m["meter_id"], m["wh"], m["eur"], m["days"], m["days_missing"]) == \
            (meter_id, 292_000, "85.50", 29, 0)
        assert len(m["daily"]) == 29 and m["daily"][28] == {"day": "2024-02-29", "wh": 12_000, "eur": "3.43"}
        assert m["last_year_wh"] is None and m["rank"] is None
        month = client.get(f"/internal/accounts/{account_id}/month", params={"month": "2024-02"}).json()
        assert (month["meters"][0]["wh"], month["meters"][0]["forecast_wh"]) == (292_000, 292_000)
    with platform_client(stack, Principal(uuid.uuid4())) as stranger:
        r = stranger.get(f"/internal/accounts/{account_id}/report", params={"from": "2024-02-01", "to": "2024-03-01"})
        assert r.status_code == 403
