"""Test session set-up: a fresh database and RabbitMQ virtual host, and the real services started once."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.client import ApiUser
from tests.support.stack import Stack, reset_database, reset_vhost

ARTIFACTS = Path(os.environ.get("METRO_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))


@pytest.fixture(scope="session")
def database_url() -> str:
    return reset_database("metroenergies_test")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return reset_vhost("metro_test")


@pytest.fixture(scope="session")
def stack(database_url, amqp_url):
    s = Stack(database_url=database_url, amqp_url=amqp_url, base_port=18000, log_dir=ARTIFACTS / "logs")
    s.start_all()
    yield s
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
