"""Issue 9: alerts, reports and reminders by e-mail through the real SMTP sink, with the real services."""
from __future__ import annotations

import asyncio
import datetime as dt
import random
import subprocess
import sys
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest

from devstack import sandbox_smtp
from devstack.client import ApiUser, admin_user
from devstack.db import fetchval, rows_mentioning
from devstack.events import publish, readings_event
from devstack.stack import ROOT
from devstack.waiting import eventually
from metro.events import AnomalyDetected, ConsentExpiring, ConsentRevoked, Envelope

PRM = lambda: "".join(random.choice("0123456789") for _ in range(14))  # noqa: E731
LEASE = 3
MAX_ATTEMPTS = 4
FAST_NOTIFY = {"METRO_NOTIFY_SCHEDULE_ENABLED": "false", "METRO_NOTIFY_SEND_BACKOFF_SECONDS": "0.5",
               "METRO_NOTIFY_SEND_BACKOFF_MAX_SECONDS": "2", "METRO_NOTIFY_SEND_LEASE_SECONDS": str(LEASE),
               "METRO_NOTIFY_SEND_IDLE_INTERVAL": "0.2", "METRO_NOTIFY_SEND_MAX_ATTEMPTS": str(MAX_ATTEMPTS)}


def restart_notify(stack, **env: str) -> None:
    stack.kill("notify")
    for key in [k for k in stack.extra_env if k.startswith("METRO_NOTIFY_PAUSE")]:
        del stack.extra_env[key]
    stack.extra_env.update(env)
    stack.start("notify")


@pytest.fixture(scope="module")
def notify(stack):
    saved = dict(stack.extra_env)
    restart_notify(stack, **FAST_NOTIFY, METRO_NOTIFY_PUBLIC_URL=stack.url("gateway"))
    yield stack
    stack.extra_env.clear()
    stack.extra_env.update(saved)
    restart_notify(stack)


@pytest.fixture(scope="module")
def sink(notify):
    return notify.sandboxes["smtp"]


@pytest.fixture
def person(notify):
    user = ApiUser(notify.url("gateway")).signup()
    yield user
    user.close()


def account_id(user: ApiUser) -> str:
    return user.account["id"]


def anomaly(user: ApiUser, *, meter_id: str | None = None, episode: str = "2025-01-14",
            observed: int = 52340, expected: int = 20000) -> Envelope:
    return Envelope(name=AnomalyDetected.name, producer="consumption", payload={
        "meter_id": meter_id or str(uuid.uuid4()), "account_id": account_id(user), "episode_key": episode,
        "kind": "day", "start": "2025-01-14", "end": "2025-01-15", "expected_wh": expected,
        "observed_wh": observed, "excess_wh": observed - expected})


# The address verification e-mailed at sign-up is not what these tests count.
ACCOUNT_KINDS = {"verify_email", "change_email", "reset_password", "email_change_notice", "password_changed"}


def received(sink, user: ApiUser) -> list:
    return [m for m in sandbox_smtp.received(sink, user.email) if m["X-MetroEnergies-Kind"] not in ACCOUNT_KINDS]


def messages(user: ApiUser) -> list[dict]:
    return [m for m in user.get("/me/messages").json() if m["kind"] not in ACCOUNT_KINDS]


async def mails(sink, user: ApiUser, n: int = 1, timeout: float = 30) -> list:
    return await eventually(lambda: len(got := received(sink, user)) >= n and got, timeout=timeout)


async def stays(sink, user: ApiUser, n: int, seconds: float) -> list:
    """Still exactly n e-mails after waiting: nothing late, nothing duplicated."""
    await asyncio.sleep(seconds)
    got = received(sink, user)
    assert len(got) == n, [m["Subject"] for m in got]
    return got


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


async def test_an_anomaly_makes_exactly_one_email_with_its_figures_and_one_in_app_notification(notify, sink, person):
    event = anomaly(person)
    await publish(notify.amqp_url, event, event, anomaly(person, meter_id=event.payload["meter_id"]))
    [mail] = await mails(sink, person)
    body = text_of(mail)
    assert mail["Subject"] == "Consommation inhabituelle détectée"
    assert "52,3 kWh" in body and "20,0 kWh" in body and "32,3 kWh" in body
    assert f"{notify.url('gateway')}/meters/{event.payload['meter_id']}" in body
    assert mail["List-Unsubscribe"].startswith(f"<{notify.url('gateway')}/api/v1/unsubscribe?token=")
    await stays(sink, person, 1, 2)

    [message] = messages(person)
    assert message["status"] == "sent" and message["kind"] == "anomaly" and message["attempts"] >= 1
    [note] = person.get("/me/notifications").json()
    assert note["read_at"] is None and "52,3 kWh" in note["body"]
    assert person.post(f"/me/notifications/{note['id']}/read").json()["read_at"] is not None
    assert person.post(f"/me/notifications/{uuid.uuid4()}/read").json()["error"] == "notification_not_found"


async def test_preferences_have_conservative_defaults_and_turn_off_email_alerts(notify, sink, person):
    prefs = person.get("/me/preferences").json()
    assert prefs["report_frequency"] == "monthly" and prefs["email"]["alerts"] == ["anomaly", "threshold", "consent"]
    prefs = {k: v for k, v in prefs.items() if not k.startswith("unsubscribed")}
    prefs["email"]["alerts"] = ["consent"]
    r = person.put("/me/preferences", json=prefs)
    assert r.status_code == 200, r.text
    assert person.put("/me/preferences", json={**prefs, "report_frequency": "daily"}).status_code == 422
    await publish(notify.amqp_url, anomaly(person))
    await eventually(lambda: person.get("/me/notifications").json())
    await stays(sink, person, 0, 2)


async def test_consent_expiry_reminder_links_to_the_meter_to_renew(notify, sink, person):
    meter_id, consent_id = str(uuid.uuid4()), str(uuid.uuid4())
    expiring = Envelope(name=ConsentExpiring.name, producer="consent", payload={
        "consent_id": consent_id, "meter_id": meter_id, "account_id": account_id(person), "dso": "enedis",
        "expires_at": "2026-03-01T00:00:00+00:00", "days_left": 30, "reminder": 30})
    revoked_by_user = Envelope(name=ConsentRevoked.name, producer="consent", payload={
        "consent_id": str(uuid.uuid4()), "meter_id": meter_id, "account_id": account_id(person), "dso": "enedis",
        "channel": "dataconnect", "identifier": PRM(), "reason": "user", "dso_reference": None})
    await publish(notify.amqp_url, expiring, expiring, revoked_by_user)
    [mail] = await mails(sink, person)
    assert mail["Subject"] == "Votre consentement expire dans 30 jours"
    assert f"{notify.url('gateway')}/meters/{meter_id}" in text_of(mail)
    await stays(sink, person, 1, 2)


def declare(user: ApiUser) -> dict:
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": PRM()})
    assert r.status_code == 201, r.text
    return r.json()


def run_report(stack, period: str) -> str:
    done = subprocess.run([sys.executable, "-m", "notify", "report", "--frequency", "monthly", "--period", period],
                          cwd=ROOT, env=stack.env("notify"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def eur_of_month(user: ApiUser, meter_id: str, month: str, after: str) -> Decimal:
    r = user.get(f"/meters/{meter_id}/consumption", params={"from": f"{month}-01", "to": after, "step": "month"})
    assert r.status_code == 200, r.text
    [point] = r.json()["points"]
    assert point["eur"] is not None, r.text
    return Decimal(point["eur"])


async def test_monthly_report_totals_two_meters_with_a_chart_and_unsubscribe_stops_the_next_one(notify, sink, person, api):
    assert person.put("/me/language", json={"language": "en"}).status_code == 200
    meters = [declare(person), declare(person)]
    async def both_collected():
        for m in meters:
            r = person.get(f"/meters/{m['id']}/consumption",
                           params={"from": "2025-01-01", "to": "2025-03-01", "step": "month"})
            points = r.json().get("points", []) if r.status_code == 200 else []
            if len(points) != 2 or any(p["wh"] is None for p in points):
                return False
        return True
    values = {}
    for i, m in enumerate(meters):
        values[m["id"]] = [6000 + 150 * i + (d * 37) % 900 for d in range(59)]
    for _ in range(40):  # consumption learns the meters from consent's meter.declared event
        await publish(notify.amqp_url, *(readings_event(mid, dt.date(2025, 1, 1), v) for mid, v in values.items()))
        if await both_collected():
            break
        await asyncio.sleep(0.5)
    assert await both_collected()

    out = run_report(notify, "2025-01")
    assert "report monthly 2025-01" in out
    [mail] = await mails(sink, person, timeout=40)
    body = text_of(mail)
    total_wh = sum(sum(v[:31]) for v in values.values())
    total_eur = sum(eur_of_month(person, mid, "2025-01", "2025-02-01") for mid in values)
    assert mail["Subject"] == "Your energy report for January 2025"
    kwh = (Decimal(total_wh) / 1000).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert f"Total: {kwh:,} kWh, €{total_eur:,.2f}" in body, body
    html = mail.get_body(preferencelist=("html",))
    assert html.get_content_type() == "text/html"
    [image] = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert image.get_content().startswith(b"\x89PNG") and f'src="cid:{image["Content-ID"][1:-1]}"' in html.get_content()

    run_report(notify, "2025-01")  # a re-run records nothing new
    await stays(sink, person, 1, 1)

    link = mail["List-Unsubscribe"][1:-1]
    r = api.http.get(link.replace(notify.url("gateway") + "/api/v1", ""))
    assert r.status_code == 200 and r.json()["scope"] == "reports", r.text
    assert person.get("/me/preferences").json()["report_frequency"] == "none"
    run_report(notify, "2025-02")
    await stays(sink, person, 1, 3)

    assert person.post("/me/preferences/undo-unsubscribe").json()["report_frequency"] == "monthly"
    run_report(notify, "2025-02")
    mails_now = await mails(sink, person, 2, timeout=40)
    assert mails_now[1]["Subject"] == "Your energy report for February 2025"
    forged = api.http.get("/unsubscribe", params={"token": "eyJhIjoiMSJ9." + "A" * 27})
    assert (forged.status_code, forged.json()["error"]) == (403, "invalid_unsubscribe_token")


async def test_notify_killed_before_smtp_sends_the_message_exactly_once_after_restart(notify, sink, person):
    restart_notify(notify, METRO_NOTIFY_PAUSE_BEFORE_SMTP="60")
    try:
        await publish(notify.amqp_url, anomaly(person))
        # The restarted notify takes the alert, then the sender its message: slow when the suite loads the machine.
        await eventually(lambda: [m for m in messages(person) if m["status"] == "sending"],
                         timeout=60)
        notify.kill("notify")
        assert received(sink, person) == []
    finally:
        restart_notify(notify)
    await mails(sink, person, timeout=LEASE + 30)
    await stays(sink, person, 1, LEASE + 2)
    [message] = messages(person)
    assert message["status"] == "sent" and message["attempts"] == 2


async def test_messages_wait_while_smtp_is_down_and_go_when_it_is_back(notify, sink, person):
    # The ten minutes of outage, with the backoff shortened: more attempts than a message refused by the relay
    # would get before giving up, all failing to connect.
    sink.stop()
    try:
        await publish(notify.amqp_url, anomaly(person), anomaly(person, episode="2025-01-20"))
        def waiting():
            msgs = messages(person)
            return len(msgs) == 2 and all(m["attempts"] > MAX_ATTEMPTS and m["status"] in ("pending", "sending")
                                          and "SMTP unavailable" in (m["last_error"] or "") for m in msgs)
        await eventually(waiting, timeout=60)
        assert received(sink, person) == []
    finally:
        sandbox_smtp.restart(sink)
    got = await mails(sink, person, 2, timeout=30)
    assert len({m["Message-ID"] for m in got}) == 2
    await stays(sink, person, 2, 2)
    assert all(m["status"] == "sent" for m in messages(person))


async def test_an_alert_arriving_after_the_account_is_erased_records_nothing(notify, sink, person):
    """Consumers of different queues run in their own order: an anomaly published by consumption before its
    erasure can reach notify after notify's. It must not bring back a notification or an e-mail."""
    email, who = person.email, account_id(person)
    assert person.delete("/me").status_code == 202
    admin = admin_user(notify.url("gateway"))
    try:
        [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
        assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200
    finally:
        admin.close()
    await eventually(lambda: fetchval(notify.database_url, "select status = 'completed' from "
                                      "gateway.erasure_requests where id = $1", uuid.UUID(pending["id"])),
                     timeout=60)
    late = anomaly(person)
    await publish(notify.amqp_url, late)
    await eventually(lambda: fetchval(notify.database_url, "select count(*) = 1 from notify.inbox "
                                      "where event_id = $1", late.id), timeout=30)
    assert await rows_mentioning(notify.database_url, [who, email]) == {}
    await stays(sink, person, 0, 1)
