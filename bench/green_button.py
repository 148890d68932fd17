"""Green Button export: peak memory (tracemalloc) and time writing the ESPI feed of several meters over three
years, streamed entry by entry as the export does, beside the baseline of holding the same feed as one tree
(what building it with lxml before serialising would keep), measured in the same run.
Run: uv run python -m bench.green_button [METERS] [DAYS]"""
from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
import tracemalloc
import uuid

from lxml import etree

from consumption.green_button import Meter, feed


def readings(days: int, start: dt.date):
    async def of(meter: Meter):
        for i in range(days):
            yield start + dt.timedelta(days=i), 5000 + (i * 37) % 9000, "estimated" if i % 29 == 0 else "measured"
    return of


async def streamed(meters: list[Meter], days: int, start: dt.date) -> int:
    size = 0
    async for chunk in feed(uuid.uuid4(), meters, readings(days, start), start, start + dt.timedelta(days=days)):
        size += len(chunk)  # sent on and dropped, as the response does
    return size


async def whole(meters: list[Meter], days: int, start: dt.date) -> etree._Element:
    body = b"".join([c async for c in feed(uuid.uuid4(), meters, readings(days, start), start,
                                           start + dt.timedelta(days=days))])
    return etree.fromstring(body)


def measure(label: str, coro) -> object:
    tracemalloc.start()
    began = time.perf_counter()
    result = asyncio.run(coro)
    elapsed = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {elapsed:.2f} s, peak Python heap {peak / 2**20:.1f} MiB")
    return result


def main() -> None:
    n_meters = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 1095
    meters = [Meter(uuid.uuid4(), "electricity" if i % 2 == 0 else "gas") for i in range(n_meters)]
    start = dt.date(2024, 1, 1)
    size = measure("streamed", streamed(meters, days, start))
    print(f"  {n_meters} meters x {days} days: {size / 2**20:.1f} MiB of XML, {n_meters * days} IntervalReadings")
    measure("baseline (whole document and tree held)", whole(meters, days, start))
    print("  (tracemalloc sees Python allocations; lxml's C tree is outside it, so the baseline is understated)")


if __name__ == "__main__":
    main()
