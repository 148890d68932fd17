"""The Métropole's population for bench/metro_scale.py: its fleet, dwellings and contracts, and the load of a year
(or three) of days for every meter into the bench database, with the rollups built in one pass."""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import time
import uuid
from types import SimpleNamespace

import asyncpg

DATABASE = os.environ.get("METRO_SCALE_DATABASE", "metroenergies_scale")
DSN = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
LAST_DAY = dt.date(2026, 11, 30)
METROPOLE = 370_000
# Per 370 000: (energy, dso, meters).
FLEET = (("electricity", "enedis", 154_000), ("electricity", "greenalp", 115_000), ("gas", "grdf", 55_000),
         ("gas", "greenalp", 45_000), ("heat", "cciag", 1_000))
# The 49 municipalities' INSEE codes; Grenoble (38185) holds about a third of the dwellings.
MUNICIPALITIES = ("38185",) * 24 + (
    "38421", "38151", "38169", "38229", "38485", "38563", "38057", "38111", "38126", "38150", "38158", "38170",
    "38179", "38187", "38188", "38200", "38235", "38252", "38258", "38271", "38277", "38279", "38281", "38309",
    "38317", "38325", "38328", "38364", "38382", "38388", "38423", "38436", "38445", "38471", "38472", "38474",
    "38478", "38516", "38524", "38528", "38529", "38533", "38540", "38545", "38562", "38001", "38021", "38045")
CONTRACTS = ((("BASE", 6), 35), (("BASE", 9), 25), (("HPHC", 9), 20), (("HPHC", 12), 15), (("TEMPO", 9), 5))


def first_day(years: int) -> dt.date:
    return LAST_DAY.replace(year=LAST_DAY.year - years) + dt.timedelta(days=1)


def dwelling(rng: random.Random, gas: bool) -> dict:
    kind = rng.choices(("apartment", "house"), weights=(7, 3))[0]
    surface = rng.choice((28.0, 45.0, 62.0, 78.0, 95.0)) if kind == "apartment" else rng.choice((90.0, 120.0, 160.0))
    return {"insee_code": rng.choice(MUNICIPALITIES), "surface_m2": surface,
            "occupants": rng.choices((1, 2, 3, 4, 5), weights=(35, 33, 14, 12, 6))[0], "dwelling_type": kind,
            "heating_energy": "gas" if gas and rng.random() < 0.85 else rng.choice(("electricity", "heat_network",
                                                                                    "wood")),
            "heating_mode": rng.choices(("individual", "collective"), weights=(3, 1))[0],
            "hot_water_energy": "gas" if gas and rng.random() < 0.6 else "electricity",
            "construction_year": rng.choice((1930, 1955, 1968, 1975, 1985, 1995, 2005, 2015, 2021))}


async def loaded(conn: asyncpg.Connection, meters: int, years: int) -> bool:
    n = await conn.fetchval("select count(*) from consumption.meters")
    span = await conn.fetchrow("select min(day) as lo, max(day) as hi from consumption.readings")
    # Each run adds a day (the catch-up): the data stay valid.
    return n == meters and span["lo"] == first_day(years) and span["hi"] is not None and span["hi"] >= LAST_DAY


async def load(conn: asyncpg.Connection, meters: int, years: int, priced_meters: int) -> None:
    from consumption import catalogues, euros
    from consumption.contracts import resolve_pricing
    from consumption.repository.readings import RECORD_SOURCE_DAYS
    from metro.db import Database

    rng = random.Random(370)
    start = first_day(years)
    days = [start + dt.timedelta(days=i) for i in range((LAST_DAY - start).days + 1)]
    season = [1.75 + 0.75 * math.cos(2 * math.pi * (d.timetuple().tm_yday - 15) / 365.25) for d in days]
    await conn.execute("truncate consumption.readings, consumption.priced_days, consumption.monthly_rollups, "
                       "consumption.meters, consumption.profiles, consumption.contracts, consumption.price_queue")
    fleet = [(energy, dso, max(1, round(n * meters / METROPOLE))) for energy, dso, n in FLEET]
    electricity = [(uuid.uuid4(), uuid.uuid4()) for _ in range(sum(n for e, _, n in fleet if e == "electricity"))]
    gas_count = sum(n for e, _, n in fleet if e == "gas")
    rows, profiles, contracts = [], {}, []
    for energy, dso, n in fleet:
        for i in range(n):
            if energy == "electricity":
                meter_id, account_id = electricity.pop()
                contracts.append((meter_id, "dso", *rng.choices([c for c, _ in CONTRACTS],
                                                                  weights=[w for _, w in CONTRACTS])[0]))
            else:
                meter_id, account_id = uuid.uuid4(), uuid.uuid4()
            rows.append((meter_id, account_id, energy, dso))
    # About one dwelling in three also has the gas meter: it takes that dwelling's account.
    elec_accounts = [a for _, a, e, _ in rows if e == "electricity"]
    rng.shuffle(elec_accounts)
    gas_i = 0
    for k, (meter_id, account_id, energy, dso) in enumerate(rows):
        if energy == "gas" and gas_i < len(elec_accounts):
            rows[k] = (meter_id, elec_accounts[gas_i], energy, dso)
            gas_i += 1
    gas_accounts = {a for _, a, e, _ in rows if e == "gas"}
    for _, account_id, energy, _ in rows:
        if energy == "electricity":
            profiles[account_id] = dwelling(rng, account_id in gas_accounts)
        elif energy == "gas" and account_id not in profiles:
            profiles[account_id] = dwelling(rng, True)
    print(f"  {len(rows)} meters ({gas_count} gas), {len(profiles)} dwellings, {len(days)} days each")
    await conn.copy_records_to_table("meters", schema_name="consumption",
                                     columns=["meter_id", "account_id", "energy", "dso"], records=rows)
    await conn.copy_records_to_table("profiles", schema_name="consumption", columns=["account_id", "profile"],
                                     records=[(a, json.dumps(p)) for a, p in profiles.items()])
    await conn.copy_records_to_table("contracts", schema_name="consumption",
                                     columns=["meter_id", "origin", "tariff_option", "subscribed_kva"],
                                     records=contracts)
    by_meter = {c[0]: {"dso": SimpleNamespace(origin="dso", tariff_option=c[2], subscribed_kva=c[3],
                                              offpeak_hours=None, offpeak_hours_per_day=None, start=None, end=None,
                                              status=None)} for c in contracts}

    db = Database(DSN.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    started = time.perf_counter()
    copied = priced = 0.0
    # Pricing a year in Python costs more than its COPY: beyond `priced_meters`, one meter in `step` is priced.
    step = max(1, math.ceil(len(rows) / priced_meters))
    async with db.session() as session:
        catalogue = await catalogues.TARIFFS.get(session)

        async def pricing_of(meter_id, account_id, energy):
            meter = SimpleNamespace(meter_id=meter_id, account_id=account_id, energy=energy, priced_key=None)
            return meter, await resolve_pricing(session, meter, by_meter.get(meter_id, {}),
                                                profiles.get(account_id, {}))

        async def keyed(meter_id, account_id, energy):
            return euros.pricing_key(*await pricing_of(meter_id, account_id, energy))
        chunk = 500
        levels = []  # (meter_id, level) of the meters outside the priced sample: their days are made by PostgreSQL
        for i in range(0, len(rows), chunk):
            readings, prices, keys = [], [], []
            for k, (meter_id, account_id, energy, _) in enumerate(rows[i:i + chunk], start=i):
                level = rng.uniform(3_000, 18_000) if energy != "heat" else rng.uniform(400_000, 2_000_000)
                t0 = time.perf_counter()
                if k % step:  # not in the priced sample: marked priced, its days priced on the fly when read
                    levels.append((meter_id, level))
                    keys.append((meter_id, await keyed(meter_id, account_id, energy)))
                    priced += time.perf_counter() - t0
                    continue
                mine = [(d, int(level * s * rng.uniform(0.8, 1.2)), "estimated" if rng.random() < 0.005
                         else "measured") for d, s in zip(days, season)]
                readings.extend((meter_id, d, wh, q, "bench") for d, wh, q in mine)
                meter, pricing = await pricing_of(meter_id, account_id, energy)
                day_eur = euros.day_prices([SimpleNamespace(day=d, wh=wh, extra=None) for d, wh, _ in mine],
                                           pricing, catalogue)
                prices.extend((meter_id, d, wh, *day_eur.get(d, (None, 0))) for d, wh, _ in mine)
                keys.append((meter_id, euros.pricing_key(meter, pricing)))
                priced += time.perf_counter() - t0
            t0 = time.perf_counter()
            await conn.copy_records_to_table("readings", schema_name="consumption",
                                             columns=["meter_id", "day", "wh", "quality", "source"],
                                             records=readings)
            await conn.copy_records_to_table("priced_days", schema_name="consumption",
                                             columns=["meter_id", "day", "wh", "eur", "flags"], records=prices)
            await conn.executemany("update consumption.meters set priced_key = $2 where meter_id = $1", keys)
            copied += time.perf_counter() - t0
            done = min(i + chunk, len(rows))
            print(f"\r  loaded {done:>7} meters ({time.perf_counter() - started:.0f} s: COPY {copied:.0f} s, "
                  f"pricing {priced:.0f} s)", end="", flush=True)
    print()
    await generate_days(conn, levels, list(zip(days, season)))
    # Written around the consumer: the newest day per source kept as an ingestion keeps it (the metrics probe's).
    await conn.execute(RECORD_SOURCE_DAYS, ["bench"], [LAST_DAY])
    await db.dispose()
    await build_rollups(conn)


async def build_rollups(conn: asyncpg.Connection) -> None:
    """The rollups rebuilt in one pass (repository.rebuild_rollups: the worker's figures, by a scan; a probe per
    (meter, month) costs 2–7 ms a meter here, 15–45 min at 370 000), then the statistics."""
    from consumption import repository
    from metro.db import Database

    await conn.execute("vacuum analyze consumption.readings, consumption.priced_days, consumption.meters")
    db = Database(DSN.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    t0 = time.perf_counter()
    async with db.session() as session, session.begin():
        await repository.rebuild_rollups(session)
    print(f"  rollups built in {time.perf_counter() - t0:.0f} s")
    await db.dispose()
    await conn.execute("vacuum analyze consumption.readings, consumption.priced_days, consumption.monthly_rollups, "
                       "consumption.meters, consumption.profiles, consumption.contracts")


async def generate_days(conn: asyncpg.Connection, levels: list[tuple[uuid.UUID, float]],
                        season: list[tuple[dt.date, float]], chunk: int = 10_000) -> None:
    """The days of the meters outside the priced sample, made by PostgreSQL from each meter's level and the season
    (the same law as the priced sample's: level × season × U(0.8, 1.2), one day in 200 estimated): building 135 M
    rows in Python and streaming them through COPY took an hour at 370 000 meters; INSERT … SELECT takes minutes."""
    await conn.execute("create temporary table bench_levels (n int primary key, meter_id uuid, level float8)")
    await conn.execute("create temporary table bench_days (day date primary key, season float8)")
    await conn.copy_records_to_table("bench_levels", records=[(n, m, lv) for n, (m, lv) in enumerate(levels)])
    await conn.copy_records_to_table("bench_days", records=season)
    await conn.execute("select setseed(0.37)")
    started = time.perf_counter()
    for lo in range(0, len(levels), chunk):
        await conn.execute(
            "insert into consumption.readings (meter_id, day, wh, quality, source) "
            "select l.meter_id, d.day, (l.level * d.season * (0.8 + 0.4 * random()))::int, "
            "case when random() < 0.005 then 'estimated' else 'measured' end, 'bench' "
            "from bench_levels l cross join bench_days d where l.n >= $1 and l.n < $2",
            lo, lo + chunk)
        done = min(lo + chunk, len(levels))
        print(f"\r  days of {done:>7} more meters made by PostgreSQL ({time.perf_counter() - started:.0f} s)",
              end="", flush=True)
    print()
    await conn.execute("drop table bench_levels, bench_days")
