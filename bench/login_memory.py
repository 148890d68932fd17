"""Memory of the gateway during 50 parallel logins, against the pod's 512 MiB limit (issue 18 item 2).

Each argon2id check takes 64 MiB. The gateway runs as a real process on its own database; 50 residents (one
hash, computed here, stored for all) log in at once with their right password. Its resident set is sampled
every 20 ms, and its peak (VmHWM, reset after start) read at the end. Measured twice in the same run: with the
default cap of 2 concurrent hashes, and uncapped as before (the default thread pool bounds it:
min(32, cores + 4) threads, 6 on this 2-core machine, more on a bigger node).

Run: uv run python -m bench.login_memory [--logins 50] [--caps 50,2]
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from argon2 import PasswordHasher
from devstack.client import STRONG_PASSWORD
from devstack.stack import Stack, reset_database, reset_vhost

from bench.procs import status_kib

DATABASE = "metroenergies_bench_login"
VHOST = "metro_bench_login"
BASE_PORT = 28100
POD_LIMIT_MIB = 512
LOGS = Path("var/bench/login_memory")


async def add_residents(dsn: str, n: int) -> list[str]:
    password_hash = PasswordHasher().hash(STRONG_PASSWORD)
    emails = [f"bench-{uuid.uuid4().hex[:10]}@example.org" for _ in range(n)]
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany("insert into gateway.accounts (id, email, password_hash) values ($1, $2, $3)",
                               [(uuid.uuid4(), e, password_hash) for e in emails])
    finally:
        await conn.close()
    return emails


async def burst(url: str, emails: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=url + "/api/v1", timeout=600) as http:
        answers = await asyncio.gather(*(
            http.post("/auth/login", json={"email": e, "password": STRONG_PASSWORD}) for e in emails))
    return [r.status_code for r in answers]


def measure(database_url: str, amqp_url: str, cap: int, emails: list[str]) -> dict:
    stack = Stack(database_url=database_url, amqp_url=amqp_url, base_port=BASE_PORT,
                  log_dir=LOGS,
                  extra_env={"{P}HASH_CONCURRENCY": str(cap), "{P}LOGIN_SLOW_AFTER_PER_CLIENT": "100000",
                             "{P}RUN_WORKERS": "false"})
    stack.start("gateway")
    try:
        pid = stack.processes["gateway"].pid
        url = stack.url("gateway")
        assert httpx.post(url + "/api/v1/auth/login", json={"email": emails[0], "password": STRONG_PASSWORD},
                          timeout=120).status_code == 200
        idle = status_kib(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current resident set
        sampled = [idle]
        done = threading.Event()

        def sample():
            while not done.is_set():
                sampled.append(status_kib(pid, "VmRSS"))
                time.sleep(0.02)
        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        codes = asyncio.run(burst(url, emails))
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        return {"cap": cap, "idle": idle / 1024, "peak": max(status_kib(pid, "VmHWM"), *sampled) / 1024,
                "seconds": seconds, "ok": codes.count(200), "n": len(codes)}
    finally:
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=50)
    parser.add_argument("--caps", default="50,2",
                        help="hash concurrency of each run; the first is the baseline")
    args = parser.parse_args()
    database_url = reset_database(DATABASE)
    amqp_url = reset_vhost(VHOST)
    try:
        migrate = Stack(database_url=database_url, amqp_url=amqp_url, base_port=BASE_PORT, log_dir=LOGS)
        subprocess.run([sys.executable, "-m", "gateway", "migrate"], env=migrate.env("gateway"), check=True,
                       capture_output=True)
        emails = asyncio.run(add_residents(database_url.replace("+asyncpg", ""), args.logins))
        results = [measure(database_url, amqp_url, int(cap), emails) for cap in args.caps.split(",")]
        print(f"{args.logins} parallel logins, pod limit {POD_LIMIT_MIB} MiB")
        print(f"{'hash concurrency':>18} {'idle MiB':>9} {'peak MiB':>9} {'seconds':>8} {'logged in':>10}")
        for r in results:
            label = f"{r['cap']} (baseline)" if r is results[0] else str(r["cap"])
            print(f"{label:>18} {r['idle']:9.0f} {r['peak']:9.0f} {r['seconds']:8.1f} {r['ok']:>6}/{r['n']}")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", VHOST], capture_output=True, timeout=120,
                       check=False)
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c",
                        f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'], capture_output=True,
                       check=False)


if __name__ == "__main__":
    main()
