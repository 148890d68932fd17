"""Readings per second from `readings.collected` messages through the real consumption service (its
batching, idempotent consumer) to committed rows, beside a raw COPY of the same rows (the physical limit).

    uv run python -m bench.ingest [--meters 1000] [--days 365]

Uses its own database (metroenergies_bench_ingest) and RabbitMQ vhost (metro_bench_ingest).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import datetime as dt
import random
import time
import uuid
from pathlib import Path

import aio_pika
import asyncpg

from devstack.db import raw_dsn
from devstack.events import readings_event
from devstack.stack import Stack, reset_database, reset_vhost
from metro.bus import Bus
from metro.events import EXCHANGE

START = dt.date(2023, 1, 1)


async def count(conn) -> int:
    return await conn.fetchval("select count(*) from consumption.readings")


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU so far: the machine is shared, so its own work is the steadier figure."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def through_consumer(stack: Stack, events, rows: int) -> tuple[float, float]:
    """From the first publish until every message is handled (in the inbox) and committed; with the consumption
    service's CPU seconds meanwhile."""
    pid = stack.processes["consumption"].pid
    conn = await asyncpg.connect(raw_dsn(stack.database_url))
    handled_before = await conn.fetchval("select count(*) from consumption.inbox")
    bus = Bus(stack.amqp_url)
    await bus.connect()
    # Serialised before the clock starts: the producer's work is not the consumer's.
    messages = [aio_pika.Message(e.to_bytes(), message_id=str(e.id), content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=e.name) for e in events]
    exchange = await bus.connection.channel(publisher_confirms=True)
    exchange = await exchange.get_exchange(EXCHANGE)
    await conn.execute("CHECKPOINT")  # every phase starts without dirty pages left by the one before
    t0, cpu0 = time.perf_counter(), cpu_seconds(pid)
    await asyncio.gather(*(exchange.publish(m, routing_key=e.name) for m, e in zip(messages, events)))
    while True:
        n = await conn.fetchval("select count(*) from consumption.inbox")
        if n >= handled_before + len(events):
            break
        await asyncio.sleep(0.05)
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    assert await count(conn) == rows, "rows missing or duplicated"
    await bus.close()
    await conn.close()
    return elapsed, cpu


async def raw_copy(database_url: str, records, years: range) -> float:
    """The best of three COPYs into an empty table of the readings' shape: partitioned by year, same key."""
    conn = await asyncpg.connect(raw_dsn(database_url))
    best = float("inf")
    for _ in range(3):
        await conn.execute("DROP TABLE IF EXISTS bench_copy")
        await conn.execute("CREATE TABLE bench_copy (LIKE consumption.readings INCLUDING DEFAULTS) "
                           "PARTITION BY RANGE (day)")
        await conn.execute("ALTER TABLE bench_copy ADD PRIMARY KEY (meter_id, day)")
        for y in years:
            await conn.execute(f"CREATE TABLE bench_copy_{y} PARTITION OF bench_copy "
                               f"FOR VALUES FROM ('{y}-01-01') TO ('{y + 1}-01-01')")
        await conn.execute("CHECKPOINT")
        t0 = time.perf_counter()
        await conn.copy_records_to_table("bench_copy", records=records,
                                          columns=["meter_id", "day", "wh", "quality", "source"])
        best = min(best, time.perf_counter() - t0)
    await conn.execute("DROP TABLE bench_copy")
    await conn.close()
    return best


async def main(meters: int, days: int) -> None:
    rng = random.Random(7)
    ids = [uuid.uuid4() for _ in range(meters)]
    values = {m: [rng.randint(2000, 40000) for _ in range(days)] for m in ids}
    rows = meters * days
    records = [(m, START + dt.timedelta(days=i), v, "measured", "bench") for m in ids for i, v in enumerate(values[m])]

    stack = Stack(reset_database("metroenergies_bench_ingest"), reset_vhost("metro_bench_ingest"), base_port=27600,
                  log_dir=Path("test-artifacts/bench-ingest"))
    stack.start("consumption")  # migrates: the readings table exists for the baseline to copy its shape
    try:
        copy_s = await raw_copy(stack.database_url, records, range(START.year, records[-1][1].year + 1))
        first = [readings_event(m, START, values[m], source="bench") for m in ids]
        consumer_s, consumer_cpu = await through_consumer(stack, first, rows)
        # A replay with new event ids: the upsert keyed on (meter_id, day) must change nothing.
        replay = [readings_event(m, START, values[m], source="bench") for m in ids]
        replay_s, replay_cpu = await through_consumer(stack, replay, rows)
    finally:
        stack.stop_all()
    copy_rate, consumer_rate, replay_rate = rows / copy_s, rows / consumer_s, rows / replay_s
    print(f"rows: {rows} ({meters} meters x {days} days, one message per meter)")
    print(f"raw COPY into an empty table (best of 3):{copy_rate:>10,.0f} rows/s  ({copy_s:.2f} s)")
    print(f"readings.collected -> consumer -> rows: {consumer_rate:>10,.0f} rows/s  ({consumer_s:.2f} s)"
          f"  ratio {consumer_rate / copy_rate:.2f} of COPY, service CPU {consumer_cpu:.2f} s")
    print(f"same readings replayed (no change):     {replay_rate:>10,.0f} rows/s  ({replay_s:.2f} s)"
          f"  ratio {replay_rate / copy_rate:.2f} of COPY, service CPU {replay_cpu:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    asyncio.run(main(args.meters, args.days))
