"""Monthly report run for many residents: render (Jinja2 + Pillow chart) + record (outbox row) + send (SMTP to
the local sink), against a baseline in the same run: bare e-mails of the same size over the same SMTP path.

The figures come from the real consumption service (a process) over the data set of bench/api_latency.py:
10 000 homes × 3 years of daily readings in the database metroenergies_bench, loaded with COPY on first use.
notify's tables live in a schema of that database that is rebuilt at every run; an SMTP sink runs on a spare port.
Run: uv run python -m bench.reports [RESIDENTS]   (default 10 000, at most the homes loaded)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import httpx

from bench.api_latency import DATABASE, DSN, loaded, load, psql
from devstack.stack import ROOT, Stack, reset_vhost

SMTP_PORT, SMTP_WEB_PORT, BASE_PORT = 29725, 29726, 29700
# The last whole month of the data set.
PERIOD = ("2026-10-01", "2026-11-01")


def wait(url: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def baseline(n: int, size: int) -> float:
    """Bare e-mails of about the report's size, 50 per SMTP session: the floor of the send path."""
    body = "x" * size
    t0 = time.perf_counter()
    for start in range(0, n, 50):
        with smtplib.SMTP("127.0.0.1", SMTP_PORT) as smtp:
            for i in range(start, min(start + 50, n)):
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = "bench@example.org", f"b{i}@example.org", "baseline"
                msg.set_content(body)
                smtp.send_message(msg)
    return n / (time.perf_counter() - t0)


async def run(n: int, consumption_url: str) -> None:
    import sqlalchemy as sa

    from metro.db import Database
    from metro.migrations import upgrade_async
    from metro.service_auth import ServiceClient, ServiceTokens
    from notify import reports, sender, service
    from notify.app import Settings
    from notify.models import messages, recipients

    url = DSN.replace("postgresql://", "postgresql+asyncpg://")
    settings = Settings(database_url=url, consumption_url=consumption_url, smtp_port=SMTP_PORT,
                        schedule_enabled=False, send_batch=100)
    conn = await asyncpg.connect(DSN)
    await conn.execute("DROP SCHEMA IF EXISTS notify CASCADE")
    accounts = [r[0] for r in await conn.fetch(
        "select distinct account_id from consumption.meters where erased_at is null order by 1 limit $1", n)]
    # The other homes are not this run's residents: the report run asks consumption for every account it lists.
    await conn.close()
    await upgrade_async(Path(service.__file__).parent, url)
    db = Database(url, pool_size=10)
    async with db.session() as s, s.begin():
        await s.execute(sa.insert(recipients), [
            {"account_id": a, "email": f"resident{i}@example.org",
             "language": "fr" if i % 3 else "en"} for i, a in enumerate(accounts)])
    config = service.configure(settings)
    services = ServiceClient(ServiceTokens.of("notify", settings), {"consumption": settings.consumption_url})
    start, end = dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1])
    t0 = time.perf_counter()
    stats = await reports.run_reports(db, services, config, "monthly", start, end, start.strftime("%Y-%m"),
                                      concurrency=16)
    t1 = time.perf_counter()
    sent = 0
    while k := await sender.send_due(db, settings):
        sent += k
    t2 = time.perf_counter()
    async with db.session() as s:
        by_status = dict((await s.execute(sa.select(messages.c.status, sa.func.count())
                                          .group_by(messages.c.status))).all())
        size = (await s.execute(sa.select(sa.func.avg(sa.func.length(messages.c.html_body)
                                                      + sa.func.length(messages.c.text_body)
                                                      + sa.func.length(messages.c.inline_png) * 4 / 3)))).scalar()
    await services.close()
    await db.dispose()
    base = baseline(min(n, 2000), int(size or 10000))
    total = t2 - t0
    print(f"residents: {len(accounts)} (of {stats['accounts']} accounts with meters)  recorded: {stats['recorded']}"
          f"  skipped: {stats['skipped']}  failed: {stats['failed']}  by status: {by_status}")
    print(f"render+record: {t1 - t0:.1f} s ({stats['recorded'] / (t1 - t0):.0f} reports/s)")
    print(f"send:          {t2 - t1:.1f} s ({sent / (t2 - t1):.0f} e-mails/s)")
    print(f"whole run:     {total:.1f} s ({n / total:.0f} residents/s)")
    print(f"baseline: bare e-mails of the same size ({int(size or 0)} bytes) over the same SMTP path: {base:.0f}/s;"
          f" send phase at {sent / (t2 - t1) / base:.2f}x of it, whole run at {n / total / base:.2f}x")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    if psql(f"select 1 from pg_database where datname = '{DATABASE}'") != "1":
        psql(f'CREATE DATABASE "{DATABASE}"')
    stack = Stack(database_url=DSN.replace("postgresql://", "postgresql+asyncpg://"),
                  amqp_url=reset_vhost("metro_bench"), base_port=BASE_PORT,
                  log_dir=ROOT / "test-artifacts" / "bench-reports",
                  extra_env={"{P}DB_POOL_SIZE": "20", "{P}LOG_LEVEL": "WARNING"})
    with tempfile.TemporaryDirectory() as tmp:
        sink = subprocess.Popen([sys.executable, "-m", "tests.sandboxes.smtp", "--port", str(SMTP_PORT),
                                 "--web-port", str(SMTP_WEB_PORT), "--dir", tmp], cwd=ROOT)
        try:
            stack.start("consumption", wait=True)
            if not asyncio.run(loaded()):
                print(f"loading the data set of bench/api_latency.py into {DATABASE} with COPY")
                asyncio.run(load())
            wait(f"http://127.0.0.1:{SMTP_WEB_PORT}/messages")
            asyncio.run(run(n, stack.url("consumption")))
            print(f"e-mails in the sink: {len(list(Path(tmp).glob('*.eml')))} (baseline included)")
        finally:
            stack.stop_all()
            sink.terminate()
            sink.wait(10)
        psql("DROP SCHEMA IF EXISTS notify CASCADE")


if __name__ == "__main__":
    main()
