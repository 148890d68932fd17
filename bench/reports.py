"""Monthly report run for many residents: render (Jinja2 + Pillow chart) + record (outbox row) + send (SMTP to
the local sink), against a baseline in the same run: bare e-mails of the same size over the same SMTP path.

Uses its own database (metroenergies_bench_reports), an SMTP sink on a spare port, and a stub of the
consumption service's report endpoints (the figures are synthetic; what is measured is notify's work).
Run: uv run python bench/reports.py [RESIDENTS]   (default 10 000)
"""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

DB = "metroenergies_bench_reports"
SMTP_PORT, SMTP_WEB_PORT, STUB_PORT = 29725, 29726, 29727
PERIOD = ("2025-01-01", "2025-02-01")


def stub_consumption(port: int, n: int) -> None:
    """The consumption contract, answered from a seeded generator (deterministic per account)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    accounts = [str(uuid.UUID(int=i + 1)) for i in range(n)]

    @app.get("/internal/accounts")
    def all_accounts(with_meters: bool = True):
        return {"accounts": accounts}

    @app.get("/internal/accounts/{account_id}/report")
    def report(account_id: str):
        rnd = random.Random(account_id)
        start = dt.date.fromisoformat(PERIOD[0])
        meters = []
        for energy, price in (("electricity", 0.2016), ("gas", 0.11)):
            daily = [{"day": (start + dt.timedelta(days=d)).isoformat(), "wh": (wh := rnd.randint(4000, 40000)),
                      "eur": f"{wh * price / 1000:.2f}"} for d in range(31)]
            total = sum(x["wh"] for x in daily)
            meters.append({"meter_id": str(uuid.uuid5(uuid.UUID(account_id), energy)), "energy": energy,
                           "wh": total, "eur": f"{total * price / 1000:.2f}", "days": 31, "days_missing": 0,
                           "last_year_wh": int(total * rnd.uniform(0.8, 1.2)),
                           "peer_median_wh": int(total * rnd.uniform(0.8, 1.2)),
                           "peer_efficient_wh": int(total * 0.7), "rank": rnd.randint(1, 40), "group_size": 40,
                           "daily": daily})
        return {"account_id": account_id, "from": PERIOD[0], "to": PERIOD[1], "meters": meters}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


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


async def run(n: int) -> None:
    import sqlalchemy as sa

    from metro.db import Database
    from metro.migrations import upgrade_async
    from metro.service_auth import ServiceClient, ServiceTokens
    from notify import reports, sender, service
    from notify.app import Settings
    from notify.models import messages, recipients

    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DB}"
    settings = Settings(database_url=url, consumption_url=f"http://127.0.0.1:{STUB_PORT}", smtp_port=SMTP_PORT,
                        schedule_enabled=False, send_batch=100)
    await upgrade_async(Path(service.__file__).parent, url)
    db = Database(url, pool_size=10)
    async with db.session() as s, s.begin():
        await s.execute(sa.insert(recipients), [
            {"account_id": uuid.UUID(int=i + 1), "email": f"resident{i}@example.org",
             "language": "fr" if i % 3 else "en"} for i in range(n)])
    config = service.configure(settings)
    services = ServiceClient(ServiceTokens(settings.service_secret, "notify"), {"consumption": settings.consumption_url})
    start, end = dt.date.fromisoformat(PERIOD[0]), dt.date.fromisoformat(PERIOD[1])
    t0 = time.perf_counter()
    stats = await reports.run_reports(db, services, config, "monthly", start, end, "2025-01", concurrency=16)
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
    print(f"residents: {n}  recorded: {stats['recorded']}  by status: {by_status}")
    print(f"render+record: {t1 - t0:.1f} s ({stats['recorded'] / (t1 - t0):.0f} reports/s)")
    print(f"send:          {t2 - t1:.1f} s ({sent / (t2 - t1):.0f} e-mails/s)")
    print(f"whole run:     {total:.1f} s ({n / total:.0f} residents/s)")
    print(f"baseline: bare e-mails of the same size ({int(size or 0)} bytes) over the same SMTP path: {base:.0f}/s;"
          f" send phase at {sent / (t2 - t1) / base:.2f}x of it, whole run at {n / total / base:.2f}x")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--stub-consumption":
        stub_consumption(STUB_PORT, int(sys.argv[2]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'],
                   check=True, capture_output=True)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'CREATE DATABASE "{DB}"'],
                   check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as tmp:
        procs = [
            subprocess.Popen([sys.executable, "-m", "tests.sandboxes.smtp", "--port", str(SMTP_PORT),
                              "--web-port", str(SMTP_WEB_PORT), "--dir", tmp], cwd=ROOT),
            subprocess.Popen([sys.executable, __file__, "--stub-consumption", str(n)], cwd=ROOT),
        ]
        try:
            wait(f"http://127.0.0.1:{SMTP_WEB_PORT}/messages")
            wait(f"http://127.0.0.1:{STUB_PORT}/internal/accounts")
            asyncio.run(run(n))
            print(f"e-mails in the sink: {len(list(Path(tmp).glob('*.eml')))} (baseline included)")
        finally:
            for p in procs:
                p.terminate()
                p.wait(10)
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'],
                   capture_output=True)


if __name__ == "__main__":
    main()
