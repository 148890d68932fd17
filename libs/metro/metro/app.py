"""The shape every service shares: settings, engine, bus, outbox relay, consumers, health and metrics."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from metro.bus import Bus, Consumer, Handler, OrderKey, dlq_name
from metro.db import Database
from metro.erasure import erasure_handler, personal_data_router
from metro.errors import document_refusals, install_error_handlers
from metro.events import ErasureRequested, Event
from metro.logs import accepted_request_id, configure_logging, correlation_id, new_correlation_id
from metro.metrics import REQUESTS
from metro.migrations import upgrade_async
from metro.observe import MetricsServer, Probe, dlq_probe, outbox_probe, pool_probe, run_probes
from metro.outbox import Outbox, OutboxRelay
from metro.personal_data import PersonalTable, PrivacyHook
from metro.retention import housekeeping
from metro.services import INTERNAL
from metro.service_auth import Caller, ServiceClient, ServiceTokens, caller
from metro.settings import ServiceSettings

log = logging.getLogger(__name__)
access_log = logging.getLogger("metro.access")


@dataclass
class Runtime:
    """What a running service holds; reachable as ``app.state.runtime`` and passed to workers."""
    name: str
    settings: ServiceSettings
    db: Database
    bus: Bus | None
    tokens: ServiceTokens
    services: ServiceClient
    outbox: Outbox | None
    inbox: sa.Table | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    extras: dict = field(default_factory=dict)


@dataclass
class ServiceSpec:
    name: str
    package_dir: Path
    routers: list[APIRouter]
    outbox_table: sa.Table | None = None
    inbox_table: sa.Table | None = None
    # queue purpose -> {event model -> handler}
    consumers: dict[str, dict[type[Event], Handler]] = field(default_factory=dict)
    # queue purpose -> the key its events keep their order by; such a queue handles batches in parallel
    order_keys: dict[str, OrderKey] = field(default_factory=dict)
    workers: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    on_start: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[Runtime], Awaitable[None]]] = field(default_factory=list)
    needs_bus: bool = True
    # Whether a broker outage makes the service unready. The outbox keeps events until the broker is back,
    # so a service whose requests never wait on the broker stays in its Service's endpoints (the gateway).
    broker_in_readiness: bool = True
    # Services erase their registered rows when the deletion saga asks; the gateway runs the saga itself.
    erases_on_request: bool = True
    openapi: dict = field(default_factory=dict)
    # Called with the app and settings once the routers are in, e.g. to serve static files.
    configure: list[Callable[[FastAPI, ServiceSettings], None]] = field(default_factory=list)
    # The reads that warm each pooled connection at start (settings.db_pool_warm of them).
    warm_reads: Callable[[AsyncSession], Awaitable[Any]] | None = None
    # Its personal-data registry (privacy.PERSONAL_DATA), walked by the export and the erasure, and the privacy
    # hooks it has (metro.personal_data.PrivacyHook says what each does).
    personal_data: list[PersonalTable] = field(default_factory=list)
    before_erase: PrivacyHook | None = None
    after_erase: PrivacyHook | None = None
    withheld_meters: PrivacyHook | None = None
    # Refresh the service's own gauges (metro.metrics) every settings.metrics_interval_s, beside the shared
    # probes of metro.observe.
    probes: list[Probe] = field(default_factory=list)


class _RequestContext:
    """Pure ASGI middleware: the request id in (x-request-id, made here when absent or not a plain token) and
    out, request latency by route template, and one JSON access-log line per request. The line holds the route
    template, never the path or the query string: no identifier, token or personal datum reaches the logs."""

    def __init__(self, app, service: str):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        cid = accepted_request_id(headers.get(b"x-request-id", b"").decode("latin-1")) or new_correlation_id()
        token = correlation_id.set(cid)
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUESTS.labels(self.service, scope["method"], path, str(status["code"])).observe(duration)
            # Probes every few seconds would drown the requests people make.
            access_log.log(logging.DEBUG if path.startswith("/health/") else logging.INFO, "request", extra={
                "method": scope["method"], "route": path, "status": status["code"],
                "duration_ms": round(duration * 1000, 2)})
            correlation_id.reset(token)


async def dead_letter_depths(rt: Runtime) -> dict[str, int]:
    """Messages waiting in each of the service's dead-letter queues (``python -m <service> dlq list`` shows them)."""
    if rt.bus is None:
        return {}
    return await rt.bus.depths([dlq_name(q) for q in rt.extras.get("queues", [])])


def _dead_letters_router(name: str) -> APIRouter:
    router = APIRouter(prefix="/internal")

    @router.get("/dead-letters")
    async def dead_letters(request: Request, _: Annotated[Caller, Depends(caller("gateway"))]) -> dict[str, Any]:
        """The depth of each of this service's dead-letter queues, for the administrators' collection health."""
        depths = await dead_letter_depths(request.app.state.runtime)
        return {"service": name, "queues": depths, "total": sum(depths.values())}
    return router


def consumers_of(spec: ServiceSpec) -> dict[str, dict[type[Event], Handler]]:
    """The service's queues by purpose, with the erasure every service but the gateway consumes."""
    consumers = dict(spec.consumers)
    if spec.erases_on_request and spec.outbox_table is not None:
        handler = erasure_handler(spec.name, list(spec.personal_data), spec.outbox_table,
                                  before_erase=spec.before_erase, after_erase=spec.after_erase)
        consumers["erasure"] = {ErasureRequested: handler, **consumers.get("erasure", {})}
    return consumers


def queue_name(spec: ServiceSpec, purpose: str) -> str:
    return f"{spec.name}.{purpose}"


def create_service_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging(spec.name, settings.log_level)
        if settings.migrate_on_start:
            await upgrade_async(spec.package_dir, settings.database_url)
        db = Database.of(settings, spec.name)
        bus = Bus(settings.amqp_url) if spec.needs_bus else None
        if bus:
            await bus.connect()
        tokens = ServiceTokens.of(spec.name, settings)
        urls = {s: settings.url_of(s) for s in INTERNAL}
        services = ServiceClient(tokens, urls)
        outbox = Outbox(spec.outbox_table, spec.name) if spec.outbox_table is not None else None
        rt = Runtime(spec.name, settings, db, bus, tokens, services, outbox, spec.inbox_table)
        rt.extras["queues"] = [queue_name(spec, p) for p in consumers]
        app.state.runtime, app.state.db, app.state.tokens, app.state.settings = rt, db, tokens, settings
        for hook in spec.on_start:
            await hook(rt)
        await db.warm_up(settings.db_pool_warm, spec.warm_reads)
        metrics_server = MetricsServer(settings.host, settings.metrics_listen_port())
        probes = [pool_probe, outbox_probe, dlq_probe([f"{spec.name}.{p}" for p in consumers]), *spec.probes]
        tasks: list[asyncio.Task] = [asyncio.create_task(run_probes(rt, probes), name="metrics")]
        if settings.run_workers:
            if outbox and bus:
                tasks.append(asyncio.create_task(OutboxRelay(db, bus, outbox).run(rt.stop), name="outbox"))
            for purpose, handlers in consumers.items():
                consumer = Consumer(db, bus, queue_name(spec, purpose), handlers, spec.inbox_table,
                                    retry_delay_ms=settings.retry_delay_ms, max_retries=settings.max_retries,
                                    order_key=spec.order_keys.get(purpose))
                tasks.append(asyncio.create_task(consumer.run(rt.stop), name=f"consumer:{purpose}"))
            if outbox or spec.inbox_table is not None:
                tasks.append(asyncio.create_task(housekeeping(rt), name="housekeeping"))
            for worker in spec.workers:
                tasks.append(asyncio.create_task(worker(rt), name=worker.__name__))
        for t in tasks:
            t.add_done_callback(_log_crash)
        log.info("service started",
                 extra={"port": settings.port, "metrics_port": settings.metrics_listen_port()})
        try:
            yield
        finally:
            rt.stop.set()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            metrics_server.close()
            for hook in spec.on_stop:
                await hook(rt)
            await services.close()
            if bus:
                await bus.close()
            await db.dispose()

    registry = list(spec.personal_data)
    consumers = consumers_of(spec)

    app = FastAPI(title=f"MétroEnergies {spec.name}", lifespan=lifespan, **spec.openapi)
    install_error_handlers(app)
    document_refusals(app)
    app.add_middleware(_RequestContext, service=spec.name)

    @app.get("/health/live", include_in_schema=False)
    async def live():
        return {"status": "ok"}

    @app.get("/health/ready", include_in_schema=False)
    async def ready(request: Request):
        rt: Runtime = request.app.state.runtime
        checks = {}
        try:
            async with rt.db.engine.connect() as conn:
                await conn.execute(sa.text("select 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {type(exc).__name__}"
        if rt.bus is not None:
            checks["broker"] = "ok" if await rt.bus.ping() else "down"
        required = [v for k, v in checks.items() if k != "broker" or spec.broker_in_readiness]
        ok = all(v == "ok" for v in required)
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)

    for router in spec.routers:
        app.include_router(router)
    if spec.needs_bus and spec.name in INTERNAL:
        app.include_router(_dead_letters_router(spec.name))
    if registry:
        app.include_router(personal_data_router(registry, spec.withheld_meters))
    for configure in spec.configure:
        configure(app, settings)
    return app


def _log_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception():
        log.error("worker stopped", exc_info=task.exception(), extra={"worker": task.get_name()})
