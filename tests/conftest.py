"""Test session set-up: a fresh database and RabbitMQ virtual host, and the real services started once."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devstack import sandboxes as sandbox_support
from devstack.client import ApiUser
from devstack.stack import Stack, reset_database, reset_vhost

# Several suites may run at once on one machine (developers working side by side): each takes a slot,
# which gives it its own ports, database and virtual host.
SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
ARTIFACTS = Path(os.environ.get("METRO_TEST_ARTIFACTS",
                                Path(__file__).resolve().parents[1] / "test-artifacts" / f"slot{SLOT}"))
SANDBOX_PORTS = {k: v + 100 * SLOT for k, v in sandbox_support.TEST_PORTS.items()}


@pytest.fixture(scope="session")
def database_url() -> str:
    return reset_database(f"metroenergies_test_{SLOT}")


@pytest.fixture(scope="session")
def amqp_url():
    name = f"metro_test_{SLOT}"
    yield reset_vhost(name)
    # Quorum queues left behind cost the broker at every start: leave nothing.
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def sandboxes():
    handles = sandbox_support.start_all(ARTIFACTS / "sandboxes", SANDBOX_PORTS)
    try:
        yield handles
    finally:
        for h in handles.values():
            h.stop()


@pytest.fixture(scope="session")
def stack(database_url, amqp_url, sandboxes):
    env = {k: v for h in sandboxes.values() for k, v in h.service_env.items()}
    s = Stack(database_url=database_url, amqp_url=amqp_url, base_port=18000 + 100 * SLOT, log_dir=ARTIFACTS / "logs",
              extra_env=env)
    s.sandboxes = sandboxes
    try:
        s.start_all()
        yield s
    finally:
        s.stop_all()


@pytest.fixture
def resident(stack):
    user = ApiUser(stack.url("gateway")).signup()
    yield user
    user.close()


@pytest.fixture
def api(stack):
    """An anonymous client of the public API."""
    user = ApiUser(stack.url("gateway"))
    yield user
    user.close()
