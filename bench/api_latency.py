"""Public API latency with 10 000 homes × 3 years stored: GET /api/v1/me/summary and a one-year daily
consumption request, beside a trivial gateway endpoint (/api/v1/terms/current) measured the same way in the
same run.

Open loop: requests leave at a fixed arrival rate whatever the answers do (latency is counted from the
planned send time, so a stalled server cannot hide its queue), spread over many residents.
Phase 1: each endpoint at a steady 100 req/s. Phase 2: rising rates; the highest one whose p99 stays under
100 ms is reported.

The data live in a dedicated database (metroenergies_bench, never a test database), bulk-loaded with COPY
once and reused by later runs (--reload to rebuild). The gateway and consumption services run as real
processes against it.

Run: uv run python bench/api_latency.py [--reload] [--load-only] [--seconds 10] [--residents 20]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from tests.support.client import ApiUser  # noqa: E402
from tests.support.stack import Stack, reset_vhost  # noqa: E402

DATABASE = "metroenergies_bench"
DSN = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
HOMES = 10_000
FIRST_DAY = dt.date(2023, 11, 1)
LAST_DAY = dt.date(2026, 10, 31)
BASE_PORT = 28000
MUNICIPALITIES = ("38185", "38421", "38151", "38169", "38229", "38485", "38563", "38057")
RATES = (100, 150, 200, 300, 400, 600)


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


async def open_loop(client: httpx.AsyncClient, requests: list[tuple[str, dict]], rate: float,
                    seconds: float) -> dict:
    """Sends at `rate` per second for `seconds`; returns p50/p99 (ms), errors and the achieved rate."""
    n = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        planned = start + i / rate
        delay = planned - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        url, headers = requests[i % len(requests)]
        try:
            r = await client.get(url, headers=headers)
            if r.status_code != 200:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        latencies.append((loop.time() - planned) * 1000)

    await asyncio.gather(*(one(i) for i in range(n)))
    return {"rate": rate, "n": n, "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "errors": errors}


async def drained(client: httpx.AsyncClient, probes: list[str]) -> None:
    """Waits until every service is idle again: requests a saturating run gave up on are still being served, and
    would otherwise be billed to the next endpoint measured."""
    loop = asyncio.get_running_loop()
    deadline, quick = loop.time() + 180, 0
    while quick < 5 and loop.time() < deadline:
        t0 = loop.time()
        await asyncio.gather(*(client.get(p) for p in probes))
        quick = quick + 1 if loop.time() - t0 < 0.02 else 0
        await asyncio.sleep(0.2)


async def measure(gateway: str, consumption: str, sessions: list[str], meters: list[str], seconds: float) -> None:
    year = {"from": (LAST_DAY - dt.timedelta(days=364)).isoformat(), "to": (LAST_DAY + dt.timedelta(days=1)).isoformat()}
    endpoints = {
        "GET /api/v1/terms/current (baseline)": [("/api/v1/terms/current", {})],
        "GET /api/v1/me/summary": [("/api/v1/me/summary", {"cookie": f"metro_session={s}"}) for s in sessions],
        "GET one year of days": [(str(httpx.URL(f"/api/v1/meters/{m}/consumption", params=year)),
                                  {"cookie": f"metro_session={s}"}) for m, s in zip(meters, sessions)],
    }
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    # A request still unanswered after 5 s counts as an error: the run stays bounded when a rate is too high.
    probes = ["/api/v1/terms/current", f"{consumption}/health/live"]
    async with httpx.AsyncClient(base_url=gateway, timeout=5, limits=limits) as client:
        for name, requests in endpoints.items():
            for url, headers in requests[:3]:
                r = await client.get(url, headers=headers)
                assert r.status_code == 200, (url, r.status_code, r.text[:300])
            await open_loop(client, requests, 50, 2)
        print(f"\nphase 1: steady 100 req/s for {seconds:.0f} s each (open loop, {len(sessions)} residents)")
        print(f"{'endpoint':42} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        steady = {}
        for name, requests in endpoints.items():
            await drained(client, probes)
            steady[name] = res = await open_loop(client, requests, 100, seconds)
            print(f"{name:42} {res['p50']:8.1f} {res['p99']:8.1f} {res['errors']:7d}")
        print("\nphase 2: highest rate with p99 under 100 ms (5 s per step)")
        for name, requests in endpoints.items():
            best, steps = None, []
            for rate in RATES:
                await drained(client, probes)
                res = await open_loop(client, requests, rate, 5)
                steps.append(f"{rate}:{res['p99']:.0f}ms")
                if res["p99"] >= 100 or res["errors"]:
                    break
                best = rate
            print(f"{name:42} {('≥ ' if best == RATES[-1] else '') + str(best or '< 100'):>8} req/s   "
                  f"(rate:p99 {' '.join(steps)})")
        base = steady["GET /api/v1/terms/current (baseline)"]
        print("\nratios to the baseline at 100 req/s (p99): " + ", ".join(
            f"{name.split(' (')[0]} ×{res['p99'] / base['p99']:.1f}" for name, res in steady.items()
            if res is not base))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reload", action="store_true", help="rebuild the bench database")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--load-only", action="store_true", help="prepare the bench database and stop")
    args = parser.parse_args()
    t0 = time.perf_counter()
    exists = psql(f"select 1 from pg_database where datname = '{DATABASE}'") == "1"
    if args.reload and exists:
        psql(f'DROP DATABASE "{DATABASE}" WITH (FORCE)')
        exists = False
    if not exists:
        psql(f'CREATE DATABASE "{DATABASE}"')
    stack = Stack(database_url=DSN.replace("postgresql://", "postgresql+asyncpg://"),
                  amqp_url=reset_vhost("metro_bench"), base_port=BASE_PORT,
                  log_dir=Path(__file__).resolve().parents[1] / "test-artifacts" / "bench",
                  extra_env={"{P}DB_POOL_SIZE": "20", "{P}LOG_LEVEL": "WARNING"})
    try:
        for package in ("consumption", "gateway"):
            stack.start(package, wait=False)
        for package in ("consumption", "gateway"):
            stack.wait_ready(package, timeout=300)
        if not asyncio.run(loaded()):
            print(f"loading {HOMES} homes × {(LAST_DAY - FIRST_DAY).days + 1} days into {DATABASE} with COPY")
            asyncio.run(load())
        print(f"data ready after {time.perf_counter() - t0:.0f} s")
        if args.load_only:
            return
        print(f"signing up {args.residents} residents")
        users = [ApiUser(stack.url("gateway")).signup() for _ in range(args.residents)]
        sessions = [u.http.cookies["metro_session"] for u in users]
        meters = asyncio.run(give_homes_to([u.account["id"] for u in users]))
        for u in users:
            u.close()
        asyncio.run(measure(stack.url("gateway"), stack.url("consumption"), sessions, meters, args.seconds))
    finally:
        stack.stop_all()
    print(f"\nwhole bench: {time.perf_counter() - t0:.0f} s. The machine is shared with other engineers' test "
          "runs: figures are indicative, compare the ratios.")


if __name__ == "__main__":
    main()
