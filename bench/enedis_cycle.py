"""First Data Connect collection (three years of history) of N sandbox PRMs under a 20 calls/s quota, in the
live generation (Data Connect 2026: mesure_synchrone_auto/v2 and the ITC contract APIs) unless told otherwise.

Prints the calls made, the 429s received (target 0) and the wall time against the quota's lower bound
(calls / quota per second; target within 1.2 of it). Own database and vhost; real processes.

    uv run python -m bench.enedis_cycle --prms 2000 --per-second 20
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import uuid

import aio_pika
import asyncpg
import httpx

from devstack import sandbox_enedis
from devstack.stack import ROOT, Stack, reset_database, reset_vhost
from metro.events import EXCHANGE, ConsentGranted, Envelope


async def grant_all(amqp_url: str, prms: list[str]) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1095)).isoformat()
        for prm in prms:
            env = Envelope(name=ConsentGranted.name, producer="bench", payload={
                "consent_id": str(uuid.uuid4()), "meter_id": str(uuid.uuid4()), "account_id": None,
                "dso": "enedis", "channel": "dataconnect", "identifier": prm, "energy": "electricity",
                "history_from": None, "expires_at": expires, "dso_reference": None})
            await exchange.publish(aio_pika.Message(env.to_bytes(), message_id=str(env.id)), routing_key=env.name)
    finally:
        await connection.close()


async def run(args: argparse.Namespace) -> int:
    database_url = reset_database("metroenergies_bench_enedis")
    amqp_url = reset_vhost("metro_bench_enedis")
    workdir = ROOT / "test-artifacts" / "bench_enedis"
    handle = sandbox_enedis.start(workdir, {"enedis": args.sandbox_port}, per_second=args.per_second,
                                  per_hour=args.per_hour, api_generation=args.api_generation)
    stack = Stack(database_url=database_url, amqp_url=amqp_url, base_port=args.base_port, log_dir=workdir / "logs",
                  # The daily readings' first collection alone: the load curve would spend the spare quota.
                  extra_env={**handle.service_env, "METRO_INGEST_ENEDIS_CONCURRENCY": str(args.concurrency),
                             "METRO_INGEST_ENEDIS_CURVE_COLLECTION": "false",
                             "METRO_INGEST_ENEDIS_DB_POOL_SIZE": "20"})
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    try:
        sandbox = httpx.Client(base_url=handle.url, timeout=120)
        prms = sandbox.post("/_sandbox/customers/bulk", json={"count": args.prms, "seed": 7}).json()["prms"]
        stack.start("ingest_enedis")
        sandbox.delete("/_sandbox/counters")
        await grant_all(amqp_url, prms)
        conn = await asyncpg.connect(dsn)
        try:
            while True:
                row = await conn.fetchrow(
                    "select (select count(*) from ingest_enedis.cursors) as cursors,"
                    " (select count(*) from ingest_enedis.cursors where last_outcome is not null) as done,"
                    " (select min(started_at) from ingest_enedis.cycles) as started,"
                    " (select max(finished_at) from ingest_enedis.cycles) as finished,"
                    " (select count(*) from ingest_enedis.cycles where finished_at is null) as open")
                if row["cursors"] == len(prms) and row["done"] == len(prms) and row["open"] == 0 and row["finished"]:
                    break
                print(f"  {row['done']}/{len(prms)} meters collected", file=sys.stderr, end="\r")
                await asyncio.sleep(2)
            outcomes = await conn.fetch("select last_outcome, count(*) from ingest_enedis.cursors group by 1")
            readings_events = await conn.fetchval(
                "select count(*) from ingest_enedis.outbox where name = 'readings.collected'")
            days = await conn.fetchval("select coalesce(sum(end_day - first_day), 0) from ingest_enedis.collected_ranges")
        finally:
            await conn.close()
        counters = sandbox.get("/_sandbox/counters").json()
        wall = (row["finished"] - row["started"]).total_seconds()
        calls = counters["calls"]
        bound = calls / args.per_second
        print(f"Data Connect generation: {args.api_generation}  PRMs: {len(prms)}  "
              f"outcomes: {dict((r[0], r[1]) for r in outcomes)}")
        print(f"calls made: {calls}  served: {counters['served']}  429 received: {counters['throttled']}  "
              f"peak calls in one second: {counters['peak_calls_in_one_second']}")
        print(f"readings.collected events: {readings_events}  days collected: {days}")
        print(f"wall time: {wall:.1f} s  quota lower bound: {bound:.1f} s  ratio: {wall / bound:.3f}")
        return 0
    finally:
        stack.stop_all()
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prms", type=int, default=2000)
    parser.add_argument("--per-second", type=int, default=20)
    parser.add_argument("--per-hour", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sandbox-port", type=int, default=19941)
    parser.add_argument("--base-port", type=int, default=19900)
    parser.add_argument("--api-generation", choices=("2026", "v5"), default="2026")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
