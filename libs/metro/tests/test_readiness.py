"""Readiness during a broker outage: the gateway stays in its Service's endpoints (its outbox waits for the
broker), a service that declares the broker needed leaves them."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx

from metro.app import ServiceSpec, create_service_app
from metro.settings import ServiceSettings


class _Connection:
    async def execute(self, statement):
        return None


class _Engine:
    @asynccontextmanager
    async def connect(self):
        yield _Connection()


class _BrokerDown:
    async def ping(self) -> bool:
        return False


async def _ready(broker_in_readiness: bool) -> httpx.Response:
    spec = ServiceSpec(name="probe", package_dir=Path("."), routers=[],
                       broker_in_readiness=broker_in_readiness)
    app = create_service_app(spec, ServiceSettings())
    app.state.runtime = SimpleNamespace(db=SimpleNamespace(engine=_Engine()), bus=_BrokerDown())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe") as client:
        return await client.get("/health/ready")


async def test_a_broker_outage_leaves_a_service_ready_when_it_does_not_wait_on_the_broker():
    response = await _ready(broker_in_readiness=False)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "down"}


async def test_a_broker_outage_makes_a_service_that_needs_it_unready():
    assert (await _ready(broker_in_readiness=True)).status_code == 503


def test_the_gateway_does_not_leave_service_on_a_broker_outage():
    from gateway.app import spec
    assert spec().broker_in_readiness is False
