"""Periodic jobs: weekly and monthly reports, monthly threshold checks, and the scheduler that runs them."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from decimal import Decimal

from metro.db import Database
from metro.errors import AppError
from metro.schemas.notify import AlertKind
from metro.service_auth import Principal, ServiceClient
from metro.workers import repeat
from notify import digest, i18n, render, repository, service

log = logging.getLogger(__name__)


def last_period(frequency: str, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The last complete period before ``today``: (first day, first day after, label)."""
    if frequency == "monthly":
        end = today.replace(day=1)
        start = (end - dt.timedelta(days=1)).replace(day=1)
        return start, end, start.strftime("%Y-%m")
    end = today - dt.timedelta(days=today.weekday())
    start = end - dt.timedelta(days=7)
    year, week, _ = start.isocalendar()
    return start, end, f"{year}-W{week:02d}"


def period_of(frequency: str, label: str) -> tuple[dt.date, dt.date, str]:
    if frequency == "monthly":
        start = dt.date.fromisoformat(label + "-01")
        return start, (start + dt.timedelta(days=32)).replace(day=1), label
    start = dt.datetime.strptime(label + "-1", "%G-W%V-%u").date()
    return start, start + dt.timedelta(days=7), label


async def run_reports(db: Database, services: ServiceClient, config: service.MailConfig, frequency: str,
                      start: dt.date, end: dt.date, label: str, *, concurrency: int = 16,
                      chunk: int = 500) -> dict:
    """Records one report e-mail per resident who wants this frequency; a re-run records nothing new."""
    began = time.perf_counter()
    listed = await services.json("consumption", "GET", "/internal/accounts", params={"with_meters": "true"})
    accounts = [uuid.UUID(a) for a in listed["accounts"]]
    stats = {"accounts": len(accounts), "recorded": 0, "skipped": 0, "failed": 0}
    sem = asyncio.Semaphore(concurrency)

    async def one(account_id: uuid.UUID, email_language: str | None, settings: dict | None) -> dict | None:
        async with sem:
            try:
                body = await services.json(
                    "consumption", "GET", f"/internal/accounts/{account_id}/report",
                    principal=Principal(account_id), params={"from": start.isoformat(), "to": end.isoformat()})
            except AppError as exc:
                log.warning("report data unavailable", extra={"account_id": str(account_id), "error": exc.code})
                stats["failed"] += 1
                return None
        if not any((m.get("days") or 0) > (m.get("days_missing") or 0) for m in body.get("meters", [])):
            stats["skipped"] += 1
            return None
        lang = i18n.language(email_language)
        unsubscribe_url = config.unsubscribe_url(account_id, "reports")
        cid = f"chart-{label}@{config.mail_domain}"
        rendered = await asyncio.to_thread(render.report, lang, frequency, body, f"{config.public_url}/",
                                           unsubscribe_url, cid)
        return service.new_message(config, account_id, "report", f"report:{frequency}:{label}:{account_id}",
                                   rendered, unsubscribe_url)

    for i in range(0, len(accounts), chunk):
        part = accounts[i:i + chunk]
        async with db.session() as session:
            audience = await repository.audience(session, part)
            done = await repository.existing_keys(session, [f"report:{frequency}:{label}:{a}" for a in part])
        todo = []
        for a in part:
            email, language, settings = audience.get(a, (None, None, None))
            if email is None or service.effective(settings).report_frequency != frequency \
                    or f"report:{frequency}:{label}:{a}" in done:
                stats["skipped"] += 1
                continue
            todo.append((a, language, settings))
        rows = [m for m in await asyncio.gather(*(one(*t) for t in todo)) if m]
        async with db.session() as session, session.begin():
            for values in rows:
                stats["recorded"] += await repository.insert_message(session, values)
    stats["seconds"] = round(time.perf_counter() - began, 2)
    return stats


async def run_thresholds(db: Database, services: ServiceClient, today: dt.date) -> dict:
    """Alerts once per meter and month when the month's forecast crosses the resident's threshold."""
    month = today.replace(day=1)
    async with db.session() as session:
        rows = await repository.accounts_with_threshold(session)
    stats = {"accounts": len(rows), "alerts": 0}
    for row in rows:
        prefs = service.effective(row.settings)
        try:
            body = await services.json("consumption", "GET", f"/internal/accounts/{row.account_id}/month",
                                       principal=Principal(row.account_id),
                                       params={"month": month.strftime("%Y-%m")})
        except AppError as exc:
            log.warning("month forecast unavailable", extra={"account_id": str(row.account_id), "error": exc.code})
            continue
        async with db.session() as session, session.begin():
            for meter in body.get("meters", []):
                crossed = _crossing(meter, prefs)
                if crossed is None:
                    continue
                config = service.CONFIG
                assert config
                link = config.meter_url(meter["meter_id"])

                def draw(lang: str, unsubscribe_url: str, meter=meter, crossed=crossed):
                    forecast, limit = crossed(lang)
                    return render.threshold(lang, meter, month, forecast, limit, link, unsubscribe_url)
                await service.alert(session, row.account_id, AlertKind.threshold, "threshold",
                                    f"threshold:{meter['meter_id']}:{month:%Y-%m}", draw, link)
                stats["alerts"] += 1
    return stats


def _crossing(meter: dict, prefs):
    if prefs.threshold_kwh_per_month and meter.get("forecast_wh") is not None \
            and meter["forecast_wh"] > prefs.threshold_kwh_per_month * 1000:
        return lambda lang: (i18n.kwh(meter["forecast_wh"], lang),
                             i18n.kwh(prefs.threshold_kwh_per_month * 1000, lang))
    if prefs.threshold_eur_per_month and meter.get("forecast_eur") is not None \
            and Decimal(str(meter["forecast_eur"])) > Decimal(str(prefs.threshold_eur_per_month)):
        return lambda lang: (i18n.eur(meter["forecast_eur"], lang), i18n.eur(prefs.threshold_eur_per_month, lang))
    return None


def due_jobs(now: dt.datetime, report_hour: int) -> list[tuple[str, str, tuple[dt.date, dt.date] | None]]:
    """The jobs whose period is over at ``now``, once the report hour has passed (Europe/Paris): (job, period
    label, (first day, first day after) or None). From Monday morning, the week before's reports and the
    organisations' excess digest; the scheduler skips those already run."""
    local = now.astimezone(service.PARIS)
    if local.hour < report_hour:
        return []
    today = local.date()
    jobs: list[tuple[str, str, tuple[dt.date, dt.date] | None]] = [("thresholds", today.isoformat(), None)]
    for frequency in ("weekly", "monthly"):
        start, end, label = last_period(frequency, today)
        jobs.append((frequency, label, (start, end)))
    week_start, week_end, week = last_period("weekly", today)
    jobs.append(("org_digest", week, (week_start, week_end)))
    return jobs


async def run_due(db: Database, services: ServiceClient, config: service.MailConfig, settings,
                  now: dt.datetime | None = None) -> list[dict]:
    """What the scheduler runs: each job once per period, after the report hour (local time)."""
    done = []
    for job, label, period in due_jobs(now or dt.datetime.now(dt.UTC), settings.report_hour):
        async with db.session() as session:
            if await repository.run_done(session, job, label):
                continue
        if period is None:
            stats = await run_thresholds(db, services, today)
            recorded = stats["alerts"]
        elif job == "org_digest":
            stats = await digest.run_digests(db, services, config, *period, label)
            recorded = stats["recorded"]
        else:
            stats = await run_reports(db, services, config, job, *period, label,
                                      concurrency=settings.report_concurrency)
            recorded = stats["recorded"]
        async with db.session() as session, session.begin():
            await repository.record_run(session, job, label, recorded)
        log.info("scheduled job done", extra={"job": job, "period": label, **stats})
        done.append({"job": job, "period": label, **stats})
    return done


async def scheduler(rt) -> None:
    settings = rt.settings
    if not settings.schedule_enabled:
        return
    await repeat(rt.stop, "scheduled reports", lambda: run_due(rt.db, rt.services, service.CONFIG, settings),
                 settings.schedule_interval_seconds)
