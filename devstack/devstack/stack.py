"""Starts the real service processes against the real PostgreSQL and RabbitMQ, for tests and demos."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from metro.services import NAMES, PORTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = NAMES
# The services' local ports (metro.services), shifted so that the gateway answers on the stack's base port.
BASE_PORTS = {name: port - PORTS["gateway"] for name, port in PORTS.items()}
# Their metrics ports in the same block of 100 (base + 50 + offset): parallel test slots never collide.
METRICS_OFFSET = 50


@dataclass
class Stack:
    database_url: str
    amqp_url: str
    base_port: int
    log_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    sandboxes: dict = field(default_factory=dict)

    def port(self, package: str) -> int:
        return self.base_port + BASE_PORTS[package]

    def url(self, package: str) -> str:
        return f"http://127.0.0.1:{self.port(package)}"

    def metrics_port(self, package: str) -> int:
        return self.base_port + METRICS_OFFSET + BASE_PORTS[package]

    def metrics_url(self, package: str) -> str:
        """Where Prometheus would scrape the service: ``metrics_url(p) + "/metrics"``."""
        return f"http://127.0.0.1:{self.metrics_port(package)}"

    def env(self, package: str) -> dict[str, str]:
        prefix = f"METRO_{package.upper()}_"
        env = {**os.environ}
        values = {"DATABASE_URL": self.database_url, "AMQP_URL": self.amqp_url, "PORT": str(self.port(package)),
                  "METRICS_PORT": str(self.metrics_port(package)), "METRICS_INTERVAL_S": "2",
                  "RETRY_DELAY_MS": "300", "MAX_RETRIES": "3", "DB_POOL_SIZE": "3"}
        values.update({f"{p.upper()}_URL": self.url(p) for p in PACKAGES})
        # Time-driven sweeps run often in tests; tests move timestamps back rather than wait days.
        values.update({"SWEEP_INTERVAL": "PT2S", "ERASURE_SWEEP_INTERVAL": "PT2S"})
        # The Métropole's aggregates are recomputed seconds after their rollups change, not minutes.
        values.update({"AGGREGATES_SETTLE_SECONDS": "1", "AGGREGATES_EVERY_SECONDS": "3"})
        # consumption's queues (pricing, anomalies, aggregates) are looked at every 0.3 s when idle, not 2 s: each
        # test waits for a reading to be priced, rolled up and scanned, hop after hop.
        values["WORKER_INTERVAL_SECONDS"] = "0.3"
        # ingest_enedis's load curve looks again for the daily readings' first answer after 2 s, not 20 s.
        values["CURVE_DAILY_FIRST_WAIT_S"] = "2"
        env.update({prefix + k: v for k, v in values.items()})
        for key, value in self.extra_env.items():
            env[key.replace("{P}", prefix)] = value
        return env

    def start(self, package: str, wait: bool = True) -> None:
        for port in (self.port(package), self.metrics_port(package)):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise RuntimeError(f"port {port} for {package} is taken (a leftover process?)")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{package}.log", "ab")
        self.processes[package] = subprocess.Popen(
            [sys.executable, "-m", package, "serve"], cwd=ROOT, env=self.env(package),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait:
            self.wait_ready(package)

    def wait_ready(self, package: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.processes[package]
            if proc.poll() is not None:
                raise RuntimeError(f"{package} exited with {proc.returncode}; see {self.log_dir}/{package}.log")
            try:
                if httpx.get(f"{self.url(package)}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{package} not ready after {timeout}s; see {self.log_dir}/{package}.log")

    def kill(self, package: str) -> None:
        """SIGKILL: no graceful shutdown, as a crash would be."""
        proc = self.processes.pop(package, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def stop(self, package: str) -> None:
        proc = self.processes.pop(package, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def start_all(self, packages=PACKAGES) -> None:
        for p in packages:
            self.start(p, wait=False)
        try:
            for p in packages:
                self.wait_ready(p)
        except BaseException:
            self.stop_all()
            raise

    def stop_all(self) -> None:
        for p in list(self.processes):
            self.stop(p)


def reset_database(name: str) -> str:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True, capture_output=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def reset_vhost(name: str) -> str:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
                   check=True, capture_output=True)
    return f"amqp://guest:guest@127.0.0.1:5672/{name}"
