"""What Prometheus reads: the metrics port of each service, and the probes that refresh its gauges.

``/metrics`` is not on the public app: a small HTTP server of prometheus_client answers on
``metrics_port`` (by default the service's port + 1100), which only the monitoring network reaches. Gauges that are read from the
database, the broker or the pool are refreshed by probes every ``metrics_interval_s``: the shared ones here
(pool use, outbox lag, dead-letter depth) and the service's own (``ServiceSpec.probes``)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from prometheus_client import start_http_server

from metro.metrics import DB_POOL_CAPACITY, DB_POOL_CHECKED_OUT, DLQ_DEPTH, OUTBOX_LAG, OUTBOX_PENDING
from metro.outbox import backlog
from metro.workers import repeat

if TYPE_CHECKING:
    from metro.app import Runtime

log = logging.getLogger(__name__)

Probe = Callable[["Runtime"], Awaitable[None]]
METRICS_PORT_OFFSET = 1100


class MetricsServer:
    """prometheus_client's server in its own thread: a scrape never waits for the event loop."""

    def __init__(self, host: str, port: int):
        self.server, self.thread = start_http_server(port, addr=host)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def pool_probe(rt: Runtime) -> None:
    checked_out, capacity = rt.db.pool_use()
    DB_POOL_CHECKED_OUT.labels(rt.name).set(checked_out)
    DB_POOL_CAPACITY.labels(rt.name).set(capacity)


async def outbox_probe(rt: Runtime) -> None:
    if rt.outbox is None:
        return
    pending, age = await backlog(rt.db, rt.outbox)
    OUTBOX_PENDING.labels(rt.outbox.producer).set(pending)
    OUTBOX_LAG.labels(rt.outbox.producer).set(age)


def dlq_probe(queues: list[str]) -> Probe:
    async def probe(rt: Runtime) -> None:
        if rt.bus is None or not queues:
            return
        for queue, depth in (await rt.bus.depths([f"{q}.dlq" for q in queues])).items():
            DLQ_DEPTH.labels(queue).set(depth)
    return probe


async def run_probes(rt: Runtime, probes: list[Probe]) -> None:
    async def once() -> None:
        for probe in probes:
            try:
                await asyncio.wait_for(probe(rt), rt.settings.metrics_interval_s * 2)
            except Exception as exc:  # a gauge left stale is better than a loop that stops
                log.warning("metrics probe failed", extra={"probe": getattr(probe, "__qualname__", "?"),
                                                           "error": repr(exc)[:300]})
    await repeat(rt.stop, "metrics probes", once, rt.settings.metrics_interval_s)
