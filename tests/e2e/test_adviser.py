"""Issue 21, items 1 and 3: the adviser workspace (shares with the resident's name, contact, scope and end date;
reads within the scope, each logged; advice notes) and the news."""
from __future__ import annotations

import datetime as dt
import uuid

from devstack.client import ApiUser, admin_user
from devstack.db import fetch, fetchval, rows_mentioning
from devstack.waiting import eventually
from metro.schemas import local_today, months_after
from tests.e2e.test_personal_data import CONTRACT, DWELLING, make_adviser, resident_with_data

PERIOD = {"from": "2025-01-01", "to": "2025-01-06"}


def reads(resident_id: str, meter_id: str) -> dict[str, tuple[str, dict]]:
    """Every adviser read of one resident, by what it shows."""
    base = f"/adviser/residents/{resident_id}"
    return {"meters": (f"{base}/meters", {}), "consumption": (f"{base}/meters/{meter_id}/consumption", PERIOD),
            "comparison": (f"{base}/meters/{meter_id}/comparison", PERIOD), "summary": (f"{base}/summary", {}),
            "advice": (f"{base}/advice", {}), "dwelling": (f"{base}/dwelling", {}),
            "contract": (f"{base}/meters/{meter_id}/contract", {})}


def statuses(adviser: ApiUser, paths: dict[str, tuple[str, dict]]) -> dict[str, int | str]:
    """200, or the refusal's stable code."""
    got: dict[str, int | str] = {}
    for name, (path, params) in paths.items():
        r = adviser.get(path, params=params)
        got[name] = r.status_code if r.status_code == 200 else f"{r.status_code} {r.json()['error']}"
    return got


def share(resident: ApiUser, adviser: ApiUser, **terms) -> dict:
    r = resident.post("/me/shares", json={"adviser_email": adviser.email, "resident_name": "Alice M.",
                                          "resident_contact": "06 12 34 56 78", **terms})
    assert r.status_code == 201, r.text
    return r.json()


async def test_share_with_scope_and_end_date_adviser_sees_exactly_that_then_expiry_or_revocation_404(stack):
    alice, meter = await resident_with_data(stack, days=5)
    assert alice.put(f"/meters/{meter['id']}/contract", json=CONTRACT).status_code == 200
    adviser, other = make_adviser(stack), make_adviser(stack)
    paths = reads(alice.account["id"], meter["id"])
    gone = {name: "404 resident_not_found" for name in paths}
    assert statuses(adviser, paths) == gone

    given = share(alice, adviser, scopes=["consumption"])
    assert given["status"] == "active" and given["scopes"] == ["consumption"]
    assert given["ends_on"] == months_after(local_today(), 6).isoformat(), "six months by default"
    listed = adviser.get("/adviser/residents")
    assert [(r["name"], r["contact"], r["scopes"], r["ends_on"]) for r in listed.json()] == \
        [("Alice M.", "06 12 34 56 78", ["consumption"], given["ends_on"])]
    assert alice.email not in listed.text
    assert other.get("/adviser/residents").json() == []

    consumption_only = {**dict.fromkeys(["meters", "consumption", "comparison", "summary", "advice"], 200),
                        "dwelling": "404 resident_not_found", "contract": "404 resident_not_found"}
    assert statuses(adviser, paths) == consumption_only
    [seen] = adviser.get(paths["meters"][0]).json()
    assert seen["id"] == meter["id"] and seen["contract"] is None
    points = adviser.get(paths["consumption"][0], params=PERIOD).json()["points"]
    assert [p["wh"] for p in points] == [1000, 1001, 1002, 1003, 1004]
    comparison = adviser.get(paths["comparison"][0], params=PERIOD).json()
    assert comparison["wh"] == sum(range(1000, 1005)) and comparison["kwh_per_m2"] is None
    assert [m["meter_id"] for m in adviser.get(paths["summary"][0]).json()["meters"]] == [meter["id"]]
    assert statuses(other, paths) == gone

    log = alice.get("/me/access-log").json()
    assert {e["reader_name"] for e in log} == {adviser.email}
    whats = [e["what"] for e in log]
    assert (whats.count("meters"), whats.count("summary"), whats.count("advice notes")) == (2, 2, 1), whats
    assert sum(w.startswith("consumption of meter") for w in whats) == 2
    assert sum(w.startswith("comparison of meter") for w in whats) == 2
    assert not any(w.startswith(("dwelling", "contract")) for w in whats), "a refused read shows nothing"

    # Past its end date the share gives nothing, until the resident renews it.
    await fetch(stack.database_url, "update consent.shares set ends_on = $2 where id = $1",
                uuid.UUID(given["id"]), local_today() - dt.timedelta(days=1))
    assert statuses(adviser, paths) == gone
    assert adviser.get("/adviser/residents").json() == []
    assert [s["status"] for s in alice.get("/me/shares").json()] == ["expired"]
    new_end = (local_today() + dt.timedelta(days=30)).isoformat()
    renewed = alice.post(f"/me/shares/{given['id']}/renewal", json={"ends_on": new_end})
    assert renewed.status_code == 200 and (renewed.json()["status"], renewed.json()["ends_on"]) == ("active", new_end)
    assert statuses(adviser, paths) == consumption_only
    too_far = alice.post(f"/me/shares/{given['id']}/renewal",
                         json={"ends_on": months_after(local_today(), 13).isoformat()})
    assert too_far.status_code == 422 and too_far.json()["error"] == "invalid_share_end"

    # Taken back: nothing again, and it cannot be renewed.
    assert alice.delete(f"/me/shares/{given['id']}").status_code == 200
    assert statuses(adviser, paths) == gone
    assert alice.post(f"/me/shares/{given['id']}/renewal", json={}).json()["error"] == "share_not_found"

    # The whole scope, until a chosen day.
    end = (local_today() + dt.timedelta(days=10)).isoformat()
    full = share(alice, other, scopes=["consumption", "dwelling", "contract"], ends_on=end)
    assert full["ends_on"] == end and full["scopes"] == ["consumption", "contract", "dwelling"]
    assert set(statuses(other, paths).values()) == {200}
    assert other.get(paths["dwelling"][0]).json()["surface_m2"] == DWELLING["surface_m2"]
    assert other.get(paths["meters"][0]).json()[0]["contract"]["tariff_option"] == "HPHC"
    assert other.get(paths["contract"][0]).json()["subscribed_kva"] == 6
    assert statuses(adviser, paths) == gone
    assert alice.delete(f"/me/shares/{full['id']}").status_code == 200
    assert statuses(other, paths) == gone


async def test_share_terms_are_checked(stack, resident):
    adviser = make_adviser(stack)
    body = {"adviser_email": adviser.email, "resident_name": "R."}
    for terms, code in (({"scopes": ["dwelling"]}, "consumption_scope_required"),
                        ({"scopes": ["profile"]}, "invalid_field"),
                        ({"ends_on": (local_today() - dt.timedelta(days=1)).isoformat()}, "invalid_share_end"),
                        ({"ends_on": months_after(local_today(), 13).isoformat()}, "invalid_share_end"),
                        ({"resident_name": ""}, "invalid_field")):
        r = resident.post("/me/shares", json={**body, **terms})
        assert (r.status_code, r.json()["error"]) == (422, code), (terms, r.text)
    assert resident.post("/me/shares", json=body).status_code == 201
    again = resident.post("/me/shares", json=body)
    assert (again.status_code, again.json()["error"]) == (409, "share_exists")


async def test_advice_notes_reach_only_a_resident_who_shares_and_the_resident_may_delete_them(stack):
    alice, meter = await resident_with_data(stack, days=2)
    bob = ApiUser(stack.url("gateway")).signup()
    adviser, stranger_adviser = make_adviser(stack), make_adviser(stack)
    given = share(alice, adviser)
    path = f"/adviser/residents/{alice.account['id']}/advice"

    r = adviser.post(path, json={"body": "Baissez le chauffage à 19 °C la nuit."})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["adviser_name"] == adviser.email and note["resident_id"] == alice.account["id"]
    assert [n["id"] for n in adviser.get(path).json()] == [note["id"]]
    [mine] = alice.get("/me/advice").json()
    assert (mine["id"], mine["body"]) == (note["id"], "Baissez le chauffage à 19 °C la nuit.")

    refused = {
        "another adviser": (stranger_adviser, 404, "resident_not_found"),
        "a resident": (bob, 403, "forbidden_role"),
        "the resident herself": (alice, 403, "forbidden_role"),
    }
    for who, (client, status, code) in refused.items():
        for r in (client.post(path, json={"body": "x"}), client.get(path)):
            assert (r.status_code, r.json()["error"]) == (status, code), (who, r.text)
    unshared = adviser.post(f"/adviser/residents/{bob.account['id']}/advice", json={"body": "x"})
    assert (unshared.status_code, unshared.json()["error"]) == (404, "resident_not_found")
    empty = adviser.post(path, json={"body": ""})
    assert (empty.status_code, empty.json()["error"]) == (422, "invalid_field")
    assert bob.get("/me/advice").json() == []
    for client in (bob, adviser):
        r = client.delete(f"/me/advice/{note['id']}")
        assert (r.status_code, r.json()["error"]) == (404, "advice_not_found")

    export = alice.get("/me/export").json()["datasets"]
    assert [n["id"] for n in export["consent.advice_notes"]["rows"]] == [note["id"]]
    assert alice.delete(f"/me/advice/{note['id']}").status_code == 204
    assert alice.get("/me/advice").json() == [] and adviser.get(path).json() == []
    assert alice.delete(f"/me/advice/{note['id']}").json()["error"] == "advice_not_found"

    # A note stays the resident's when the share ends; no new one can be written then.
    kept = adviser.post(path, json={"body": "Pensez au contrat heures creuses."}).json()
    assert alice.delete(f"/me/shares/{given['id']}").status_code == 200
    assert adviser.post(path, json={"body": "x"}).json()["error"] == "resident_not_found"
    assert [n["id"] for n in alice.get("/me/advice").json()] == [kept["id"]]


async def test_an_erased_advisers_notes_and_news_stay_under_a_pseudonym(stack):
    alice, _ = await resident_with_data(stack, days=2)
    adviser = make_adviser(stack)
    share(alice, adviser)
    note = adviser.post(f"/adviser/residents/{alice.account['id']}/advice", json={"body": "Isolez les combles."})
    item = adviser.post("/admin/news", json={"title_fr": "Hiver", "title_en": "Winter", "body_fr": "Chauffez à 19 °C.",
                                             "body_en": "Heat to 19 °C."})
    assert note.status_code == 201 and item.status_code == 201, item.text
    adviser_id, adviser_email = adviser.account["id"], adviser.email
    assert adviser.delete("/me").status_code == 202
    admin = admin_user(stack.url("gateway"))
    [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == adviser_email]
    assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200
    await eventually(lambda: fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests "
                                      "where id = $1", uuid.UUID(pending["id"])), timeout=60)
    assert await rows_mentioning(stack.database_url, [adviser_id, adviser_email]) == {}
    [kept] = alice.get("/me/advice").json()
    assert kept["body"] == "Isolez les combles."
    assert kept["adviser_name"].startswith("conseiller supprimé / deleted adviser #")
    assert item.json()["id"] in [n["id"] for n in alice.get("/news").json()], "published content stays"

    # The resident's own erasure takes her notes with her.
    assert alice.delete("/me").status_code == 202
    [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == alice.email]
    assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = 0 from consent.advice_notes "
                                      "where resident_id = $1", uuid.UUID(alice.account["id"])), timeout=60)


def news_body(**changes) -> dict:
    return {"title_fr": "Les soirées d'hiver", "title_en": "Winter evenings", "body_fr": "Fermez les volets le soir.",
            "body_en": "Close the shutters at night.", **changes}


async def test_news_shown_while_valid_to_their_audience_then_archived_for_their_author(stack):
    adviser, colleague = make_adviser(stack), make_adviser(stack)
    resident = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    professional = ApiUser(stack.url("gateway")).signup()
    assert admin.put(f"/admin/accounts/{professional.account['id']}/roles",
                     json={"roles": ["professional"]}).status_code == 200

    r = adviser.post("/admin/news", json=news_body())
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["audience"], item["state"], item["valid_from"]) == ("all", "current", local_today().isoformat())
    assert item["valid_until"] == months_after(local_today(), 3).isoformat(), "three months by default"
    pro = adviser.post("/admin/news", json=news_body(title_fr="Pros", audience="pro")).json()
    later = adviser.post("/admin/news", json=news_body(
        title_fr="Printemps", valid_from=(local_today() + dt.timedelta(days=60)).isoformat())).json()
    assert later["state"] == "scheduled"

    def shown(client: ApiUser) -> set[str]:
        return {n["id"] for n in client.get("/news").json()} & {item["id"], pro["id"], later["id"]}
    assert shown(resident) == {item["id"]}
    assert shown(professional) == {item["id"], pro["id"]}
    assert resident.get("/news").json()[0]["title_en"]

    # Only advisers and administrators write; only the author or an administrator changes an item.
    for r in (resident.post("/admin/news", json=news_body()), resident.get("/admin/news")):
        assert (r.status_code, r.json()["error"]) == (403, "forbidden_role")
    for r in (colleague.put(f"/admin/news/{item['id']}", json=news_body(title_fr="Piraté")),
              colleague.delete(f"/admin/news/{item['id']}")):
        assert (r.status_code, r.json()["error"]) == (404, "news_not_found")
    assert colleague.get("/admin/news").json() == []
    edited = adviser.put(f"/admin/news/{item['id']}", json=news_body(title_fr="Soirées d'hiver"))
    assert edited.status_code == 200 and edited.json()["title_fr"] == "Soirées d'hiver"
    assert {n["id"] for n in admin.get("/admin/news").json()} >= {item["id"], pro["id"], later["id"]}
    bad = adviser.post("/admin/news", json=news_body(valid_from="2026-01-10", valid_until="2026-01-01"))
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_news_period")

    # Past its last day: off the home screen, in its author's archive.
    await fetch(stack.database_url, "update gateway.news set valid_from = $2, valid_until = $3 where id = $1",
                uuid.UUID(item["id"]), local_today() - dt.timedelta(days=100), local_today() - dt.timedelta(days=1))
    assert shown(resident) == set()
    assert [n["id"] for n in adviser.get("/admin/news", params={"archived": "true"}).json()] == [item["id"]]
    assert item["id"] not in {n["id"] for n in adviser.get("/admin/news").json()}
    assert colleague.get("/admin/news", params={"archived": "true"}).json() == []
    assert adviser.delete(f"/admin/news/{pro['id']}").status_code == 204
    assert shown(professional) == set()


async def test_an_adviser_who_is_also_an_administrator_needs_a_share_like_any_adviser(stack, resident):
    both = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    assert admin.put(f"/admin/accounts/{both.account['id']}/roles",
                     json={"roles": ["adviser", "admin"]}).status_code == 200
    r = both.get(f"/adviser/residents/{resident.account['id']}/meters")
    assert (r.status_code, r.json()["error"]) == (404, "resident_not_found")
    assert resident.get("/me/access-log").json() == []
