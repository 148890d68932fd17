"""Public API latency with 10 000 homes × 3 years stored: GET /api/v1/me/summary, a one-year daily consumption
request and the comparison with similar homes over a month, beside a trivial gateway endpoint (/api/v1/terms/current) measured the same way in the
same run.

Open loop: requests leave at a fixed arrival rate whatever the answers do (latency is counted from the
planned send time, so a stalled server cannot hide its queue), spread over many residents.
Phase 1: each endpoint at a steady 100 req/s. Phase 2: rising rates from 25 req/s; the highest one whose p99
stays under 100 ms is reported. Before each endpoint the services are restarted and warmed up alike, so that a
run which saturated them does not weigh on the next one; they open and warm their 20 pooled connections at start
(DB_POOL_WARM), as a deployment taking traffic at once would. The load generator is aiohttp: it shares the two cores with the
services, and costs a third to a half of the CPU httpx does per request.

The data live in a dedicated database (metroenergies_bench, never a test database; metroenergies_bench_N and ports
and vhost of their own under METRO_TEST_SLOT=N), bulk-loaded with COPY
once and reused by later runs (--reload to rebuild). The gateway and consumption services run as real
processes against it; the first run waits for consumption's pricing worker to price every home into the
priced-days read model (its throughput is printed), as it would have as the readings arrived.

Every one-year request in a run asks for a different (meter, range), so no answer comes from a cache. The
one-year request is measured twice: from the read model, and "priced on the fly" (the residents' priced days
marked not current, as right after new readings, a contract change or a new catalogue, before the worker has
caught up).

Run: uv run python -m bench.api_latency [--reload] [--load-only] [--seconds 10] [--residents 200]
[--only summary,comparison] [--priced-homes 10000]
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from sqlalchemy import text as sa_text

from devstack.client import ApiUser
from devstack.stack import Stack, reset_vhost

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
DATABASE = "metroenergies_bench" + (f"_{SLOT}" if SLOT else "")
DSN = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
HOMES = 10_000
FIRST_DAY = dt.date(2023, 11, 1)
LAST_DAY = dt.date(2026, 10, 31)
BASE_PORT = 28000 + 100 * SLOT
MUNICIPALITIES = ("38185", "38421", "38151", "38169", "38229", "38485", "38563", "38057")
SERVICES = ("consumption", "gateway")
# From 25 req/s, so that an endpoint which does not hold 100 req/s still gets a figure.
RATES = (25, 50, 75, 100, 150, 200, 300, 400, 600)


def psql(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atqc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def profile(rng: random.Random) -> dict:
    return {"insee_code": rng.choice(MUNICIPALITIES), "surface_m2": rng.choice((35.0, 55.0, 85.0, 120.0)),
            "occupants": rng.choice((1, 2, 3, 4)), "dwelling_type": rng.choice(("apartment", "house")),
            "heating_energy": rng.choice(("electricity", "gas")), "heating_mode": "individual",
            "hot_water_energy": "electricity", "construction_year": 1970}


async def loaded() -> bool:
    conn = await asyncpg.connect(DSN)
    try:
        n = await conn.fetchval("select count(*) from consumption.meters")
        last = await conn.fetchval("select max(day) from consumption.readings")
        return n >= HOMES and last == LAST_DAY
    finally:
        await conn.close()


async def load() -> None:
    """10 000 homes with profiles and 3 years of daily readings, COPY'd in chunks of homes."""
    rng = random.Random(2026)
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    # Winter peak: a home uses up to 2.5× more in January than in July.
    season = [1.75 + 0.75 * math.cos(2 * math.pi * (d.timetuple().tm_yday - 15) / 365.25) for d in days]
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute("truncate consumption.readings, consumption.meters, consumption.profiles")
        homes = [(uuid.uuid4(), uuid.uuid4()) for _ in range(HOMES)]
        await conn.copy_records_to_table("meters", schema_name="consumption",
                                         columns=["meter_id", "account_id", "energy", "dso"],
                                         records=[(m, a, "electricity", "enedis") for m, a in homes])
        await conn.copy_records_to_table("profiles", schema_name="consumption", columns=["account_id", "profile"],
                                         records=[(a, json.dumps(profile(rng))) for _, a in homes])
        started = time.perf_counter()
        chunk = 400
        for i in range(0, HOMES, chunk):
            records = []
            for meter_id, _ in homes[i:i + chunk]:
                base = rng.uniform(4_000, 16_000)
                records.extend((meter_id, d, int(base * s * rng.uniform(0.8, 1.2)), "measured", "bench")
                               for d, s in zip(days, season))
            await conn.copy_records_to_table("readings", schema_name="consumption",
                                             columns=["meter_id", "day", "wh", "quality", "source"],
                                             records=records)
            print(f"\r  loaded {i + chunk:>6} homes ({time.perf_counter() - started:.0f} s)", end="", flush=True)
        print()
        await conn.execute("analyze consumption.readings; analyze consumption.meters; analyze consumption.profiles")
    finally:
        await conn.close()


async def priced(homes: int = HOMES) -> None:
    """The pricing worker prices every home not yet priced (the first time: 11 million days), as it would have as
    the readings arrived; its throughput is printed. ``homes``: only the first ones by meter id (the residents'
    are among them; the others' days are priced on the fly if read), where pricing all would take hours."""
    conn = await asyncpg.connect(DSN)
    try:
        first = "(select meter_id from consumption.meters order by meter_id limit $1)"
        waiting = await conn.fetchval(f"select count(*) from consumption.meters where priced_key is null "
                                      f"and meter_id in {first}", homes)
        if not waiting:
            return
        await conn.execute(f"delete from consumption.price_queue where meter_id not in {first}", homes)
        await conn.execute(f"insert into consumption.price_queue (meter_id) select meter_id from consumption.meters "
                           f"where priced_key is null and meter_id in {first} on conflict do nothing", homes)
        started = time.perf_counter()
        while (left := await conn.fetchval("select count(*) from consumption.price_queue")) > 0:
            print(f"\r  pricing: {waiting - left:>6} of {waiting} homes ({time.perf_counter() - started:.0f} s)",
                  end="", flush=True)
            await asyncio.sleep(2)
        elapsed = time.perf_counter() - started
        days = await conn.fetchval("select count(*) from consumption.priced_days")
        print(f"\r  pricing worker: {waiting} homes, {days} days in {elapsed:.0f} s ({days / elapsed:.0f} days/s)")
        await conn.execute("vacuum (analyze) consumption.priced_days")  # as autovacuum would, after 11 M inserts
    finally:
        await conn.close()


async def give_homes_to(residents: list[str]) -> list[str]:
    """The first homes become the residents' (their meter ids are returned in the same order)."""
    conn = await asyncpg.connect(DSN)
    try:
        rows = await conn.fetch("select meter_id, account_id from consumption.meters order by meter_id limit $1",
                                len(residents))
        for (meter_id, old), account in zip(rows, residents):
            await conn.execute("update consumption.profiles set account_id=$1 where account_id=$2",
                               uuid.UUID(account), old)
            await conn.execute("update consumption.meters set account_id=$1 where meter_id=$2",
                               uuid.UUID(account), meter_id)
        return [str(r["meter_id"]) for r in rows]
    finally:
        await conn.close()


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


async def open_loop(client: aiohttp.ClientSession, requests: list[tuple[str, dict]], rate: float,
                    seconds: float, offset: int = 0) -> dict:
    """Sends at `rate` per second for `seconds`, from request number `offset` on; returns p50/p99 (ms),
    errors, the achieved rate, the slow ones (over 50 ms: when they were planned, in s from the start, and
    their ms) and how late this bench sent its most belated request (ms; a latency counts from the planned
    moment, so a bench that falls behind shows here rather than passing for the server's)."""
    n = int(rate * seconds)
    latencies: list[float] = []
    slow: list[tuple[float, float]] = []
    errors, late = 0, 0.0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int, planned: float) -> None:
        nonlocal errors, late
        late = max(late, (loop.time() - planned) * 1000)
        url, headers = requests[(offset + i) % len(requests)]
        try:
            async with client.get(url, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
        except (aiohttp.ClientError, TimeoutError):
            errors += 1
        latencies.append(ms := (loop.time() - planned) * 1000)
        if ms > 50:
            slow.append((planned - start, ms))

    # Each request started at its moment, not thousands of tasks made up front: making and first running them
    # all at once could outlast the first requests' slack (a window's slow requests all fell in its first
    # 0.4 s).
    tasks = []
    for i in range(n):
        planned = start + i / rate
        if (delay := planned - loop.time()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, planned)))
    await asyncio.gather(*tasks)
    return {"rate": rate, "n": n, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "errors": errors, "slow": sorted(slow), "late": late}


def slow_spans(slow: list[tuple[float, float]], gap: float = 1.0) -> str:
    """The slow requests as spans of time (those planned less than ``gap`` s apart together): a stall shows as
    one span, a saturated window as one long one."""
    spans: list[list[float]] = []
    for at, ms in slow:
        if spans and at - spans[-1][1] < gap:
            spans[-1][1:] = [at, max(spans[-1][2], ms), spans[-1][3] + 1]
        else:
            spans.append([at, at, ms, 1])
    return "; ".join(f"{n:.0f} sent {a:.1f}–{b:.1f} s (worst {w:.0f} ms)" for a, b, w, n in spans) or "none"


async def fetch(client: aiohttp.ClientSession, url: str, headers: dict) -> tuple[int, bytes]:
    async with client.get(url, headers=headers) as r:
        return r.status, await r.read()


class OnTheFly:
    """While entered, the residents' priced days are not current (as right after new readings, a new contract
    or a new catalogue, before the pricing worker has caught up): their series are priced on the fly."""

    def __init__(self, meters: list[str]):
        self.meters = [uuid.UUID(m) for m in meters]

    async def _set(self, sql: str) -> None:
        conn = await asyncpg.connect(DSN)
        try:
            await conn.execute(sql, self.meters)
        finally:
            await conn.close()

    async def __aenter__(self):
        await self._set("update consumption.meters set priced_key = 'not-current:' || priced_key "
                        "where meter_id = any($1)")

    async def __aexit__(self, *exc):
        await self._set("update consumption.meters set priced_key = substr(priced_key, 13) "
                        "where meter_id = any($1) and priced_key like 'not-current:%'")


async def measure(gateway: str, restart, sessions: list[str], meters: list[str], seconds: float,
                  only: str | None) -> None:
    # Every one-year request of a run is a different (meter, range): nothing can be served from a cache.
    years = [{"from": (LAST_DAY - dt.timedelta(days=364 + k)).isoformat(),
              "to": (LAST_DAY + dt.timedelta(days=1 - k)).isoformat()} for k in range(60)]
    one_year = [(str(httpx.URL(f"{gateway}/api/v1/meters/{m}/consumption", params=year)),
                 {"cookie": f"metro_session={s}"}) for year in years for m, s in zip(meters, sessions)]
    months = [{"from": f"2026-{m:02d}-01", "to": f"2026-{m + 1:02d}-01"} for m in (9, 8, 7)]
    comparison = [(str(httpx.URL(f"{gateway}/api/v1/meters/{m}/comparison", params=month)),
                   {"cookie": f"metro_session={s}"}) for month in months for m, s in zip(meters, sessions)]
    endpoints = {
        "GET /api/v1/terms/current (baseline)": ([(f"{gateway}/api/v1/terms/current", {})], None),
        "GET /api/v1/me/summary": ([(f"{gateway}/api/v1/me/summary", {"cookie": f"metro_session={s}"})
                                    for s in sessions], None),
        "GET comparison (a month)": (comparison, None),
        "GET one year of days": (one_year, None),
        "GET one year of days, priced on the fly": (one_year, OnTheFly(meters)),
    }
    endpoints = {name: e for name, e in endpoints.items()
                 if "baseline" in name or not only or any(o in name for o in only.split(","))}

    @contextlib.asynccontextmanager
    async def fresh(requests: list[tuple[str, dict]], state):
        """Each endpoint is measured on services restarted and warmed up alike: a run that saturated them (its
        abandoned requests, the pools it grew) does not weigh on the next endpoint measured."""
        await asyncio.to_thread(restart)
        # A request still unanswered after 5 s counts as an error: the run stays bounded when a rate is too high.
        # No cookie jar: each request carries its resident's session cookie, and only it.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5),
                                         cookie_jar=aiohttp.DummyCookieJar(),
                                         connector=aiohttp.TCPConnector(limit=400)) as client, \
                state or contextlib.nullcontext():
            # The first of each period too: the comparison's first request of a month computes that month's peers.
            for url, headers in requests[:3] + requests[len(sessions):3 * len(sessions):len(sessions)]:
                status, body = await fetch(client, url, headers)
                assert status == 200, (url, status, body[:300])
            await open_loop(client, requests[-100:], 50, 2)
            yield client

    print(f"\nphase 1: steady 100 req/s for {seconds:.0f} s each (open loop, {len(sessions)} residents)")
    print(f"{'endpoint':42} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    steady = {}
    for name, (requests, state) in endpoints.items():
        async with fresh(requests, state) as client:
            steady[name] = res = await open_loop(client, requests, 100, seconds)
        print(f"{name:42} {res['p50']:8.1f} {res['p99']:8.1f} {res['errors']:7d}")
    print("\nphase 2: highest rate with p99 under 100 ms (5 s per step; rising, so only the last step saturates)")
    for name, (requests, state) in endpoints.items():
        best, steps, sent = None, [], 0
        async with fresh(requests, state) as client:
            for rate in RATES:
                res = await open_loop(client, requests, rate, 5, offset=sent)  # each step asks for other ranges
                sent += res["n"]
                steps.append(f"{rate}:{res['p99']:.0f}ms")
                if res["p99"] >= 100 or res["errors"]:
                    break
                best = rate
        print(f"{name:42} {('≥ ' if best == RATES[-1] else '') + str(best or f'< {RATES[0]}'):>8} req/s   "
              f"(rate:p99 {' '.join(steps)})")
    base = steady["GET /api/v1/terms/current (baseline)"]
    print("\nratios to the baseline at 100 req/s (p99): " + ", ".join(
        f"{name.split(' (')[0]} ×{res['p99'] / base['p99']:.1f}" for name, res in steady.items()
        if res is not base))


async def summary_in_process(accounts: int) -> None:
    """GET /me/summary's work in this process for the first priced homes' accounts, each read twice in turn: computed
    at the request (as before the stored summaries: the transaction rolled back, so nothing is stored) and served
    from the stored summary the first read stored. Same figures both ways; the ratio holds on a loaded machine."""
    from consumption import app, summary
    from metro.db import Database
    from metro.migrations import upgrade_async

    url = DSN.replace("postgresql://", "postgresql+asyncpg://")
    await upgrade_async(app.spec().package_dir, url)
    db = Database(url, pool_size=1)
    spent = {"computed at the request (baseline)": 0.0, "stored": 0.0}
    try:
        async with db.session() as session:
            ids = (await session.execute(sa_text(
                "select account_id from consumption.meters where priced_key is not null order by meter_id limit :n"),
                {"n": accounts})).scalars().all()
        for account_id in ids:
            async with db.session() as session:
                t0 = time.perf_counter()
                trans = await session.begin()
                live = await summary.summary(session, account_id)
                await trans.rollback()
                spent["computed at the request (baseline)"] += time.perf_counter() - t0
                async with session.begin():
                    await summary.summary(session, account_id)  # stores it
                t0 = time.perf_counter()
                async with session.begin():
                    stored = await summary.summary(session, account_id)
                spent["stored"] += time.perf_counter() - t0
            strip = [{k: v for k, v in m.items() if k != "computed_at"} for m in live["meters"]]
            assert strip == [{k: v for k, v in m.items() if k != "computed_at"} for m in stored["meters"]]
    finally:
        await db.dispose()
    print(f"\nthe summary in process, {len(ids)} accounts (same figures both ways)")
    for name, seconds in spent.items():
        print(f"  {name:40} {seconds * 1000 / len(ids):8.2f} ms per summary")
    print(f"  ratio: ×{spent['computed at the request (baseline)'] / spent['stored']:.1f} less work")


def restart(stack: Stack) -> None:
    for package in SERVICES:
        stack.stop(package)
    for package in SERVICES:
        stack.start(package, wait=False)
    for package in SERVICES:
        stack.wait_ready(package, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reload", action="store_true", help="rebuild the bench database")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--load-only", action="store_true", help="prepare the bench database and stop")
    parser.add_argument("--only", help="measure only the endpoints whose name holds one of these comma-separated "
                        "texts (and the baseline)")
    parser.add_argument("--in-process", type=int, metavar="ACCOUNTS",
                        help="only time the summary's work in this process for this many accounts (data loaded)")
    parser.add_argument("--priced-homes", type=int, default=HOMES,
                        help="homes priced by the worker before measuring, the residents' first (all by default)")
    args = parser.parse_args()
    if args.in_process:
        asyncio.run(summary_in_process(args.in_process))
        return
    t0 = time.perf_counter()
    exists = psql(f"select 1 from pg_database where datname = '{DATABASE}'") == "1"
    if args.reload and exists:
        psql(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        exists = False
    if not exists:
        psql(f'CREATE DATABASE "{DATABASE}"')
    stack = Stack(database_url=DSN.replace("postgresql://", "postgresql+asyncpg://"),
                  amqp_url=reset_vhost("metro_bench" + (f"_{SLOT}" if SLOT else "")), base_port=BASE_PORT,
                  log_dir=Path(__file__).resolve().parents[1] / "test-artifacts" / "bench",
                  extra_env={"{P}DB_POOL_SIZE": "20", "{P}DB_POOL_WARM": "20", "{P}LOG_LEVEL": "WARNING"})
    try:
        for package in SERVICES:
            stack.start(package, wait=False)
        for package in SERVICES:
            stack.wait_ready(package, timeout=300)
        if not asyncio.run(loaded()):
            print(f"loading {HOMES} homes × {(LAST_DAY - FIRST_DAY).days + 1} days into {DATABASE} with COPY")
            asyncio.run(load())
        asyncio.run(priced(max(args.priced_homes, args.residents)))
        print(f"data ready after {time.perf_counter() - t0:.0f} s")
        if args.load_only:
            return
        print(f"signing up {args.residents} residents")
        # Their homes are given in the database: no consent, so no address to verify (and no SMTP sink here).
        users = [ApiUser(stack.url("gateway")).signup(verify=False) for _ in range(args.residents)]
        sessions = [u.http.cookies["metro_session"] for u in users]
        meters = asyncio.run(give_homes_to([u.account["id"] for u in users]))
        for u in users:
            u.close()
        asyncio.run(measure(stack.url("gateway"), lambda: restart(stack), sessions, meters, args.seconds,
                            args.only))
    finally:
        stack.stop_all()
    print(f"\nwhole bench: {time.perf_counter() - t0:.0f} s. The machine is shared with other engineers' test "
          "runs: figures are indicative, compare the ratios.")


if __name__ == "__main__":
    main()
