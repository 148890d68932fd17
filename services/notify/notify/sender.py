"""Delivers recorded e-mails over SMTP.

Guarantee: at least once, with deduplication. A message is recorded (unique dedup key) before it is
sent; a sender claims due rows with FOR UPDATE SKIP LOCKED and marks them `sending` with a lease, so
replicas never send the same row concurrently. If a sender dies before SMTP accepted a message, the lease
runs out and the row is sent again. If it dies after SMTP accepted it but before recording `sent`, the
message goes out a second time with the same Message-ID header, which lets the relay or the mailbox (and
the test sink) recognise the duplicate. The lease must exceed the time one batch takes to send; a sender that
outlived its lease records nothing about rows another sender has claimed since (their outcome is the other's).

While the relay cannot be reached, messages wait however long the outage lasts, retried with a backoff
capped at `send_backoff_max_seconds`: only an answer about the message itself counts towards giving up.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa

from metro.db import Database
from metro.metrics import MAIL_FAILURES
from metro.workers import repeat
from notify import repository

log = logging.getLogger(__name__)

NO_ADDRESS = "no e-mail address known for this account yet"
for _outcome in ("retry", "failed", "unavailable"):  # exported at 0 from the start, so a rate has a baseline
    MAIL_FAILURES.labels(_outcome)


TOKEN_MARK = "{token}"


def build_mime(row: sa.Row, to: str, mail_from: str) -> EmailMessage:
    text, html = row.text_body, row.html_body
    if row.secret:
        text, html = text.replace(TOKEN_MARK, row.secret), html.replace(TOKEN_MARK, row.secret)
    msg = EmailMessage()
    msg["From"] = mail_from
    msg["To"] = to
    msg["Subject"] = row.subject
    msg["Message-ID"] = row.message_id
    msg["Date"] = format_datetime(row.created_at)
    msg["X-MetroEnergies-Kind"] = row.kind
    if row.unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    if row.inline_png:
        html_part = msg.get_payload()[1]
        html_part.add_related(row.inline_png, "image", "png", cid=f"<{row.inline_cid}>",
                              disposition="inline", filename="chart.png")
    return msg


def open_session(settings) -> smtplib.SMTP:
    """Connects to the relay; with ``smtp_starttls``, upgrades to TLS with the relay's certificate and name verified
    (against the system's authorities, or ``smtp_ca_file``) before anything else is said, then logs in when
    ``smtp_username`` is set."""
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context(cafile=settings.smtp_ca_file))
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver(settings, envelope_from: str,
            items: list[tuple[uuid.UUID, EmailMessage]]) -> dict[uuid.UUID, tuple[str, str | None]]:
    """Blocking: one SMTP session for the batch. Returns id → ("sent" | "retry" | "unavailable" | "failed",
    reason); "unavailable" means the relay was not there to answer about the message (unreachable, an untrusted
    certificate, credentials refused: the messages wait until it is fixed)."""
    results: dict[uuid.UUID, tuple[str, str | None]] = {}
    try:
        smtp = open_session(settings)
    except (OSError, smtplib.SMTPException) as exc:
        return {i: ("unavailable", f"SMTP unavailable: {exc!r}"[:500]) for i, _ in items}
    with smtp:
        for n, (i, msg) in enumerate(items):
            try:
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[msg["To"]])
                results[i] = ("sent", None)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [c for c, _ in exc.recipients.values()]
                results[i] = ("failed" if all(c >= 500 for c in codes) else "retry",
                              f"recipient refused: {exc.recipients!r}"[:500])
            except smtplib.SMTPResponseException as exc:
                results[i] = ("failed" if exc.smtp_code >= 500 else "retry",
                              f"{exc.smtp_code} {exc.smtp_error!r}"[:500])
                try:
                    smtp.rset()
                except (OSError, smtplib.SMTPException):
                    for j, _ in items[n + 1:]:
                        results[j] = ("unavailable", "SMTP session lost")
                    break
            except (OSError, smtplib.SMTPException) as exc:
                for j, _ in items[n:]:
                    results[j] = ("unavailable", f"SMTP session lost: {exc!r}"[:500])
                break
    return results


def backoff(attempts: int, base: float, ceiling: float) -> float:
    return min(ceiling, base * 2 ** max(attempts - 1, 0))


async def send_due(db: Database, settings) -> int:
    """Claims and sends one batch; returns how many rows were claimed."""
    async with db.session() as session, session.begin():
        rows = await repository.claim_due(session, settings.send_batch, settings.send_lease_seconds)
        known = await repository.addresses(session, {r.account_id for r in rows}) if rows else {}
    if not rows:
        return 0
    to = {r.id: r.to_address or known.get(r.account_id) for r in rows}
    if settings.pause_before_smtp:
        await asyncio.sleep(settings.pause_before_smtp)
    envelope_from = parseaddr(settings.mail_from)[1]
    items = [(r.id, build_mime(r, to[r.id], settings.mail_from)) for r in rows if to[r.id]]
    results = await asyncio.to_thread(deliver, settings, envelope_from, items) if items else {}
    now = dt.datetime.now(dt.UTC)
    sent, retry, failed = [], [], []
    for r in rows:
        outcome, reason = results.get(r.id, ("retry", NO_ADDRESS))
        if outcome != "sent":
            MAIL_FAILURES.labels(outcome).inc()
        if outcome == "sent":
            sent.append({"mid": r.id, "to": to[r.id]})
        elif outcome == "failed" or (outcome == "retry" and r.attempts >= settings.send_max_attempts):
            failed.append({"mid": r.id, "error": reason})
        else:
            delay = backoff(r.attempts, settings.send_backoff_seconds, settings.send_backoff_max_seconds)
            retry.append({"mid": r.id, "error": reason, "at": now + dt.timedelta(seconds=delay)})
    async with db.session() as session, session.begin():
        lost = await repository.settle(session, rows[0].lease_until, sent, retry, failed)
        # A message another sender took keeps its token: that sender needs it.
        await repository.forget_secrets(session, [m["mid"] for m in sent + failed if m["mid"] not in lost])
    if lost:
        log.warning("e-mail lease ran out and another sender took the messages: their outcome is theirs",
                    extra={"messages": len(lost)})
    if retry or failed:
        log.warning("e-mails not sent", extra={"retry": len(retry), "failed": len(failed),
                                               "error": (retry or failed)[0]["error"]})
    return len(rows)


async def run(rt) -> None:
    settings = rt.settings
    await repeat(rt.stop, "e-mail sender", lambda: send_due(rt.db, settings), settings.send_idle_interval,
                 while_busy=True)
