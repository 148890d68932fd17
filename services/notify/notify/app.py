"""The notify service: preferences, in-app notifications, and e-mail (alerts, reports, consent reminders)."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from metro.app import Runtime, ServiceSpec
from metro.settings import ServiceSettings
from notify import api, digest, handlers, models, privacy, push, reports, sender, service


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="METRO_NOTIFY_", extra="ignore")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_timeout: float = 15
    # The relay outside local mode: STARTTLS with its certificate verified (smtp_ca_file: a private authority's
    # certificates, else the system's), then AUTH when a username is set. The local sink speaks plain SMTP.
    smtp_starttls: bool = False
    smtp_ca_file: str | None = None
    smtp_username: str | None = None
    smtp_password: str = ""
    mail_from: str = "MétroEnergies <no-reply@metroenergies.example.org>"
    # Where the resident's browser reaches the app: links in e-mails point there.
    public_url: str = "http://127.0.0.1:8000"
    unsubscribe_secret: str = "local-unsubscribe-secret-change-me"
    send_batch: int = 50
    send_idle_interval: float = 0.5
    send_lease_seconds: float = 120
    # Attempts the relay answered about the message itself (4xx): 2 s doubling to 2 min, over half an hour in all.
    # While the relay is unreachable messages wait without limit and go at most 2 min after it is back.
    send_max_attempts: int = 24
    send_backoff_seconds: float = 2
    send_backoff_max_seconds: float = 120
    # For failure tests only: wait this long between claiming messages and talking to SMTP.
    pause_before_smtp: float = 0
    schedule_enabled: bool = True
    schedule_interval_seconds: float = 900
    report_hour: int = 7
    report_concurrency: int = 16
    # Web Push: the VAPID private key (P-256, PEM; `openssl ecparam -name prime256v1 -genkey | openssl pkcs8
    # -topk8 -nocrypt`), empty in local mode (a key derived from a constant) and to offer no push elsewhere; the
    # contact the push services may write to; the push services whose addresses a browser may give.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:contact@metroenergies.example.org"
    push_services: list[str] = ["fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com",
                                "notify.windows.com"]
    push_timeout: float = 10
    push_ttl_seconds: int = 86_400

    def secrets(self) -> dict[str, str]:
        return {**super().secrets(), "unsubscribe_secret": self.unsubscribe_secret}

    @model_validator(mode="after")
    def _no_password_in_clear(self):
        if self.smtp_username and not self.smtp_starttls:
            raise ValueError("smtp_username is set without smtp_starttls: the password would cross in clear")
        push.check_vapid_key(self)
        return self


async def _configure(rt: Runtime) -> None:
    service.configure(rt.settings)


def spec() -> ServiceSpec:
    return ServiceSpec(name="notify", package_dir=Path(__file__).parent, routers=[api.router],
                       outbox_table=models.outbox, inbox_table=models.inbox, consumers=handlers.HANDLERS,
                       on_start=[_configure], workers=[sender.run, push.run, reports.scheduler],
                       personal_data=privacy.PERSONAL_DATA, before_erase=privacy.before_erase,
                       after_erase=privacy.after_erase)


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frequency", choices=["monthly", "weekly", "org_digest"], default="monthly",
                   help="org_digest: the organisations' weekly excess digest")
    p.add_argument("--period", help="2025-01 for a month, 2025-W03 for a week; default: the last complete one")
    p.add_argument("--send", action="store_true", help="also send every due e-mail before returning")


async def report_command(args: argparse.Namespace, settings: Settings) -> int:
    """Runs the report cycle now (and, with --send, delivers what is due)."""
    from metro.db import Database
    from metro.migrations import upgrade_async
    from metro.service_auth import ServiceClient, ServiceTokens

    await upgrade_async(Path(__file__).parent, settings.database_url)
    config = service.configure(settings)
    db = Database.of(settings, "notify-report")
    services = ServiceClient(ServiceTokens.of("notify", settings),
                             {"consumption": settings.consumption_url, "consent": settings.consent_url})
    try:
        frequency = "weekly" if args.frequency == "org_digest" else args.frequency
        if args.period:
            start, end, label = reports.period_of(frequency, args.period)
        else:
            start, end, label = reports.last_period(frequency, dt.date.today())
        if args.frequency == "org_digest":
            stats = await digest.run_digests(db, services, config, start, end, label)
        else:
            stats = await reports.run_reports(db, services, config, args.frequency, start, end, label,
                                              concurrency=settings.report_concurrency)
        print(f"report {args.frequency} {label}: {stats}", flush=True)
        if args.send:
            sent = 0
            while n := await sender.send_due(db, settings):
                sent += n
            print(f"sent batches covering {sent} messages", flush=True)
    finally:
        await services.close()
        await db.dispose()
    return 0


COMMANDS = {"report": (report_command, _report_args)}
