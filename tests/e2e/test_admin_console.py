"""The administration console's operations over the real processes: each one refused to residents and advisers
with a stable code, each action in the audit trail with who, when, on what and the request id, and a
resident's consents read by an administrator written into the resident's access log."""
from __future__ import annotations

import datetime as dt
import gzip
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devstack.client import STRONG_PASSWORD, ApiUser, admin_user, random_prm
from devstack.db import fetchval
from devstack.stack import ROOT
from devstack.waiting import eventually
from tests.e2e.test_enedis_consent import consented_elsewhere
from tests.e2e.test_personal_data import make_adviser

BAN_EXTRACT = Path(__file__).resolve().parents[1] / "data" / "adresses-38-extract.csv"
DWELLING = {"street": "5 place Grenette", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185"}
CSV = {"content-type": "text/csv"}
# Every console operation, with a body where it takes one: none is open to a resident or an adviser.
OPERATIONS = [
    ("GET", "/admin/accounts", {}), ("GET", "/admin/accounts/{account}", {}),
    ("PUT", "/admin/accounts/{account}/status", {"json": {"status": "disabled"}}),
    ("PUT", "/admin/accounts/{account}/roles", {"json": {"roles": ["admin"]}}),
    ("GET", "/admin/audit", {}), ("GET", "/admin/terms", {}),
    ("POST", "/admin/terms/drafts", {"json": {"version": "x", "summary": "s", "text": "t", "data_collected": []}}),
    ("POST", "/admin/terms/x/publish", {}), ("GET", "/admin/terms/x/acceptances", {}),
    ("GET", "/admin/erasure-requests", {}), ("GET", "/admin/address-mismatches", {}),
    ("GET", "/admin/sge/subscriptions", {}),
    ("POST", f"/admin/sge/subscriptions/{uuid.uuid4()}/end", {"json": {}}),
    ("GET", "/admin/collections", {}), ("GET", "/admin/dead-letters", {}),
    ("POST", "/admin/tariffs/electricity/preview", {"content": "a,b\n", "headers": CSV}),
    ("POST", "/admin/degree-days/preview", {"content": "a,b\n", "headers": CSV}),
    ("POST", "/admin/address-base", {"content": "id;numero\n", "headers": CSV}),
]


@pytest.fixture
def admin(stack):
    user = admin_user(stack.url("gateway"))
    yield user
    user.close()


def audited(admin: ApiUser, action: str, target: str | None = None) -> list[dict]:
    params = {"action": action, **({"target": target} if target else {})}
    r = admin.get("/admin/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_residents_and_advisers_are_refused_every_console_operation_with_a_stable_code(stack, resident):
    adviser = make_adviser(stack)
    try:
        for user in (resident, adviser):
            for method, path, kwargs in OPERATIONS:
                r = user.request(method, path.format(account=resident.account["id"]), **kwargs)
                assert (r.status_code, r.json()["error"]) == (403, "forbidden_role"), (method, path, r.text)
        assert resident.get("/me").json()["status"] == "active"
    finally:
        adviser.close()


def test_a_disabled_account_cannot_log_in_and_its_sessions_and_tokens_end_at_once(stack, resident, admin):
    token = resident.http.post("/auth/tokens", json={"email": resident.email, "password": STRONG_PASSWORD}).json()
    script = ApiUser(stack.url("gateway"))
    script.http.headers["authorization"] = f"Bearer {token['token']}"
    assert script.get("/me").status_code == 200

    found = admin.get("/admin/accounts", params={"q": resident.email.split("@")[0].upper()}).json()
    assert [a["id"] for a in found] == [resident.account["id"]] and found[0]["status"] == "active"
    r = admin.put(f"/admin/accounts/{resident.account['id']}/status", json={"status": "disabled", "reason": "abuse"})
    assert r.status_code == 200 and r.json()["status"] == "disabled" and r.json()["disabled_at"]
    request_id = r.headers["x-request-id"]

    assert resident.get("/me").status_code == 401
    assert script.get("/me").status_code == 401
    again = ApiUser(stack.url("gateway"))
    refused = again.login(resident.email)
    assert (refused.status_code, refused.json()["error"]) == (403, "account_disabled")

    me = admin.account["id"]
    self_disable = admin.put(f"/admin/accounts/{me}/status", json={"status": "disabled"})
    assert (self_disable.status_code, self_disable.json()["error"]) == (409, "cannot_disable_self")
    assert admin.put(f"/admin/accounts/{uuid.uuid4()}/status",
                     json={"status": "disabled"}).json()["error"] == "account_not_found"

    assert admin.put(f"/admin/accounts/{resident.account['id']}/status", json={"status": "active"}).status_code == 200
    assert again.login(resident.email).status_code == 200

    [disabled] = audited(admin, "account.disabled", resident.account["id"])
    assert (disabled["actor_id"], disabled["actor_email"], disabled["request_id"]) == (
        me, admin.email, request_id)
    assert disabled["detail"]["reason"] == "abuse" and disabled["detail"]["email"] == resident.email
    assert dt.datetime.fromisoformat(disabled["at"]) > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert len(audited(admin, "account.enabled", resident.account["id"])) == 1
    for user in (script, again):
        user.close()


def test_roles_are_given_and_audited_and_an_administrator_keeps_their_own(stack, resident, admin):
    r = admin.put(f"/admin/accounts/{resident.account['id']}/roles", json={"roles": ["resident", "adviser"]})
    assert r.status_code == 200 and r.json()["roles"] == ["adviser", "resident"]
    [entry] = audited(admin, "account.roles_set", resident.account["id"])
    assert entry["detail"]["before"] == ["resident"] and entry["detail"]["roles"] == ["adviser", "resident"]
    own = admin.put(f"/admin/accounts/{admin.account['id']}/roles", json={"roles": ["resident"]})
    assert (own.status_code, own.json()["error"]) == (409, "cannot_remove_own_admin")


def test_an_administrator_sees_a_residents_consents_without_consumption_and_the_read_is_logged(
        stack, resident, admin):
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    prm = random_prm()
    meter = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": prm}).json()

    r = admin.get(f"/admin/accounts/{resident.account['id']}")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["email"] == resident.email and detail["sessions"] >= 1 and detail["deletion"] is None
    assert [t["version"] for t in detail["terms_accepted"]] == [resident.account["terms"]["current_version"]]
    [listed] = detail["consents"]
    assert (listed["id"], listed["identifier"], listed["consent"]["status"]) == (meter["id"], prm, "awaiting_holder")
    assert "points" not in r.text and "last_7_days" not in r.text and listed["last_collected_day"] is None

    log = resident.get("/me/access-log").json()
    assert [(e["reader_role"], e["reader_name"], e["what"]) for e in log] == [
        ("admin", admin.email, "account and consents (administrator)")]
    assert len(audited(admin, "resident.consents_viewed", resident.account["id"])) == 1
    assert admin.get(f"/admin/accounts/{uuid.uuid4()}").json()["error"] == "account_not_found"


def test_terms_drafted_then_published_and_who_accepted_them_again(stack, resident, admin):
    version = f"draft-{uuid.uuid4().hex[:6]}"
    before = resident.get("/terms/current").json()["version"]
    body = {"version": version, "summary": "Brouillon", "text": "Texte", "data_collected": [
        {"data": "e-mail", "why": "connexion", "kept": "tant que le compte existe"}]}
    assert admin.post("/admin/terms/drafts", json=body).status_code == 201
    assert admin.post("/admin/terms/drafts", json=body).json()["error"] == "terms_version_exists"
    assert resident.get("/terms/current").json()["version"] == before
    assert resident.get("/me").json()["terms"]["acceptance_required"] is False
    edited = admin.put(f"/admin/terms/drafts/{version}", json={**{k: body[k] for k in ("text", "data_collected")},
                                                               "summary": "Nouvelle version"})
    assert edited.status_code == 200 and edited.json()["summary"] == "Nouvelle version"
    listed = {t["version"]: t for t in admin.get("/admin/terms").json()}
    assert listed[version]["status"] == "draft" and listed[before]["status"] == "in_force"

    published = admin.post(f"/admin/terms/{version}/publish")
    assert published.status_code == 200 and published.json()["version"] == version
    # The administrator too accepts the version in force before anything else.
    assert admin.post("/me/terms", json={"version": version}).status_code == 200
    assert admin.post(f"/admin/terms/{version}/publish").json()["error"] == "terms_already_published"
    assert admin.put(f"/admin/terms/drafts/{version}", json={k: body[k] for k in ("summary", "text", "data_collected")}
                     ).json()["error"] == "terms_already_published"
    assert resident.get("/me").json()["terms"]["acceptance_required"] is True
    assert resident.post("/me/terms", json={"version": version}).status_code == 200

    accepted = admin.get(f"/admin/terms/{version}/acceptances").json()
    assert resident.email in [a["email"] for a in accepted["accounts"]]
    assert accepted["accepted"] >= 1 and accepted["active_accounts"] >= accepted["accepted"]
    listed = {t["version"]: t for t in admin.get("/admin/terms").json()}
    assert listed[version]["status"] == "in_force" and listed[before]["status"] == "superseded"
    for action in ("terms.drafted", "terms.draft_edited", "terms.published"):
        assert len(audited(admin, action, version)) == 1, action


def test_an_erasure_validated_by_an_administrator_is_audited_and_the_account_stays_disabled(stack, admin):
    resident = ApiUser(stack.url("gateway")).signup()
    assert resident.delete("/me").status_code == 202
    [request] = [r for r in admin.get("/admin/erasure-requests").json() if r["email"] == resident.email]
    enable = admin.put(f"/admin/accounts/{resident.account['id']}/status", json={"status": "active"})
    assert (enable.status_code, enable.json()["error"]) == (409, "deletion_under_way")
    assert admin.post(f"/admin/erasure-requests/{request['id']}/validate").status_code == 200
    [entry] = audited(admin, "erasure.validated", request["id"])
    assert entry["actor_id"] == admin.account["id"]
    resident.close()


async def test_an_address_mismatch_decision_is_audited(stack, resident, admin):
    meter = consented_elsewhere(stack, resident)
    r = admin.post(f"/admin/address-mismatches/{meter['id']}", json={"decision": "reject", "note": "neighbour"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    [entry] = audited(admin, "address_mismatch.decided", meter["id"])
    assert entry["detail"] == {"decision": "reject", "note": "neighbour"}


async def test_sge_subscriptions_are_listed_and_an_ended_one_stops_collection(stack, resident, admin):
    assert resident.put("/me/dwelling", json=DWELLING).status_code == 200
    prm = random_prm()
    meter = resident.post("/meters", json={"energy": "electricity", "dso": "enedis", "channel": "sge",
                                           "identifier": prm}).json()
    end = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    recorded = admin.post("/admin/sge/subscriptions", json={"meter_id": meter["id"], "reference": "AFF-1",
                                                             "consent_end": end})
    assert recorded.status_code == 201, recorded.text
    listed = {s["identifier"]: s for s in admin.get("/admin/sge/subscriptions").json()}
    assert (listed[prm]["status"], listed[prm]["reference"], listed[prm]["expires_at"][:10]) == ("active", "AFF-1", end)

    async def subscribed(active: bool):
        return await fetchval(stack.database_url, "select active from ingest_sge.subscriptions where prm = $1",
                              prm) is active
    await eventually(lambda: subscribed(True), timeout=60)

    ended = admin.post(f"/admin/sge/subscriptions/{listed[prm]['consent_id']}/end", json={"note": "cancelled"})
    assert ended.status_code == 200 and (ended.json()["status"], ended.json()["reason"]) == (
        "revoked", "subscription_ended")
    again = admin.post(f"/admin/sge/subscriptions/{listed[prm]['consent_id']}/end", json={})
    assert (again.status_code, again.json()["error"]) == (409, "subscription_already_ended")
    assert admin.post(f"/admin/sge/subscriptions/{uuid.uuid4()}/end", json={}).json()["error"] == \
        "subscription_not_found"
    assert prm not in {s["identifier"] for s in admin.get("/admin/sge/subscriptions").json()}
    await eventually(lambda: subscribed(False), timeout=60)
    history = resident.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
    assert (history[-1]["reason"], history[-1]["actor"]) == ("subscription_ended", f"admin:{admin.account['id']}")
    assert len(audited(admin, "sge_subscription.recorded", meter["id"])) == 1
    assert audited(admin, "sge_subscription.ended", listed[prm]["consent_id"])[0]["detail"]["note"] == "cancelled"


def test_a_catalogue_preview_lists_every_problem_line_by_line_and_stores_nothing(stack, admin):
    trve = (ROOT / "services/consumption/consumption/data/trve.csv").read_text("utf-8").split("\n")
    bad = list(trve)
    bad[3] = bad[3].replace("BASE", "BAS", 1)
    bad[7] = bad[7].replace(",2023-", ",2023/", 1)
    versions = admin.get("/admin/tariffs/electricity").json()
    r = admin.post("/admin/tariffs/electricity/preview", content="\n".join(bad), headers=CSV)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["valid"] is False and preview["columns"][:2] == ["valid_from", "valid_to"]
    assert [(e["line"], e["code"]) for e in preview["errors"]] == [(4, "tariff_csv_bad_option"),
                                                                  (8, "tariff_csv_bad_date")]
    assert preview["lines"][0]["line"] == 2 and preview["current_rows"] == versions[0]["rows"]
    good = admin.post("/admin/tariffs/electricity/preview", content="\n".join(trve), headers=CSV).json()
    assert good["valid"] is True and good["errors"] == [] and good["rows"] == versions[0]["rows"]
    assert admin.get("/admin/tariffs/electricity").json() == versions

    dju = (ROOT / "services/consumption/consumption/data/dju_grenoble.csv").read_text("utf-8").split("\n")
    dju[2] = dju[2].replace("normal_1991_2020", "normal", 1)
    days = admin.post("/admin/degree-days/preview", content="\n".join(dju), headers=CSV).json()
    assert [(e["line"], e["code"]) for e in days["errors"]] == [(3, "degree_days_csv_invalid_kind")]


def test_collection_health_gives_each_dsos_freshness_quota_and_dead_letters(stack, admin):
    health = {c["dso"]: c for c in admin.get("/admin/collections").json()["collections"]}
    # ingest-local (GreenAlp, CCIAG, water) collects too since it was merged.
    assert set(health) == {"enedis", "grdf", "sge", "local"}
    for dso, report in health.items():
        assert set(report["freshness"]) == {"fresh", "dso_late", "collection_failing", "pending"}, dso
        assert all(isinstance(n, int) for n in report["freshness"].values())
    assert "quota_used" in health["enedis"] and "last_cycle" in health["grdf"]
    letters = {d["service"]: d for d in admin.get("/admin/dead-letters").json()}
    assert set(letters) == {"gateway", "consent", "consumption", "notify", "ingest_enedis", "ingest_grdf",
                            "ingest_sge", "ingest_local"}
    assert all(d["error"] is None and d["total"] == sum(d["queues"].values()) for d in letters.values())
    assert any(q.endswith(".dlq") for q in letters["consumption"]["queues"])


def _changed_extract() -> str:
    """The extract a year later: one street renamed, one address gone, one new."""
    lines = BAN_EXTRACT.read_text("utf-8").splitlines()
    renamed = [line.replace(";Rue Félix Poulat;", ";Rue Félix-Poulat;") if line.startswith("38185_3140_00001;")
               else line for line in lines if not line.startswith("38229_0230_00012;")]
    new = renamed[1].replace("38185_1950_00001;", "38185_1950_00009;").replace(";1;;Place", ";9;;Place")
    return "\n".join([*renamed, new]) + "\n"


def test_the_address_base_import_is_idempotent_and_reports_added_changed_removed(stack, resident, admin):
    extract = BAN_EXTRACT.read_bytes()
    first = admin.post("/admin/address-base", content=extract, headers=CSV)
    assert first.status_code == 200, first.text
    counts = first.json()
    assert counts["rows"] == 21 and counts["total"] == 21 and counts["removed"] == counts["changed"] == 0
    assert counts["municipalities"] == 4
    again = admin.post("/admin/address-base", content=extract, headers=CSV).json()
    assert (again["added"], again["changed"], again["removed"], again["total"]) == (0, 0, 0, 21)

    dry = admin.post("/admin/address-base", params={"dry_run": "true"}, content=_changed_extract(), headers=CSV).json()
    assert (dry["added"], dry["changed"], dry["removed"], dry["dry_run"]) == (1, 1, 1, True)
    update = admin.post("/admin/address-base", content=gzip.compress(_changed_extract().encode()),
                        headers={"content-type": "application/gzip"}).json()
    assert (update["added"], update["changed"], update["removed"], update["total"]) == (1, 1, 1, 21)
    assert [e["detail"]["added"] for e in audited(admin, "address_base.imported")][:3] == [1, 0, counts["added"]]

    [grenette] = [a for a in resident.get("/addresses", params={"q": "5 bis grenette"}).json()
                  if a["street"] == "5 bis Place Grenette"]
    assert (grenette["postal_code"], grenette["municipality"], grenette["insee_code"]) == ("38000", "Grenoble", "38185")
    hyphen = resident.get("/addresses", params={"q": "felix poulat 1"}).json()
    assert hyphen[0]["street"] == "1 Rue Félix-Poulat" and hyphen[0]["label"] == "1 Rue Félix-Poulat, 38000 Grenoble"
    assert resident.get("/addresses", params={"q": "general de gaulle voiron"}).json() == []
    assert resident.get("/addresses", params={"q": "échirolles jaurès"}).json()[0]["insee_code"] == "38151"
    short = resident.get("/addresses", params={"q": "ab"})
    assert (short.status_code, short.json()["error"]) == (422, "address_query_too_short")

    for body, code in (("id;numero\n1;2\n", "address_file_missing_column"),
                       (extract.decode().replace(";38185;", ";38563;").replace(";38151;", ";38563;")
                        .replace(";38421;", ";38563;").replace(";38229;", ";38563;"), "address_file_empty")):
        refused = admin.post("/admin/address-base", content=body, headers=CSV)
        assert (refused.status_code, refused.json()["error"]) == (422, code)
    assert admin.post("/admin/address-base", params={"dry_run": "true"}, content=_changed_extract(),
                      headers=CSV).json()["total"] == 21

    env = stack.env("consent")
    cli = subprocess.run([sys.executable, "-m", "consent", "import-addresses", str(BAN_EXTRACT)], env=env,
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert cli.returncode == 0, cli.stderr
    assert "21 addresses read: 1 added, 1 changed, 1 removed; 21 in the base" in cli.stdout
