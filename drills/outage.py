"""Outage drill (issue 18 item 6): a three-year Data Connect backfill of N sandbox meters during which PostgreSQL
is restarted, RabbitMQ is restarted and each service is killed -9 once (and started again by the drill, as a
kubelet would). Afterwards every (meter, day) stored by consumption must equal the sandbox's ground truth.

Prints: days expected, missing, wrong, extra, published twice, dead letters, unpublished outbox rows, and each
disruption with the progress it hit and how long the stack took to answer again. Exit 1 unless all are 0.

    uv run python -m drills.outage                      # the machine's servers, restarted with its commands
    uv run python -m drills.outage --servers private    # a private PostgreSQL and RabbitMQ node under /tmp

``--servers local`` restarts the PostgreSQL and RabbitMQ every local user shares (pg_ctlcluster, rabbitmqctl
stop then rabbitmq-server -detached): run it on a quiet machine. Whatever happens (an error, Ctrl-C, SIGTERM),
the drill starts them again before it exits. ``--servers private`` runs its own PostgreSQL 15 cluster (initdb,
pg_ctl as user postgres) and its own RabbitMQ node (RABBITMQ_NODENAME=metro-drill-<slot>@localhost), on ports
of their own, and removes them afterwards: the shared servers are not touched.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aio_pika
import asyncpg
import httpx

from devstack import sandbox_enedis
from devstack.stack import PACKAGES, ROOT, Stack, reset_database, reset_vhost
from ingest_enedis.dataconnect_calendar import add_months, earliest_history_day, latest_published_day
from metro import dlq
from metro.app import consumers_of, queue_name
from metro.events import EXCHANGE, ConsentGranted, Envelope, ReadingsCollected

SLOT = int(os.environ.get("METRO_TEST_SLOT", "0"))
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DRILL_DB = "metroenergies_drill"
PARIS = __import__("zoneinfo").ZoneInfo("Europe/Paris")


def run(cmd: list[str], *, timeout: float = 180, env: dict[str, str] | None = None, cwd: str | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd, check=check)


def wait_port(port: int, timeout: float = 120) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise RuntimeError(f"nothing answers on port {port} after {timeout}s")


class Servers:
    """The PostgreSQL and RabbitMQ the drill restarts."""
    pg_port: int
    amqp_port: int

    def start(self) -> None: ...
    def restart_postgres(self) -> None: ...
    def restart_rabbitmq(self) -> None: ...
    def restore(self) -> None: ...
    def database(self) -> str: ...
    def vhost(self) -> str: ...

    def wait_postgres(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.pg_port)], check=False).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not come back")
            time.sleep(0.3)


class LocalServers(Servers):
    """The machine's servers, restarted with its own commands (scripts/ensure-services.sh starts them)."""
    pg_port, amqp_port = 5432, 5672

    def start(self) -> None:
        run(["bash", str(ROOT / "scripts/ensure-services.sh")])

    def database(self) -> str:
        return reset_database(DRILL_DB)

    def vhost(self) -> str:
        return reset_vhost("metro_drill")

    def restart_postgres(self) -> None:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"])
        self.wait_postgres()

    def restart_rabbitmq(self) -> None:
        run(["rabbitmqctl", "stop"])
        run(["rabbitmq-server", "-detached"])
        wait_port(self.amqp_port)
        run(["rabbitmq-diagnostics", "-q", "check_running"], check=False)

    def restore(self) -> None:
        run(["bash", str(ROOT / "scripts/ensure-services.sh")], check=False)
        run(["rabbitmqctl", "-q", "delete_vhost", "metro_drill"], check=False)


class PrivateServers(Servers):
    """A PostgreSQL cluster and a RabbitMQ node of the drill's own under /tmp, removed afterwards."""

    def __init__(self, slot: int):
        self.base = Path(f"/tmp/metro-drill-{slot}")
        self.pg_port, self.amqp_port = 55400 + slot, 56400 + slot
        self.node = f"metro-drill-{slot}@localhost"
        self.pg_dir, self.rabbit_dir = self.base / "postgres", self.base / "rabbitmq"

    def _pg_ctl(self, *args: str) -> None:
        run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir / "data"),
             "-l", str(self.pg_dir / "log"), "-w", *args])

    def _rabbit_env(self) -> dict[str, str]:
        d = self.rabbit_dir
        return {"PATH": os.environ["PATH"], "HOME": "/var/lib/rabbitmq", "RABBITMQ_NODENAME": self.node,
                "RABBITMQ_NODE_PORT": str(self.amqp_port), "RABBITMQ_DIST_PORT": str(self.amqp_port + 100),
                "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
                "RABBITMQ_PID_FILE": str(d / "pid"), "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins")}

    def _rabbit(self, script: str, *args: str, check: bool = True) -> None:
        env = [f"{k}={v}" for k, v in self._rabbit_env().items()]
        run(["runuser", "-u", "rabbitmq", "--", "env", *env, f"/usr/lib/rabbitmq/bin/{script}", *args],
            cwd="/var/lib/rabbitmq", check=check)

    def start(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        self.pg_dir.mkdir(parents=True)
        self.base.chmod(0o755)
        shutil.chown(self.pg_dir, "postgres", "postgres")
        run(["runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(self.pg_dir / "data"),
             "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        with open(self.pg_dir / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"port = {self.pg_port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.pg_dir}'\nmax_connections = 300\n")
        self._pg_ctl("start")
        for sub in ("mnesia", "log"):
            (self.rabbit_dir / sub).mkdir(parents=True)
        (self.rabbit_dir / "enabled_plugins").write_text("[].\n")
        (self.rabbit_dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\n")
        run(["chown", "-R", "rabbitmq:rabbitmq", str(self.rabbit_dir)])
        self._start_rabbitmq()

    def _start_rabbitmq(self) -> None:
        self._rabbit("rabbitmq-server", "-detached")
        self._rabbit("rabbitmqctl", "-n", self.node, "wait", str(self.rabbit_dir / "pid"), "--timeout", "120")

    def database(self) -> str:
        run(["psql", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "-qc",
             f'CREATE DATABASE "{DRILL_DB}"'])
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/{DRILL_DB}"

    def vhost(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    def restart_postgres(self) -> None:
        self._pg_ctl("-m", "fast", "restart")
        self.wait_postgres()

    def restart_rabbitmq(self) -> None:
        self._rabbit("rabbitmqctl", "-n", self.node, "stop")
        self._start_rabbitmq()

    def restore(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def stop(self) -> None:
        if (self.pg_dir / "data" / "postmaster.pid").exists():
            run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir / "data"),
                 "-m", "fast", "-w", "stop"], check=False)
        if (self.rabbit_dir / "pid").exists():
            self._rabbit("rabbitmqctl", "-n", self.node, "stop", check=False)


class Kubelet:
    """Starts again any service process that exited (or was killed) and counts it."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.lock = asyncio.Lock()
        self.restarts: dict[str, int] = {}

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(1)
            async with self.lock:
                for package in PACKAGES:
                    proc = self.stack.processes.get(package)
                    if proc is None or proc.poll() is not None:
                        self.stack.processes.pop(package, None)
                        self.restarts[package] = self.restarts.get(package, 0) + 1
                        await asyncio.to_thread(self.stack.start, package, False)

    async def kill_and_restart(self, package: str) -> None:
        async with self.lock:
            self.stack.kill(package)
            await asyncio.to_thread(self.stack.start, package, False)
        await asyncio.to_thread(self.stack.wait_ready, package)


def history_start(today: dt.date) -> dt.date:
    start = max(earliest_history_day(today), add_months(today, -36))
    # Cut to whole 365-day windows when a few days over them (ingest_enedis.service.history_start).
    whole, extra = divmod((today - start).days, 365)
    return start + dt.timedelta(days=extra) if whole and 0 < extra <= 7 else start


async def grant_all(amqp_url: str, meters: dict[str, uuid.UUID]) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1095)).isoformat()
        for prm, meter_id in meters.items():
            env = Envelope(name=ConsentGranted.name, producer="drill", payload={
                "consent_id": str(uuid.uuid4()), "meter_id": str(meter_id), "account_id": None,
                "dso": "enedis", "channel": "dataconnect", "identifier": prm, "energy": "electricity",
                "history_from": None, "expires_at": expires, "dso_reference": None})
            await exchange.publish(aio_pika.Message(env.to_bytes(), message_id=str(env.id),
                                                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                                   routing_key=env.name)
    finally:
        await connection.close()


async def query(dsn: str, sql: str, *args):
    """One query, or None while the database is away (it is restarted during the drill)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return await conn.fetch(sql, *args)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None
    finally:
        await conn.close()


PROGRESS = """select (select count(*) from ingest_enedis.cursors where last_outcome is not null) as done,
                     (select count(*) from ingest_enedis.cycles where finished_at is null) as open,
                     (select count(*) from ingest_enedis.outbox where published_at is null) as unpublished,
                     (select count(*) from consumption.outbox where published_at is null) as unpublished_c"""


async def progress(dsn: str, meters: int) -> float | None:
    rows = await query(dsn, "select count(*) from ingest_enedis.cursors where last_outcome is not null")
    return None if rows is None else rows[0][0] / meters


async def settled(dsn: str, amqp_url: str, meters: int) -> bool:
    rows = await query(dsn, PROGRESS)
    if rows is None or rows[0]["done"] < meters or rows[0]["open"] or rows[0]["unpublished"] or rows[0]["unpublished_c"]:
        return False
    try:
        connection = await aio_pika.connect(amqp_url, timeout=5)
    except Exception:
        return False
    try:
        channel = await connection.channel()
        q = await channel.declare_queue("consumption.readings", passive=True)
        return q.declaration_result.message_count == 0
    except Exception:
        return False
    finally:
        await connection.close()


def service_queues() -> list[str]:
    queues = []
    for package in PACKAGES:
        spec = importlib.import_module(f"{package}.app").spec()
        queues += [queue_name(spec, purpose) for purpose in consumers_of(spec)]
    return queues


async def disrupt(plan: list[str], servers: Servers, kubelet: Kubelet, dsn: str, meters: int,
                  started: float, log: list[str]) -> None:
    for i, action in enumerate(plan):
        threshold = 0.05 + 0.8 * i / len(plan)
        while (await progress(dsn, meters) or 0) < threshold:
            await asyncio.sleep(0.5)
        done = await progress(dsn, meters) or 0
        t0 = time.monotonic()
        if action == "postgres":
            await asyncio.to_thread(servers.restart_postgres)
            what = "PostgreSQL restarted"
        elif action == "rabbitmq":
            await asyncio.to_thread(servers.restart_rabbitmq)
            what = "RabbitMQ restarted"
        else:
            await kubelet.kill_and_restart(action)
            what = f"{action} killed -9, started again"
        line = (f"  +{t0 - started:6.1f} s at {done:4.0%} collected: {what}, "
                f"back in {time.monotonic() - t0:.1f} s")
        print(line, flush=True)
        log.append(line)


async def verify(dsn: str, sandbox: httpx.Client, meters: dict[str, uuid.UUID], today: dt.date) -> dict[str, int]:
    start = history_start(today)
    end = latest_published_day(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)
    figures = {"days expected": 0, "days stored": 0, "missing": 0, "wrong value": 0, "extra": 0,
               "published twice": 0}
    conn = await asyncpg.connect(dsn)
    try:
        twice = await conn.fetchval("""
            select count(*) from (
              select payload->>'meter_id' as meter, r->>0 as day from ingest_enedis.outbox,
                     jsonb_array_elements(payload->'readings') r
              where name = $1 group by 1, 2 having count(distinct id) > 1) d""", ReadingsCollected.name)
        figures["published twice"] = twice
        for prm, meter_id in meters.items():
            truth = sandbox.get(f"/_sandbox/ground_truth/{prm}",
                                params={"start": start.isoformat(), "end": end.isoformat()}).json()
            expected = {dt.date.fromisoformat(d["date"]): d["value"] for d in truth["days"]}
            stored = {r["day"]: r["wh"] for r in await conn.fetch(
                "select day, wh from consumption.readings where meter_id = $1 and day >= $2 and day < $3",
                meter_id, start, end)}
            figures["days expected"] += len(expected)
            figures["days stored"] += len(stored)
            figures["missing"] += len(expected.keys() - stored.keys())
            figures["extra"] += len(stored.keys() - expected.keys())
            figures["wrong value"] += sum(1 for d in expected.keys() & stored.keys() if expected[d] != stored[d])
    finally:
        await conn.close()
    return figures


async def drill(args: argparse.Namespace, servers: Servers) -> int:
    started = time.monotonic()
    await asyncio.to_thread(servers.start)
    database_url, amqp_url = servers.database(), servers.vhost()
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    workdir = ROOT / "test-artifacts" / f"drill_outage_{SLOT}"
    shutil.rmtree(workdir / "logs", ignore_errors=True)
    handle = sandbox_enedis.start(workdir, {"enedis": args.sandbox_port}, per_second=args.per_second,
                                  per_hour=1_000_000)
    stack = Stack(database_url=database_url, amqp_url=amqp_url, base_port=args.base_port, log_dir=workdir / "logs",
                  extra_env={**handle.service_env, "METRO_INGEST_ENEDIS_DB_POOL_SIZE": "10",
                             # The service's own lease (the sandbox's 8 s suits tests): under a slow quota a meter
                             # may wait longer than 8 s for its calls, and a lease that lapses mid-meter lets a
                             # second collection of it publish its days again.
                             "METRO_INGEST_ENEDIS_LEASE_SECONDS": str(args.lease_seconds)})
    kubelet = Kubelet(stack)
    watcher: asyncio.Task | None = None
    try:
        sandbox = httpx.Client(base_url=handle.url, timeout=120)
        prms = sandbox.post("/_sandbox/customers/bulk", json={"count": args.meters, "seed": 18}).json()["prms"]
        meters = {prm: uuid.uuid4() for prm in prms}
        await asyncio.to_thread(stack.start_all)
        watcher = asyncio.create_task(kubelet.watch())
        plan = ["ingest_enedis", "postgres", "consumption", "rabbitmq",
                *[p for p in PACKAGES if p not in ("ingest_enedis", "consumption")]]
        print(f"outage drill: {len(meters)} meters, three years each, quota {args.per_second} calls/s, "
              f"servers: {args.servers}", flush=True)
        backfill_started = time.monotonic()
        await grant_all(amqp_url, meters)
        log: list[str] = []
        await disrupt(plan, servers, kubelet, dsn, len(meters), backfill_started, log)
        deadline = time.monotonic() + args.timeout
        while not await settled(dsn, amqp_url, len(meters)):
            if time.monotonic() > deadline:
                print(f"not settled after {args.timeout} s", file=sys.stderr)
                break
            await asyncio.sleep(2)
        wall = time.monotonic() - backfill_started
        watcher.cancel()
        figures = await verify(dsn, sandbox, meters, dt.datetime.now(PARIS).date())
        letters = await dlq.list_dead_letters(amqp_url, service_queues())
        unpublished = 0
        for package in PACKAGES:
            rows = await query(dsn, f"select count(*) from {package}.outbox where published_at is null")
            unpublished += rows[0][0] if rows else 0
        pauses = sum(p.read_text(errors="replace").count("consumer paused") for p in (workdir / "logs").glob("*.log"))
        calls = sandbox.get("/_sandbox/counters").json()
        figures.update({"dead letters": len(letters), "unpublished outbox rows": unpublished})
        print(f"backfill settled in {wall:.1f} s; Data Connect calls {calls['calls']}, 429 received "
              f"{calls['throttled']}; consumer pauses logged {pauses}; "
              f"unplanned restarts by the drill {sum(kubelet.restarts.values())} {kubelet.restarts or ''}")
        for name, value in figures.items():
            print(f"  {name:>24}: {value}")
        for letter in letters:
            print(f"  dead letter {letter.event_id} {letter.queue} {letter.event}: {letter.reason[:100]}")
        bad = sum(figures[k] for k in ("missing", "wrong value", "extra", "published twice", "dead letters",
                                       "unpublished outbox rows"))
        print("outage drill: " + ("PASSED, nothing lost" if bad == 0 and figures["days expected"] else "FAILED")
              + f" (total {time.monotonic() - started:.0f} s)")
        return 0 if bad == 0 and figures["days expected"] else 1
    finally:
        if watcher:
            watcher.cancel()
        stack.stop_all()
        handle.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", choices=("local", "private"), default="local")
    parser.add_argument("--meters", type=int, default=200)
    parser.add_argument("--per-second", type=int, default=10, help="the Data Connect quota (sandbox and service)")
    parser.add_argument("--lease-seconds", type=float, default=120, help="ingest-enedis's lease on a meter")
    parser.add_argument("--keep", action="store_true", help="private servers: leave them and their data afterwards")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the backfill to settle")
    parser.add_argument("--sandbox-port", type=int, default=19951 + 100 * SLOT)
    parser.add_argument("--base-port", type=int, default=19960 + 100 * SLOT)
    args = parser.parse_args()
    servers: Servers = LocalServers() if args.servers == "local" else PrivateServers(SLOT)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    try:
        code = asyncio.run(drill(args, servers))
    except KeyboardInterrupt:
        print("outage drill interrupted", file=sys.stderr)
        code = 130
    finally:
        # The servers are left running as they were found (local) or removed (private), whatever happened.
        if not (args.keep and args.servers == "private"):
            servers.restore()
    sys.exit(code)


if __name__ == "__main__":
    main()
