"""Readings per second from `readings.collected` messages through the real consumption service (its
batching, idempotent consumer) to committed rows, beside a raw COPY of the same rows (the physical limit).

    uv run python -m bench.ingest [--meters 1000] [--days 365] [--worker-interval S]

Uses its own database (metroenergies_bench_ingest) and RabbitMQ vhost (metro_bench_ingest).

The service runs with its production settings: its workers (pricing, anomaly scans, aggregates, peer
statistics) look at their queues every ``worker_interval_seconds`` (2 s), not the 0.3 s the test stack gives them
so that a test does not wait. ``--worker-interval 0.3`` gives the test stack's; ``--worker-interval 3600`` keeps
them asleep during the timed windows, so that the ingest is measured alone (the pricing and rollups that follow
it are bench.metro_scale's catch-up). Each timed phase starts once the stack is idle: a fresh
service first computes the peer statistics of its kept periods (68 of them, in a process of its own), which
would otherwise fall inside whichever phase runs then. The CPU each process spent in the consumer's window
is printed: the service (with its grouping process), PostgreSQL, RabbitMQ and the bench, which publishes.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import time
import uuid
from pathlib import Path

import aio_pika
import asyncpg

from bench.procs import cpu_by_part, spent
from devstack.db import raw_dsn
from devstack.events import readings_event
from devstack.stack import Stack, reset_database, reset_vhost
from metro.bus import Bus
from metro.events import EXCHANGE

START = dt.date(2023, 1, 1)


async def count(conn) -> int:
    return await conn.fetchval("select count(*) from consumption.readings")


async def idle(service: int, conn, timeout: float = 120) -> None:
    """Until every kept period's peer statistics are computed and the service's processes spend under 10 % of a
    core for two seconds (idle, its workers look at their queues: a few % at the test stack's interval)."""
    deadline, used = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        before = cpu_by_part({"service": service})["service"]
        await asyncio.sleep(2)
        pending = await conn.fetchval("select count(*) from consumption.peer_periods where computed_at is null")
        used = (cpu_by_part({"service": service})["service"] - before) / 2
        if pending == 0 and used < 0.1:
            return
    raise TimeoutError(f"the service did not become idle ({used} of a core)")


async def through_consumer(stack: Stack, events, rows: int) -> tuple[float, dict[str, float]]:
    """From the first publish until every message is handled (in the inbox) and committed; with each part's CPU
    seconds meanwhile."""
    pid = stack.processes["consumption"].pid
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    await idle(pid, conn)
    handled_before = await conn.fetchval("select count(*) from consumption.inbox")
    bus = Bus(stack.amqp_url)
    await bus.connect()
    # Serialised before the clock starts: the producer's work is not the consumer's.
    messages = [aio_pika.Message(e.to_bytes(), message_id=str(e.id), content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=e.name) for e in events]
    exchange = await bus.connection.channel(publisher_confirms=True)
    exchange = await exchange.get_exchange(EXCHANGE)
    await conn.execute("CHECKPOINT")  # every phase starts without dirty pages left by the one before
    t0, cpu0 = time.perf_counter(), cpu_by_part({"service": pid})
    await asyncio.gather(*(exchange.publish(m, routing_key=e.name) for m, e in zip(messages, events)))
    while True:
        n = await conn.fetchval("select count(*) from consumption.inbox")
        if n >= handled_before + len(events):
            break
        await asyncio.sleep(0.05)
    elapsed, cpu = time.perf_counter() - t0, spent(cpu0, cpu_by_part({"service": pid}))
    assert await count(conn) == rows, "rows missing or duplicated"
    await bus.close()
    await conn.close()
    return elapsed, cpu


async def raw_copy(stack: Stack, records, years: range) -> tuple[float, dict[str, float]]:
    """The best of three COPYs into an empty table of the readings' shape: partitioned by year, same key; with each
    part's CPU seconds in it (the bench encodes the rows)."""
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    await idle(stack.processes["consumption"].pid, conn)
    best, cpu = float("inf"), {}
    for _ in range(3):
        await conn.execute("DROP TABLE IF EXISTS bench_copy")
        await conn.execute("CREATE TABLE bench_copy (LIKE consumption.readings INCLUDING DEFAULTS) "
                           "PARTITION BY RANGE (day)")
        await conn.execute("ALTER TABLE bench_copy ADD PRIMARY KEY (meter_id, day)")
        for y in years:
            await conn.execute(f"CREATE TABLE bench_copy_{y} PARTITION OF bench_copy "
                               f"FOR VALUES FROM ('{y}-01-01') TO ('{y + 1}-01-01')")
        await conn.execute("CHECKPOINT")
        service = {"service": stack.processes["consumption"].pid}
        t0, cpu0 = time.perf_counter(), cpu_by_part(service)
        await conn.copy_records_to_table("bench_copy", records=records,
                                          columns=["meter_id", "day", "wh", "quality", "source"])
        if time.perf_counter() - t0 < best:
            best = time.perf_counter() - t0
            cpu = spent(cpu0, cpu_by_part(service))
    await conn.execute("DROP TABLE bench_copy")
    await conn.close()
    return best, cpu


def production_interval() -> float:
    from consumption.app import Settings
    return Settings.model_fields["worker_interval_seconds"].default


def show(cpu: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())


async def main(meters: int, days: int, worker_interval: float) -> None:
    rng = random.Random(7)
    ids = [uuid.uuid4() for _ in range(meters)]
    values = {m: [rng.randint(2000, 40000) for _ in range(days)] for m in ids}
    rows = meters * days
    records = [(m, START + dt.timedelta(days=i), v, "measured", "bench") for m in ids for i, v in enumerate(values[m])]

    stack = Stack(reset_database("metroenergies_bench_ingest"), reset_vhost("metro_bench_ingest"), base_port=27600,
                  log_dir=Path("test-artifacts/bench-ingest"), extra_env={"{P}WORKER_INTERVAL_SECONDS": str(worker_interval)})
    stack.start("consumption")  # migrates: the readings table exists for the baseline to copy its shape
    try:
        copy_s, copy_cpu = await raw_copy(stack, records, range(START.year, records[-1][1].year + 1))
        first = [readings_event(m, START, values[m], source="bench") for m in ids]
        consumer_s, consumer_cpu = await through_consumer(stack, first, rows)
        # A replay with new event ids: the upsert keyed on (meter_id, day) must change nothing.
        replay = [readings_event(m, START, values[m], source="bench") for m in ids]
        replay_s, replay_cpu = await through_consumer(stack, replay, rows)
    finally:
        stack.stop_all()
    copy_rate, consumer_rate, replay_rate = rows / copy_s, rows / consumer_s, rows / replay_s
    print(f"rows: {rows} ({meters} meters x {days} days, one message per meter)")
    print(f"raw COPY into an empty table (best of 3):{copy_rate:>10,.0f} rows/s  ({copy_s:.2f} s)"
          f"{'':18}CPU s: {show(copy_cpu)}")
    print(f"the service's workers look at their queues every {worker_interval:g} s"
          + (" (production's)" if worker_interval == production_interval() else ""))
    print(f"readings.collected -> consumer -> rows: {consumer_rate:>10,.0f} rows/s  ({consumer_s:.2f} s)"
          f"  ratio {consumer_rate / copy_rate:.2f} of COPY; CPU s: {show(consumer_cpu)}")
    print(f"same readings replayed (no change):     {replay_rate:>10,.0f} rows/s  ({replay_s:.2f} s)"
          f"  ratio {replay_rate / copy_rate:.2f} of COPY; CPU s: {show(replay_cpu)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--worker-interval", type=float, default=None,
                        help="seconds between the service's workers' looks at their queues (production's 2 s; the "
                             "tests' 0.3 s; 3600: the ingest alone)")
    args = parser.parse_args()
    asyncio.run(main(args.meters, args.days, args.worker_interval or production_interval()))
