"""Issue 18 item 1: the account life cycle, with the links followed from the e-mails the SMTP sink received."""
from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest

from devstack.client import STRONG_PASSWORD, ApiUser
from devstack.db import fetch, fetchval, rows_mentioning
from devstack.waiting import eventually

NEW_PASSWORD = "a brand new passphrase 2026"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def meter_body() -> dict:
    return {"energy": "electricity", "dso": "enedis", "identifier": "".join(random.choices("0123456789", k=14))}


@pytest.fixture
def newcomer(stack):
    """Signed up, address not verified yet."""
    user = ApiUser(stack.url("gateway")).signup(verify=False)
    yield user
    user.close()


@pytest.fixture
def mailbox(api):
    box = api.mailbox()
    yield box
    box.close()


def other_session(stack, user: ApiUser, password: str = STRONG_PASSWORD, **headers) -> ApiUser:
    other = ApiUser(stack.url("gateway"))
    other.http.headers.update(headers)
    assert other.login(user.email, password).status_code == 200
    return other


def script_token(stack, user: ApiUser, name: str = "script") -> ApiUser:
    r = user.http.post("/auth/tokens", json={"email": user.email, "password": STRONG_PASSWORD, "name": name})
    assert r.status_code == 201, r.text
    script = ApiUser(stack.url("gateway"))
    script.http.headers["authorization"] = f"Bearer {r.json()['token']}"
    return script


async def test_a_consent_needs_a_verified_address_and_the_link_verifies_it_once(stack, newcomer, mailbox):
    assert newcomer.account["email_verified"] is False
    r = newcomer.post("/meters", json=meter_body())
    assert r.status_code == 403 and r.json()["error"] == "email_not_verified"

    token = mailbox.token(newcomer.email, "/verify-email")
    # Stored as a hash; the record of the e-mail sent keeps the link without it.
    assert await rows_mentioning(stack.database_url, [token]) == {}
    [body] = [m["text_body"] for m in newcomer.get("/me/messages").json() if m["kind"] == "verify_email"]
    assert "/verify-email#token=" in body and token not in body

    anonymous = ApiUser(stack.url("gateway"))  # the link may be opened in another browser
    r = anonymous.post("/auth/email-verification", json={"token": token})
    assert r.status_code == 200 and r.json()["email"] == newcomer.email
    assert newcomer.get("/me").json()["email_verified"] is True
    assert newcomer.post("/meters", json=meter_body()).status_code == 201

    again = anonymous.post("/auth/email-verification", json={"token": token})
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"
    r = newcomer.post("/me/email/verification")
    assert r.status_code == 409 and r.json()["error"] == "email_already_verified"
    anonymous.close()


def test_verification_can_be_sent_again_a_few_times_an_hour(newcomer, mailbox):
    first = mailbox.token(newcomer.email, "/verify-email")
    for _ in range(4):  # the sign-up's link counts: five an hour
        assert newcomer.post("/me/email/verification").status_code == 202
    r = newcomer.post("/me/email/verification")
    assert r.status_code == 429 and r.json()["error"] == "too_many_emails"
    # The earlier links still work until one is used.
    assert newcomer.post("/auth/email-verification", json={"token": first}).status_code == 200


async def test_password_reset_link_works_once_and_ends_every_session_and_token(stack, resident, api, mailbox):
    browser = other_session(stack, resident)
    script = script_token(stack, resident)
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.org"

    known_answer = api.post("/auth/password-reset", json={"email": resident.email})
    unknown_answer = api.post("/auth/password-reset", json={"email": unknown})
    assert known_answer.status_code == unknown_answer.status_code == 202
    assert known_answer.json() == unknown_answer.json()

    token = mailbox.token(resident.email, "/reset-password")
    created, expires = (await fetch(stack.database_url, "select created_at, expires_at from gateway.account_tokens "
                                    "where account_id = $1 and purpose = 'reset_password'",
                                    uuid.UUID(resident.account["id"])))[0]
    assert expires - created == dt.timedelta(hours=1)
    assert mailbox.files(unknown) == []

    weak = api.post("/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert weak.status_code == 422 and weak.json()["error"] == "weak_password"
    assert api.post("/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}).status_code == 204
    for user in (resident, browser, script):
        assert user.get("/me").status_code == 401
    reused = api.post("/auth/password-reset/confirm", json={"token": token, "password": "yet another passphrase"})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_token"

    assert ApiUser(stack.url("gateway")).login(resident.email).status_code == 401
    assert ApiUser(stack.url("gateway")).login(resident.email, NEW_PASSWORD).status_code == 200
    notice = mailbox.wait(resident.email, "mot de passe a été changé")
    assert "/forgot-password" in notice
    assert mailbox.files(unknown) == []


async def test_an_expired_reset_link_is_refused(stack, resident, api, mailbox):
    assert api.post("/auth/password-reset", json={"email": resident.email}).status_code == 202
    token = mailbox.token(resident.email, "/reset-password")
    await fetchval(stack.database_url, "update gateway.account_tokens set expires_at = now() - interval '1 second' "
                   "where account_id = $1 and purpose = 'reset_password' returning 1",
                   uuid.UUID(resident.account["id"]))
    r = api.post("/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 410 and r.json()["error"] == "token_expired"
    assert resident.get("/me").status_code == 200
    assert ApiUser(stack.url("gateway")).login(resident.email).status_code == 200


def test_a_password_change_needs_the_current_password_and_ends_the_other_sessions(stack, resident, mailbox):
    browser = other_session(stack, resident)
    script = script_token(stack, resident)
    wrong = resident.put("/me/password", json={"current_password": "not my password at all",
                                               "new_password": NEW_PASSWORD})
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_password"
    assert browser.get("/me").status_code == 200

    r = resident.put("/me/password", json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    assert resident.get("/me").status_code == 200
    assert browser.get("/me").status_code == 401 and script.get("/me").status_code == 401
    assert ApiUser(stack.url("gateway")).login(resident.email, NEW_PASSWORD).status_code == 200
    assert "mot de passe a été changé" in mailbox.wait(resident.email, "/forgot-password")


async def test_an_address_change_waits_for_the_new_address_and_is_announced_on_the_old(stack, resident, mailbox):
    old, new = resident.email, f"moved-{uuid.uuid4().hex[:8]}@example.org"
    r = resident.put("/me/email", json={"new_email": new, "password": "not my password at all"})
    assert r.status_code == 403 and r.json()["error"] == "wrong_password"
    other = ApiUser(stack.url("gateway")).signup(verify=False)
    taken = resident.put("/me/email", json={"new_email": other.email, "password": STRONG_PASSWORD})
    assert taken.status_code == 409 and taken.json()["error"] == "email_taken"

    assert resident.put("/me/email", json={"new_email": new, "password": STRONG_PASSWORD}).status_code == 202
    notice = mailbox.wait(old, new)
    assert "/forgot-password" in notice and "#token=" not in notice
    assert resident.get("/me").json()["email"] == old

    token = mailbox.token(new, "/verify-email")
    r = ApiUser(stack.url("gateway")).post("/auth/email-verification", json={"token": token})
    assert r.status_code == 200 and r.json()["email"] == new
    me = resident.get("/me").json()
    assert me["email"] == new and me["email_verified"] is True
    assert ApiUser(stack.url("gateway")).login(old).status_code == 401
    assert ApiUser(stack.url("gateway")).login(new).status_code == 200
    # Alerts and reports go to the new address from now on.
    await eventually(lambda: fetchval(stack.database_url, "select email = $2 from notify.recipients where "
                                      "account_id = $1", uuid.UUID(me["id"]), new), timeout=30)


def test_sessions_are_listed_and_a_revoked_one_is_logged_out(stack, resident):
    browser = other_session(stack, resident, **{"user-agent": FIREFOX})
    listed = resident.get("/me/sessions").json()
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    assert {s["kind"] for s in listed} == {"cookie"}
    [theirs] = [s for s in listed if not s["current"]]
    assert theirs["user_agent"] == "Firefox 133 · Linux"
    assert theirs["created_at"] and theirs["last_used_at"] and theirs["expires_at"]

    stranger = ApiUser(stack.url("gateway")).signup(verify=False)
    assert stranger.delete(f"/me/sessions/{theirs['id']}").status_code == 404
    assert browser.get("/me").status_code == 200
    assert resident.delete(f"/me/sessions/{theirs['id']}").status_code == 204
    assert browser.get("/me").status_code == 401
    assert resident.get("/me").status_code == 200
    assert [s["current"] for s in resident.get("/me/sessions").json()] == [True]


async def test_an_idle_session_expires_while_activity_keeps_it(stack, resident):
    script = script_token(stack, resident)
    account = uuid.UUID(resident.account["id"])

    async def idle_for(minutes: int) -> None:
        await fetchval(stack.database_url, "update gateway.sessions set last_used_at = now() - make_interval("
                       "mins => $2) where account_id = $1 returning 1", account, minutes)

    await idle_for(20)
    assert resident.get("/me").status_code == 200
    assert await fetchval(stack.database_url, "select last_used_at > now() - interval '1 minute' from "
                          "gateway.sessions where account_id = $1 and kind = 'cookie'", account)
    await idle_for(31)
    r = resident.get("/me")
    assert r.status_code == 401 and r.json()["error"] == "session_expired"
    assert script.get("/me").status_code == 200  # script tokens have no idle limit


def test_tokens_are_listed_and_a_revoked_one_stops_working(stack, resident):
    script = script_token(stack, resident, name="nightly export")
    assert script.get("/me").status_code == 200
    [token] = [s for s in resident.get("/me/sessions").json() if s["kind"] == "bearer"]
    assert token["name"] == "nightly export" and token["current"] is False
    assert token["user_agent"] == "Python script"
    assert [s["kind"] for s in script.get("/me/sessions").json() if s["current"]] == ["bearer"]
    assert resident.delete(f"/me/sessions/{token['id']}").status_code == 204
    assert script.get("/me").status_code == 401
    assert [s["kind"] for s in resident.get("/me/sessions").json()] == ["cookie"]
