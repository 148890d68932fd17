"""The Métropole's scale (issue 24): 370 000 meters with a year of days (three with --years 3), generated in minutes,
then measured, each figure beside its baseline in the same run (docs/scale.md gives the figures).

Population (ARCHITECTURE.md): 154 000 Enedis and 115 000 GreenAlp electricity meters, 55 000 GRDF and 45 000 GreenAlp
gas meters, 1 000 CCIAG substations, scaled together by --meters. Each electricity meter is a dwelling's (an account
with a profile: municipality, surface, occupants, type, heating, construction year); one dwelling in three also has
gas. Contracts BASE 6/9 kVA, HPHC 9/12 kVA, a few Tempo. Days follow the season (up to 2.5× in January) with a home's
own level and noise; one day in 200 is estimated.

Loading (once, reused by later runs; --reload rebuilds): the priced sample's readings and priced days by COPY
(--priced-meters, 40 000: priced by the worker's own euros.day_prices), the other meters' days made by PostgreSQL
(INSERT … SELECT from each meter's level and the season), then every rollup in one pass (repository.rebuild_rollups,
the worker's figures). The meters are marked priced under their key, so the catch-up prices the new day only.

Measured: one-year series, summary (stored summaries computed first, as the worker keeps them) and comparison at
100 req/s (open loop) beside a trivial endpoint; a municipality's year from the rollups beside the daily table;
sizes per table and index; the catch-up after a day for every meter (COPY, queued as readings.collected queues
them, priced and rolled up by the consumption process) beside a bare COPY of the same rows.

Run: uv run python -m bench.metro_scale [--meters 370000] [--years 1|3] [--reload] [--priced-meters 40000]
[--seconds 10] [--residents 200] [--rounds 1] [--rates 100] [--parts api,aggregates,sizes,catch-up].
370 000 meters × 1 year: 21.4 GB, 17–31 min to load here; three years need about 110 GB. The database is
metroenergies_scale (METRO_SCALE_DATABASE names another).
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Self

import aiohttp
import asyncpg
import httpx
from devstack.client import ApiUser
from devstack.stack import Stack, reset_vhost

from bench.api_latency import fetch, open_loop, psql, restart, slow_spans
from bench.procs import HostTime, cpu_by_part, host_speed, peak_memory, spent
from bench.scale_data import DATABASE, DSN, LAST_DAY, METROPOLE, build_rollups, load, loaded

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
BASE_PORT = 29000 + 100 * SLOT
SERVICES = ("consumption", "gateway")


async def give_homes_to(conn: asyncpg.Connection, residents: list[str]) -> list[str]:
    """Electricity meters of described dwellings become the residents' (meter ids returned in the same order)."""
    rows = await conn.fetch("select m.meter_id, m.account_id from consumption.meters m join consumption.profiles p "
                            "using (account_id) where m.energy = 'electricity' and exists (select 1 from "
                            "consumption.priced_days d where d.meter_id = m.meter_id and d.day = $2) "
                            "order by m.meter_id limit $1", len(residents), LAST_DAY)
    for (meter_id, old), account in zip(rows, residents):
        await conn.execute("update consumption.profiles set account_id = $1 where account_id = $2",
                           uuid.UUID(account), old)
        await conn.execute("update consumption.meters set account_id = $1 where account_id = $2",
                           uuid.UUID(account), old)
    return [str(r["meter_id"]) for r in rows]


async def measure_api(stack: Stack, sessions: list[str], meters: list[str], seconds: float,
                      rate: float = 100) -> None:
    gateway = stack.url("gateway")
    years = [{"from": (LAST_DAY - dt.timedelta(days=364 + k)).isoformat(),
              "to": (LAST_DAY + dt.timedelta(days=1 - k)).isoformat()} for k in range(60)]
    months = [{"from": s.isoformat(), "to": e.isoformat()} for s, e in MONTHS]
    cookies = [{"cookie": f"metro_session={s}"} for s in sessions]
    endpoints = {
        "GET /api/v1/terms/current (baseline)": [(f"{gateway}/api/v1/terms/current", {})],
        "GET one year of days": [(str(httpx.URL(f"{gateway}/api/v1/meters/{m}/consumption", params=y)), c)
                                 for y in years for m, c in zip(meters, cookies)],
        "GET /api/v1/me/summary": [(f"{gateway}/api/v1/me/summary", c) for c in cookies],
        "GET comparison (a month)": [(str(httpx.URL(f"{gateway}/api/v1/meters/{m}/comparison", params=p)), c)
                                     for p in months for m, c in zip(meters, cookies)],
    }
    print(f"\nAPI at a steady {rate:g} req/s for {seconds:.0f} s each (open loop, {len(sessions)} residents)")
    print(f"host: {host_speed():.0f} ms for bench.procs.host_speed's fixed loop on one core (the same figure on "
          "another day: the host gives the same CPU)")
    print(f"{'endpoint':42} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'first ms':>9}  meanwhile")
    results = {}
    # Restarted once, not per endpoint: on a shared PostgreSQL each restart competes for its connections.
    await asyncio.to_thread(restart, stack)
    services = {name: stack.processes[name].pid for name in SERVICES}
    for name, requests in endpoints.items():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                         cookie_jar=aiohttp.DummyCookieJar(),
                                         connector=aiohttp.TCPConnector(limit=400)) as client:
            t0 = time.perf_counter()
            # The first answers warm the process (the comparison's first of each month computes that month's peers).
            warm = [requests[i * len(meters)] for i in range(len(months))] if "comparison" in name else requests[:3]
            for url, headers in warm:
                try:
                    status, body = await fetch(client, url, headers)
                    assert status == 200, (url, status, body[:300])
                except TimeoutError:
                    print(f"  (warm-up of {name}: no answer within 30 s)")
            first = (time.perf_counter() - t0) * 1000
            await open_loop(client, requests[-100:], 50, 2)
            async with Meanwhile(services) as meanwhile:
                results[name] = res = await open_loop(client, requests, rate, seconds)
        print(f"{name:42} {res['p50']:8.1f} {res['p99']:8.1f} {res['errors']:7d} {first:9.0f}  {meanwhile}")
        print(f"{'':42} CPU ms per request: " + ", ".join(f"{part} {cpu / res['n'] * 1000:.2f}"
                                                           for part, cpu in meanwhile.cpu.items()))
        print(f"{'':42} over 50 ms: {slow_spans(res['slow'])}; sent {res['late']:.0f} ms late at most")
        await asyncio.sleep(10)  # what a saturated run left queued drains before the next endpoint
    base = results["GET /api/v1/terms/current (baseline)"]
    print("ratios to the baseline's p99: " + ", ".join(f"{n} ×{r['p99'] / base['p99']:.1f}"
                                                       for n, r in results.items() if r is not base))


class Meanwhile:
    """What else ran during a timed window, to tell a slow run's cause: PostgreSQL's checkpoints, autovacuum and
    what its active statements waited on (sampled every quarter second), the machine's load average at its end, the share of its CPUs busy and stolen by
    the host, and the CPU seconds each part of the stack spent (``services``: name -> pid)."""

    def __init__(self, services: dict[str, int]):
        self.services = services

    async def __aenter__(self) -> Self:
        self.conn = await asyncpg.connect(DSN)
        self.host, self.cpu = HostTime().start(), cpu_by_part(self.services)
        self.checkpoints = await self._checkpoints()
        self.vacuumed: set[str] = set()
        # Sampled every quarter second: what active statements waited on, and the most at once (and when).
        self.waits: Counter[str] = Counter()
        self.busiest: tuple[int, float] = (0, 0.0)
        self.sampler = asyncio.create_task(self._sample())
        return self

    async def _checkpoints(self) -> int:
        return await self.conn.fetchval("select checkpoints_timed + checkpoints_req from pg_stat_bgwriter")

    async def _sample(self) -> None:
        started = time.monotonic()
        while True:
            rows = await self.conn.fetch(
                "select backend_type, query, state, wait_event_type || ':' || wait_event as wait "
                "from pg_stat_activity where pid <> pg_backend_pid()")
            self.vacuumed.update(r["query"] for r in rows
                                 if r["backend_type"] == "autovacuum worker" and r["query"])
            busy = [r for r in rows if r["backend_type"] == "client backend" and r["state"] == "active"]
            self.waits.update(r["wait"] for r in busy if r["wait"])
            if len(busy) > self.busiest[0]:
                self.busiest = (len(busy), time.monotonic() - started)
            await asyncio.sleep(0.25)

    async def __aexit__(self, *exc) -> None:
        self.sampler.cancel()
        try:
            await self.sampler
        except asyncio.CancelledError:
            pass
        self.host.stop()
        self.cpu = spent(self.cpu, cpu_by_part(self.services))
        self.checkpoints = await self._checkpoints() - self.checkpoints
        await self.conn.close()
        self.load = os.getloadavg()[0]

    def __str__(self) -> str:
        jobs = "; ".join(sorted(v.removeprefix("autovacuum: ") for v in self.vacuumed)) or "no autovacuum"
        waits = ", ".join(f"{w} ×{n}" for w, n in self.waits.most_common(3)) or "none"
        return (f"{self.host}, load {self.load:.1f}, {self.checkpoints} checkpoint(s), {jobs}; PostgreSQL waits "
                f"{waits}, at most {self.busiest[0]} statements at once ({self.busiest[1]:.1f} s in)")


# The months the comparison is measured over; the summary compares the last complete month of LAST_DAY.
MONTHS = [(dt.date(y, m, 1), (dt.date(y, m, 28) + dt.timedelta(days=4)).replace(day=1))
          for y, m in ((2026, 11), (2026, 10), (2026, 9))]


async def peer_statistics(conn: asyncpg.Connection, service: int, timeout: float = 1800) -> None:
    """The measured months named for the peers worker (as a request does) and waited for; each computation's time
    beside the baseline: the same month's peers computed as a request computed them before (PeerCache, in the
    request's process), once. With the peak memory of the service's process and of its grouping process (the
    production pod's limit holds both)."""
    from consumption import peers
    from metro.db import Database

    periods = sorted({("electricity", *p) for p in MONTHS})
    await conn.executemany("INSERT INTO consumption.peer_periods (energy, period_start, period_end) "
                           "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", periods)
    t0 = time.perf_counter()
    print(f"\npeer statistics of {len(periods)} months, computed by the consumption service's worker")
    # Every kept period (the app's own, about 18 per energy), not only the measured ones: the worker computing the
    # others would share the 2 cores with the measurement.
    while await conn.fetchval("SELECT count(*) FROM consumption.peer_periods WHERE computed_at IS NULL") and \
            time.perf_counter() - t0 < timeout:
        await asyncio.sleep(5)
    rows = await conn.fetch("SELECT period_start, homes, seconds FROM consumption.peer_periods WHERE energy = "
                            "'electricity' AND (period_start, period_end) IN (SELECT * FROM unnest($1::date[], "
                            "$2::date[])) AND computed_at IS NOT NULL", [p[1] for p in periods],
                            [p[2] for p in periods])
    for r in sorted(rows):
        print(f"  {r['period_start']:%Y-%m}: {r['homes']} homes, {r['seconds']:.1f} s (worker)")
    kept = await conn.fetchrow("SELECT count(*) AS periods, sum(seconds) AS seconds FROM consumption.peer_periods")
    groups = await conn.fetchval("SELECT pg_total_relation_size('consumption.peer_groups')")
    print(f"  every kept period ready after {time.perf_counter() - t0:.0f} s ({kept['periods']} periods, "
          f"{kept['seconds']:.0f} s of the worker's time; peer_groups {groups / 2**20:.0f} MiB)")
    peaks = peak_memory(service)
    print(f"  peak resident memory: the service's process {peaks.pop(service)} MiB, its children "
          + ", ".join(f"{v} MiB" for v in peaks.values()))
    db = Database(DSN.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    try:
        async with db.session() as session:
            t0 = time.perf_counter()
            computed = await peers.PeerCache()._compute(session, *periods[-1])
            print(f"  baseline: {periods[-1][1]:%Y-%m} computed in a request's process (PeerCache): "
                  f"{time.perf_counter() - t0:.1f} s for {len(computed.results)} homes")
    finally:
        await db.dispose()


async def measure_summary_reads(meters: list[str]) -> None:
    """The summary's reading of a meter, in this process, as it is now (load_recent: a statement, the year's earlier
    months from the rollups) and as it was (load_meter_year: every day of up to 23 months, priced days checked one by
    one), for the same meters one after the other: a ratio that holds on a loaded machine."""
    from consumption import repository, totals
    from metro.db import Database

    db = Database(DSN.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    spent = {}
    try:
        async with db.session() as session:
            rows = [await repository.meter_info(session, uuid.UUID(m)) for m in meters]
            for name, read in (("as it was (load_meter_year, baseline)", totals.load_meter_year),
                               ("now (load_recent)", totals.load_recent), ("as it was, again", totals.load_meter_year),
                               ("now, again", totals.load_recent)):
                t0 = time.perf_counter()
                figures = [totals.to_date(await read(session, meter)) for meter in rows]
                spent[name] = (time.perf_counter() - t0) * 1000 / len(rows)
                spent.setdefault("figures", figures)
                assert figures == spent["figures"], "both reads give the same totals"
    finally:
        await db.dispose()
    print(f"\nthe summary's read of one meter, in process ({len(meters)} meters, same totals both ways)")
    for name, ms in spent.items():
        if name != "figures":
            print(f"  {name:40} {ms:8.2f} ms per meter")
    print(f"  ratio: ×{spent['as it was, again'] / spent['now, again']:.1f} faster")


async def store_summaries(meters: list[str]) -> None:
    """The residents' stored summaries, computed by the pricing worker's own function (summary.store_summaries, as
    it does after pricing a meter whose resident reads the summary); its cost per meter is printed, beside the read
    of the stored rows."""
    from consumption import repository, summary
    from metro.db import Database

    db = Database(DSN.replace("postgresql://", "postgresql+asyncpg://"), pool_size=1)
    ids = [uuid.UUID(m) for m in meters]
    try:
        async with db.session() as session, session.begin():
            t0 = time.perf_counter()
            await summary.store_summaries(session, ids)
            computed = (time.perf_counter() - t0) * 1000 / len(ids)
        async with db.session() as session:
            t0 = time.perf_counter()
            for meter_id in ids:
                await repository.stored_summaries(session, [meter_id])
            read = (time.perf_counter() - t0) * 1000 / len(ids)
    finally:
        await db.dispose()
    print(f"\nstored summaries of the {len(ids)} residents' meters, by the worker's function: {computed:.2f} ms per "
          f"meter to compute and store (baseline: what a request computed before), {read:.2f} ms to read one")


AGGREGATE = """
    SELECT {energy} AS energy, count(DISTINCT m.meter_id) AS homes, sum({wh}) AS wh,
           sum({wh}) / nullif(sum(DISTINCT (p.profile->>'surface_m2')::numeric), 0) AS wh_per_m2
    FROM {source} JOIN consumption.meters m ON m.meter_id = r.meter_id
    JOIN consumption.profiles p ON p.account_id = m.account_id
    WHERE p.profile->>'insee_code' = $1 AND {period}
    GROUP BY 1 ORDER BY 1
"""
FROM_ROLLUPS = AGGREGATE.format(energy="r.energy", wh="r.wh", source="consumption.monthly_rollups r",
                                period="r.month >= $2 AND r.month < $3")
FROM_DAYS = AGGREGATE.format(energy="m.energy", wh="r.wh", source="consumption.readings r",
                             period="r.day >= $2 AND r.day < $3")


async def measure_aggregates(conn: asyncpg.Connection) -> None:
    start, end = dt.date(LAST_DAY.year - 1, 12, 1), dt.date(LAST_DAY.year, 12, 1)
    print(f"\na municipality's year ({start} to {end}) per energy: homes, kWh (Saint-Martin-d'Hères, 38421)")
    for name, sql in (("from the rollups", FROM_ROLLUPS), ("from the daily table (baseline)", FROM_DAYS)):
        timings = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows = await conn.fetch(sql, "38421", start, end)
            timings.append((time.perf_counter() - t0) * 1000)
        figures = ", ".join(f"{r['energy']}: {r['homes']} homes {int(r['wh']) // 1000} kWh" for r in rows)
        print(f"  {name:34} best of 3 {min(timings):9.1f} ms   {figures}")


SIZES = """
    WITH RECURSIVE tree AS (
        SELECT c.oid AS root, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'consumption' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        UNION ALL SELECT t.root, i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.oid
    )
    SELECT root::regclass::text AS name, sum(pg_relation_size(t.oid)) AS heap,
           sum(pg_indexes_size(t.oid)) AS indexes, sum(pg_total_relation_size(t.oid)) AS total,
           sum(greatest(c.reltuples, 0)) FILTER (WHERE c.relkind = 'r') AS rows  -- the leaves, not the parents
    FROM tree t JOIN pg_class c ON c.oid = t.oid GROUP BY root ORDER BY total DESC LIMIT 8
"""
INDEX_SIZES = """
    SELECT i.indexrelid::regclass::text AS name,
           (SELECT coalesce(sum(pg_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = i.indexrelid)
           + pg_relation_size(i.indexrelid) AS size
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'consumption' AND NOT c.relispartition ORDER BY size DESC LIMIT 8
"""


async def measure_sizes(conn: asyncpg.Connection) -> None:
    mib = 1024 * 1024
    print("\ndatabase size (partitions summed)")
    print(f"  {'table':36} {'heap MiB':>10} {'indexes MiB':>12} {'total MiB':>10} {'rows (est.)':>12} {'B/row':>6}")
    for r in await conn.fetch(SIZES):
        per_row = f"{float(r['total']) / r['rows']:6.0f}" if r["rows"] else f"{'':6}"
        print(f"  {r['name']:36} {r['heap'] / mib:10.0f} {r['indexes'] / mib:12.0f} {r['total'] / mib:10.0f} "
              f"{r['rows']:12.0f} {per_row}")
    for r in await conn.fetch(INDEX_SIZES):
        print(f"  index {r['name']:30} {r['size'] / mib:10.0f} MiB")
    print(f"  whole database: {await conn.fetchval('select pg_database_size(current_database())') / mib:.0f} MiB")


async def measure_catch_up(conn: asyncpg.Connection, day: dt.date) -> None:
    """A day's readings for every meter, then the pricing worker's catch-up (priced days and rollups)."""
    from consumption.repository.readings import RECORD_SOURCE_DAYS

    meters = [r["meter_id"] for r in await conn.fetch("select meter_id from consumption.meters")]
    rng = random.Random(day.toordinal())
    records = [(m, day, rng.randrange(3_000, 30_000), "measured", "bench") for m in meters]
    await conn.execute("create temp table if not exists bare (like consumption.readings including defaults)")
    t0 = time.perf_counter()
    await conn.copy_records_to_table("bare", columns=["meter_id", "day", "wh", "quality", "source"],
                                     records=records)
    bare = time.perf_counter() - t0
    await conn.execute("drop table bare")
    t0 = time.perf_counter()
    await conn.copy_records_to_table("readings", schema_name="consumption",
                                     columns=["meter_id", "day", "wh", "quality", "source"], records=records)
    await conn.execute(RECORD_SOURCE_DAYS, ["bench"], [day])
    # As on_readings_collected queues them: from the day received.
    await conn.execute("insert into consumption.price_queue (meter_id, since) select unnest($1::uuid[]), $2 "
                       "on conflict do nothing", meters, day)
    stored = time.perf_counter() - t0
    while (left := await conn.fetchval("select count(*) from consumption.price_queue")) > 0:
        print(f"\r  catching up: {len(meters) - left:>7} of {len(meters)} meters ({time.perf_counter() - t0:.0f} s)",
              end="", flush=True)
        await asyncio.sleep(2)
    caught = time.perf_counter() - t0
    rolled = await conn.fetchval("select count(*) from consumption.monthly_rollups where month = $1 "
                                 "and days_present > 0", day.replace(day=1))
    print(f"\r  a day for {len(meters)} meters ({day}): stored and queued in {stored:.1f} s; priced and rolled up "
          f"after {caught:.1f} s ({len(meters) / caught:.0f} meters/s; {rolled} rollups of {day:%Y-%m})")
    print(f"  baseline: a bare COPY of the same rows {bare:.1f} s → catch-up ×{caught / bare:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meters", type=int, default=METROPOLE, help="meters in all (the fleet scaled)")
    parser.add_argument("--years", type=int, default=1, choices=(1, 2, 3), help="years of days per meter")
    parser.add_argument("--reload", action="store_true", help="rebuild the bench database")
    parser.add_argument("--priced-meters", type=int, default=40_000,
                        help="meters whose priced days are generated (a sample beyond; the residents are among them)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1,
                        help="the API's windows measured this many times in a row")
    parser.add_argument("--rates", default="100",
                        help="requests per second of the API's windows, comma-separated (the target's 100; more "
                             "shows the headroom)")
    parser.add_argument("--parts", default="api,aggregates,sizes,catch-up",
                        help="what to measure, among api,aggregates,sizes,catch-up")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    t0 = time.perf_counter()
    if psql(f"select 1 from pg_database where datname = '{DATABASE}'") != "1":
        psql(f'CREATE DATABASE "{DATABASE}"')
    stack = Stack(database_url=DSN.replace("postgresql://", "postgresql+asyncpg://"),
                  amqp_url=reset_vhost(f"metro_scale_{SLOT}"), base_port=BASE_PORT,
                  log_dir=Path(__file__).resolve().parents[1] / "test-artifacts" / "bench-scale",
                  extra_env={"{P}DB_POOL_SIZE": "8", "{P}DB_POOL_WARM": "8", "{P}LOG_LEVEL": "WARNING",
                             # production's probe interval, not the test stack's 2 s (the probes scan recent days)
                             "{P}METRICS_INTERVAL_S": "15",
                             # the residents given homes below change every kept period: computed again after the
                             # run, not during it (in production the worker's computation has its own core)
                             "{P}PEER_REFRESH_SECONDS": "86400"})

    async def prepare() -> bool:
        conn = await asyncpg.connect(DSN)
        try:
            if args.reload or not await loaded(conn, args.meters, args.years):
                print(f"generating {args.meters} meters × {args.years} year(s) of days into {DATABASE}")
                started = time.perf_counter()
                await load(conn, args.meters, args.years, args.priced_meters)
                print(f"  generated in {time.perf_counter() - started:.0f} s")
            elif not await conn.fetchval("select exists (select 1 from consumption.monthly_rollups)"):
                print("the days are loaded, the rollups are not (a load stopped while building them)")
                await build_rollups(conn)
        finally:
            await conn.close()
        return True

    try:
        stack.start("consumption")  # migrates the schema
        stack.stop("consumption")
        asyncio.run(prepare())
        for package in SERVICES:
            stack.start(package, wait=False)
        for package in SERVICES:
            stack.wait_ready(package, timeout=600)
        print(f"data ready after {time.perf_counter() - t0:.0f} s; signing up {args.residents} residents")
        users = [ApiUser(stack.url("gateway")).signup(verify=False) for _ in range(args.residents)]
        sessions = [u.http.cookies["metro_session"] for u in users]
        for u in users:
            u.close()

        async def run() -> None:
            conn = await asyncpg.connect(DSN)
            try:
                meters = await give_homes_to(conn, [u.account["id"] for u in users])
                if "api" in parts:
                    await peer_statistics(conn, stack.processes["consumption"].pid)
                    await measure_summary_reads(meters)
                    await store_summaries(meters)
                    for rate in map(float, args.rates.split(",")):
                        for _ in range(args.rounds):
                            await measure_api(stack, sessions, meters, args.seconds, rate)
                if "aggregates" in parts:
                    await measure_aggregates(conn)
                if "sizes" in parts:
                    await measure_sizes(conn)
                if "catch-up" in parts:
                    last = await conn.fetchval("select max(day) from consumption.readings")
                    await measure_catch_up(conn, last + dt.timedelta(days=1))
            finally:
                await conn.close()
        asyncio.run(run())
    finally:
        stack.stop_all()
    print(f"\nwhole bench: {time.perf_counter() - t0:.0f} s (--meters {args.meters} --years {args.years}). Figures "
          "are indicative on a shared machine: compare the ratios.")


if __name__ == "__main__":
    main()
