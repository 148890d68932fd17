"""Test slots for parallel workers.

Every suite takes a slot (METRO_TEST_SLOT): its own ports, databases, RabbitMQ virtual host and artifacts, read by the
test modules when they are imported. When `make test` runs the suite on several pytest-xdist workers, each worker
takes its own slot from METRO_TEST_SLOTS (default "0,9": slot 9's ports fall between slot 0's and never meet them)
and starts its own stack, before any test module is collected.
"""
from __future__ import annotations

import os

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER.startswith("gw"):
    _slots = [s.strip() for s in os.environ.get("METRO_TEST_SLOTS", "0,9").split(",") if s.strip()]
    _index = int(_WORKER[2:])
    if _index >= len(_slots):
        raise RuntimeError(f"{_WORKER} has no test slot: METRO_TEST_SLOTS={','.join(_slots)} names {len(_slots)}")
    os.environ["METRO_TEST_SLOT"] = _slots[_index]
