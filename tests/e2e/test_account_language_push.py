"""Issue 20, items 4 and 6: the language is the account's and every e-mail follows it; alerts pushed to a
subscribed browser (Web Push), checked by a push service stand-in that verifies the VAPID JWT and decrypts."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from devstack import sandbox_smtp
from devstack.client import STRONG_PASSWORD, ApiUser
from devstack.db import fetchval
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from tests.e2e.test_consumption import new_meter
from tests.e2e.test_notify import anomaly, mails, notify, person, sink, stays, text_of  # noqa: F401 - fixtures
from tests.sandboxes.push import server as push_sandbox


async def notify_knows_english(stack, user: ApiUser) -> None:
    """notify learns the language from the account's event."""
    async def known():
        return await fetchval(stack.database_url, "SELECT language FROM notify.recipients WHERE account_id = "
                              "$1::uuid", user.account["id"]) == "en"
    await eventually(known)


async def test_a_resident_who_switches_to_english_gets_the_next_email_in_english(notify, sink, person):
    assert person.account["language"] == "fr"
    await publish(notify.amqp_url, anomaly(person, episode="2025-01-10"))
    [first] = await mails(sink, person)
    assert first["Subject"] == "Consommation inhabituelle détectée"

    r = person.put("/me/language", json={"language": "en"})
    assert r.status_code == 200 and r.json()["language"] == "en", r.text
    assert person.get("/me").json()["language"] == "en"
    assert person.put("/me/language", json={"language": "de"}).status_code == 422
    await notify_knows_english(notify, person)

    await publish(notify.amqp_url, anomaly(person, episode="2025-01-20"))
    second = (await mails(sink, person, 2))[1]
    assert second["Subject"] == "Unusual consumption detected"
    assert "52.3 kWh" in text_of(second)

    # The account's own e-mails too.
    r = person.put("/me/password", json={"current_password": STRONG_PASSWORD, "new_password": STRONG_PASSWORD + "x"})
    assert r.status_code == 204, r.text
    notice = await eventually(lambda: [m for m in sandbox_smtp.received(sink, person.email)
                                       if m["X-MetroEnergies-Kind"] == "password_changed"])
    assert notice[0]["Subject"] == "Your password was changed"


def test_signup_stores_the_language_of_the_app(notify):
    user = ApiUser(notify.url("gateway"))
    version = user.http.get("/terms/current").json()["version"]
    r = user.http.post("/auth/signup", json={"email": f"reader-{uuid.uuid4().hex[:8]}@example.org", "password": STRONG_PASSWORD,
                                             "accepted_terms_version": version, "language": "en"})
    assert r.status_code == 201 and r.json()["language"] == "en", r.text
    user.close()


@pytest.fixture
def push_service():
    service, server = push_sandbox.start()
    yield service
    server.should_exit = True


async def test_an_alert_is_pushed_encrypted_and_signed_to_a_subscribed_browser_only_once_chosen(
        notify, sink, person, push_service):
    key = person.get("/push/public-key").json()["public_key"]
    browser = push_service.subscribe(key)
    r = person.post("/me/push-subscriptions", json=browser)
    assert r.status_code == 201, r.text
    [listed] = person.get("/me/push-subscriptions").json()
    assert listed["endpoint"] == browser["endpoint"] and listed["id"] == r.json()["id"]
    [sid] = push_service.browsers
    received = push_service.browsers[sid].received

    # Off by default: an alert goes by e-mail, nothing is pushed.
    assert person.get("/me/preferences").json()["push"]["alerts"] == []
    await publish(notify.amqp_url, anomaly(person, episode="2025-02-01"))
    await mails(sink, person)
    await stays(sink, person, 1, 1)
    assert received == []

    prefs = {k: v for k, v in person.get("/me/preferences").json().items() if not k.startswith("unsubscribed")}
    prefs["push"]["alerts"] = ["anomaly"]
    assert person.put("/me/preferences", json=prefs).status_code == 200
    event = anomaly(person, episode="2025-02-10")
    await publish(notify.amqp_url, event, event)
    await eventually(lambda: received, timeout=30)
    await stays(sink, person, 2, 1)
    assert len(received) == 1 and push_service.browsers[sid].refused == []
    [payload] = received
    assert payload["title"] == "Consommation inhabituelle détectée"
    assert "52,3 kWh" in payload["body"]
    assert payload["link"].endswith(f"/meters/{event.payload['meter_id']}")

    # The browser dropped the subscription: the push service answers 410 and the subscription goes.
    push_service.browsers[sid].gone = True
    await publish(notify.amqp_url, anomaly(person, episode="2025-02-20"))
    await eventually(lambda: person.get("/me/push-subscriptions").json() == [], timeout=30)


def test_push_subscriptions_are_checked_and_owned(notify, person, push_service):
    key = person.get("/push/public-key").json()["public_key"]
    browser = push_service.subscribe(key)
    short = {**browser, "keys": {**browser["keys"], "auth": browser["keys"]["auth"][:-2] + "AAAA"}}
    r = person.post("/me/push-subscriptions", json=short)
    assert (r.status_code, r.json()["error"]) == (422, "push_keys_invalid"), r.text
    created = person.post("/me/push-subscriptions", json=browser).json()
    other = ApiUser(notify.url("gateway")).signup(verify=False)
    assert other.get("/me/push-subscriptions").json() == []
    r = other.delete(f"/me/push-subscriptions/{created['id']}")
    assert (r.status_code, r.json()["error"]) == (404, "push_subscription_not_found")
    assert person.delete(f"/me/push-subscriptions/{created['id']}").status_code == 204
    assert person.get("/me/push-subscriptions").json() == []
    other.close()


async def test_a_declared_contract_with_its_supplier_offer_stops_the_euros_being_estimated(stack, resident):
    meter_id = await new_meter(stack, resident)
    await publish(stack.amqp_url, readings_event(meter_id, dt.date(2025, 3, 1), [8_000] * 10))

    def series():
        r = resident.get(f"/meters/{meter_id}/consumption", params={"from": "2025-03-01", "to": "2025-03-11"})
        assert r.status_code == 200 and all(p["wh"] for p in r.json()["points"]), r.text
        return r.json()
    assert (await eventually(series))["eur_estimated"]
    assert resident.get(f"/meters/{meter_id}/contract").json()["origin"] == "assumed"

    r = resident.put(f"/meters/{meter_id}/contract", json={
        "tariff_option": "BASE", "subscribed_kva": 9, "supplier_offer": "  EDF Tarif Bleu "})
    assert r.status_code == 200, r.text
    assert (r.json()["origin"], r.json()["subscribed_kva"], r.json()["supplier_offer"]) == \
        ("resident", 9, "EDF Tarif Bleu")
    assert resident.get(f"/meters/{meter_id}/contract").json()["supplier_offer"] == "EDF Tarif Bleu"
    after = series()
    assert not after["eur_estimated"] and "declared by the resident" in after["eur_method"]
    too_long = resident.put(f"/meters/{meter_id}/contract", json={
        "tariff_option": "BASE", "subscribed_kva": 9, "supplier_offer": "x" * 121})
    assert too_long.status_code == 422
