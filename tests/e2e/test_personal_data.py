"""Issue 8: one registry walked by export and erasure, one-button deletion across services, sharing."""
from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import random
import string
import uuid
import zipfile
from zoneinfo import ZoneInfo

import httpx
import pytest

from devstack.client import STRONG_PASSWORD, ApiUser, admin_user, random_prm
from devstack.db import fetch, fetchval, rows_mentioning
from devstack.events import connect, publish, readings_event
from devstack.waiting import eventually
from ingest_grdf.adict import years_before
from ingest_grdf.service import latest_published_day
from metro.events import AnomalyDetected, Envelope, LoadCurveCollected
from metro.services import NAMES

DWELLING = {"street": "12 rue Thiers", "postal_code": "38000", "municipality": "Grenoble", "insee_code": "38185",
            "surface_m2": 70, "occupants": 2, "dwelling_type": "apartment", "heating_energy": "electricity"}
# Tables that name an account or a meter but hold no personal data of their own, each with the reason.
NOT_PERSONAL = {
    "gateway.erasure_requests": "the deletion saga's state; the account id is cleared when erasure completes",
    "consent.building_meters": "an organisation's buildings and the meters it holds itself, never a resident's",
    "consent.building_meter_roles": "what an organisation's own building meters measure for its statements",
}
REFERENCE_COLUMNS = ("account_id", "meter_id", "resident_id", "adviser_id", "reader_id")


def registry() -> list:
    """Every service's personal-data registry, as its ServiceSpec names it."""
    return [entry for name in NAMES for entry in importlib.import_module(f"{name}.app").spec().personal_data]


def registry_names() -> set[str]:
    return {entry.name for entry in registry()}


async def resident_with_data(stack, *, days: int = 30) -> tuple[ApiUser, dict]:
    user = ApiUser(stack.url("gateway")).signup()
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()})
    assert r.status_code == 201, r.text
    meter = r.json()
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter["id"])))
    bus = await connect(stack.amqp_url)
    await bus.publish(readings_event(meter["id"], dt.date(2025, 1, 1), [1000 + i for i in range(days)]))
    await bus.close()
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = $2 from consumption.readings "
                                      "where meter_id=$1", uuid.UUID(meter["id"]), days))
    # ... and priced by consumption's pricing worker, so that what the export holds is settled.
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = $2 from consumption.priced_days "
                                      "where meter_id=$1", uuid.UUID(meter["id"]), days))
    return user, meter


def share_body(adviser: ApiUser, *scopes: str) -> dict:
    return {"adviser_email": adviser.email, "resident_name": "Habitant", "scopes": list(scopes)}


def make_adviser(stack) -> ApiUser:
    adviser = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    r = admin.put(f"/admin/accounts/{adviser.account['id']}/roles", json={"roles": ["adviser"]})
    assert r.status_code == 200, r.text
    return adviser


async def test_every_table_that_names_an_account_or_meter_is_in_the_registry(stack):
    names = registry_names()
    referencing = await fetch(stack.database_url, """
        SELECT DISTINCT table_schema || '.' || table_name FROM information_schema.columns c
        JOIN pg_class k ON k.relname = c.table_name
        JOIN pg_namespace n ON n.oid = k.relnamespace AND n.nspname = c.table_schema
        WHERE column_name = ANY($1::text[]) AND NOT k.relispartition""", list(REFERENCE_COLUMNS))
    missing = {r[0] for r in referencing} - names - set(NOT_PERSONAL)
    assert not missing, f"tables with an account or meter reference missing from the registry: {sorted(missing)}"
    accounts = await fetch(stack.database_url, "select 1 from information_schema.tables "
                                               "where table_schema='gateway' and table_name='accounts'")
    assert accounts and "gateway.accounts" in names


async def test_export_holds_every_registered_table_with_own_rows_and_nothing_of_anyone_else(stack):
    alice, alice_meter = await resident_with_data(stack)
    bob, bob_meter = await resident_with_data(stack)
    adviser = make_adviser(stack)
    assert alice.post("/me/shares", json=share_body(adviser, "consumption")).status_code == 201

    document = alice.get("/me/export", params={"format": "json"})
    assert document.status_code == 200
    assert "attachment" in document.headers["content-disposition"]
    datasets = document.json()["datasets"]
    for entry_name in registry_names():
        schema, table = entry_name.split(".")
        own = [e for e in registry() if e.name == entry_name][0]
        expected = await fetchval(stack.database_url, f"""select count(*) from "{schema}"."{table}" t where """ +
                                  " or ".join(f"t.{c}::text = any($1::text[])" for c in
                                              ([own.account_column] if isinstance(own.account_column, str)
                                               else list(own.account_column or ())) +
                                              ([own.meter_column] if own.meter_column else [])),
                                  [alice.account["id"], alice_meter["id"]])
        got = len(datasets.get(entry_name, {}).get("rows", []))
        assert got == expected, f"{entry_name}: exported {got} rows, database holds {expected}"
    assert len(datasets["consumption.readings"]["rows"]) == 30
    assert datasets["gateway.accounts"]["rows"][0]["email"] == alice.email
    text = document.text
    for foreign in (bob.account["id"], bob_meter["id"], bob.email):
        assert foreign not in text
    assert "password_hash" not in text and "token_hash" not in text and "state_hash" not in text

    archive = zipfile.ZipFile(io.BytesIO(alice.get("/me/export", params={"format": "csv"}).content))
    names = set(archive.namelist())
    assert {"consumption.readings.csv", "gateway.accounts.csv", "consent.meters.csv"} <= names
    readings = archive.read("consumption.readings.csv").decode().splitlines()
    assert len(readings) == 31 and readings[0].startswith("meter_id,day,wh")
    assert json.loads(alice.get("/me/data").text)["account_id"] == alice.account["id"]


async def test_one_button_deletion_erases_every_trace_after_the_administrators_check(stack):
    alice, meter = await resident_with_data(stack)
    adviser = make_adviser(stack)
    share = alice.post("/me/shares", json=share_body(adviser, "consumption", "dwelling"))
    assert share.status_code == 201
    assert adviser.get(f"/adviser/residents/{alice.account['id']}/dwelling").status_code == 200
    account_id, email = alice.account["id"], alice.email

    r = alice.delete("/me")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending_validation"
    assert alice.get("/me").status_code == 401
    assert ApiUser(stack.url("gateway")).login(email).status_code in (401, 403)
    meters = await fetch(stack.database_url, "select status, reason from consent.consents where account_id=$1",
                         uuid.UUID(account_id))
    assert all(m["status"] in ("revoked", "refused") for m in meters)

    admin = admin_user(stack.url("gateway"))
    pending = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
    assert pending and pending[0]["status"] == "pending_validation"
    assert admin.post(f"/admin/erasure-requests/{pending[0]['id']}/validate").status_code == 200

    async def erased():
        return await fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests "
                                                  "where id = $1", uuid.UUID(pending[0]["id"]))
    await eventually(erased, timeout=60)
    traces = await rows_mentioning(stack.database_url, [account_id, meter["id"], meter["identifier"], email])
    assert traces == {}
    assert admin.get("/me").status_code == 200
    again = ApiUser(stack.url("gateway"))
    assert again.post("/auth/signup", json={"email": email, "password": STRONG_PASSWORD, "accepted_terms_version":
                                            again.http.get("/terms/current").json()["version"]}).status_code == 201


async def test_the_export_holds_the_residents_load_curve_days_and_erasure_removes_them(stack):
    alice, meter = await resident_with_data(stack, days=5)
    meter_id = uuid.UUID(meter["id"])
    first = dt.date(2025, 1, 1)
    days = [(first + dt.timedelta(days=i), 30, [400 + 10 * i] * 47 + [None]) for i in range(3)]
    peaks = [(d, 5200 + i, dt.datetime.combine(d, dt.time(19, 30), ZoneInfo("Europe/Paris")))
             for i, (d, _, _) in enumerate(days)]
    curve = LoadCurveCollected(meter_id=meter_id, source="test", days=days, max_power=peaks)
    await publish(stack.amqp_url, Envelope(name=curve.name, producer="test", payload=curve.to_payload()))
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = 3 from consumption.load_curve_days "
                                      "where meter_id = $1", meter_id))
    served = alice.get(f"/meters/{meter['id']}/load-curve", params={"from": "2025-01-01", "to": "2025-01-04"})
    assert [d["day"] for d in served.json()["days"]] == ["2025-01-01", "2025-01-02", "2025-01-03"]

    rows = alice.get("/me/export", params={"format": "json"}).json()["datasets"]["consumption.load_curve_days"]["rows"]
    exported = {r["day"]: r for r in rows}
    assert sorted(exported) == ["2025-01-01", "2025-01-02", "2025-01-03"]
    second = exported["2025-01-02"]
    assert second["meter_id"] == meter["id"] and second["step_minutes"] == 30
    assert second["watts"] == [410] * 47 + [None] and second["max_va"] == 5201
    archive = zipfile.ZipFile(io.BytesIO(alice.get("/me/export", params={"format": "csv"}).content))
    lines = archive.read("consumption.load_curve_days.csv").decode().splitlines()
    assert len(lines) == 4 and "watts" in lines[0] and "max_va" in lines[0]

    account_id, email = alice.account["id"], alice.email
    assert alice.delete("/me").status_code == 202
    admin = admin_user(stack.url("gateway"))
    [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
    assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200
    await eventually(lambda: fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests "
                                      "where id = $1", uuid.UUID(pending["id"])), timeout=60)
    assert await fetchval(stack.database_url, "select count(*) from consumption.load_curve_days "
                                              "where meter_id = $1", meter_id) == 0
    assert await rows_mentioning(stack.database_url, [account_id, meter["id"], email]) == {}


async def gas_meter_collected(stack, grdf: httpx.Client, user: ApiUser, admin: ApiUser, surname: str) -> dict:
    """A PCE declared by the resident, validated by the holder at the ADICT sandbox, and its three years of
    gas days collected into consumption."""
    pce = "38" + "".join(random.choices(string.digits, k=12))
    r = grdf.post("/customers", json={"pce": pce, "holder_name": surname, "postal_code": "38000",
                                      "profile": "heating"})
    assert r.status_code == 201, r.text
    r = user.post("/meters", json={"energy": "gas", "dso": "grdf", "identifier": pce, "grdf_holder": {
        "holder_name": f"Jeanne {surname.title()}", "postal_code": "38000", "email": user.email}})
    assert r.status_code == 201, r.text
    meter = r.json()
    [right] = [x for x in grdf.get("/access_rights").json() if x["id_pce"] == pce]
    assert grdf.post(f"/holder/{right['id_droit_acces']}/accept").status_code == 200
    await eventually(lambda: {m["id"]: m for m in user.get("/meters").json()}[meter["id"]]["consent"]["status"]
                     == "active", timeout=30)
    today = dt.datetime.now(ZoneInfo("Europe/Paris")).date()
    truth = grdf.get(f"/ground_truth/{pce}", params={
        "start": (years_before(today, 3) + dt.timedelta(days=1)).isoformat(),
        "end": (latest_published_day(dt.datetime.now(dt.UTC)) + dt.timedelta(days=1)).isoformat()}).json()["days"]
    assert len(truth) > 1000
    assert admin.post("/admin/collections/grdf/run").status_code == 202
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = $2 from consumption.readings "
                                      "where meter_id = $1", uuid.UUID(meter["id"]), len(truth)),
                     timeout=120, interval=1)
    return {**meter, "access_right_id": right["id_droit_acces"]}


async def test_deletion_gives_the_gas_access_right_up_at_grdf_even_if_adict_is_down_and_leaves_no_trace(stack):
    grdf = httpx.Client(base_url=stack.sandboxes["grdf"].url + "/_sandbox", timeout=30)
    admin = admin_user(stack.url("gateway"))
    try:
        alice, power = await resident_with_data(stack)
        surname = "".join(random.choices(string.ascii_uppercase, k=10))
        gas = await gas_meter_collected(stack, grdf, alice, admin, surname)
        account_id, email = alice.account["id"], alice.email

        def right_at_grdf() -> dict:
            [right] = [x for x in grdf.get("/access_rights").json() if x["id_droit_acces"] == gas["access_right_id"]]
            return right
        assert right_at_grdf()["etat_droit_acces"] == "Active"

        # ADICT is down from the deletion until every service has erased its part.
        assert grdf.post("/faults", json={"kind": "outage", "minutes": 30}).status_code == 200
        r = alice.delete("/me")
        assert r.status_code == 202, r.text
        [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
        assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200
        await eventually(lambda: fetchval(stack.database_url, "select status = 'completed' from "
                                          "gateway.erasure_requests where id = $1", uuid.UUID(pending["id"])),
                         timeout=90, interval=0.5)
        assert right_at_grdf()["etat_droit_acces"] == "Active"
        assert grdf.delete("/faults").status_code == 200

        def revoked_at_grdf() -> dict:
            right = right_at_grdf()
            assert (right["etat_droit_acces"], right["source_revocation"]) == ("Révoquée", "Tiers"), right
            return right
        await eventually(revoked_at_grdf, timeout=60, interval=0.5)

        needles = [account_id, email, power["id"], power["identifier"], gas["id"], gas["identifier"], surname]
        assert await rows_mentioning(stack.database_url, needles) == {}
    finally:
        grdf.delete("/faults")
        grdf.close()
        admin.close()


async def test_erasure_completes_by_itself_after_the_delay_if_nobody_acts(stack):
    alice, meter = await resident_with_data(stack, days=3)
    assert alice.delete("/me").status_code == 202
    # The administrator does nothing; the configured delay passes (moved back in time here).
    await fetch(stack.database_url, "update gateway.erasure_requests set due_at = now() - interval '1 second' "
                                    "where account_id = $1", uuid.UUID(alice.account["id"]))

    async def erased():
        return not await rows_mentioning(stack.database_url, [alice.account["id"], meter["id"]])
    await eventually(erased, timeout=120, interval=1)


async def test_adviser_reads_only_what_was_shared_and_every_read_is_logged(stack):
    alice, meter = await resident_with_data(stack, days=5)
    adviser = make_adviser(stack)
    base = f"/adviser/residents/{alice.account['id']}"
    assert adviser.get(f"{base}/meters").status_code == 404
    share = alice.post("/me/shares", json=share_body(adviser, "consumption")).json()
    assert [r["resident_id"] for r in adviser.get("/adviser/residents").json()] == [alice.account["id"]]
    series = adviser.get(f"{base}/meters/{meter['id']}/consumption", params={"from": "2025-01-01", "to": "2025-01-06"})
    assert series.status_code == 200 and [p["wh"] for p in series.json()["points"]] == [1000, 1001, 1002, 1003, 1004]
    assert adviser.get(f"{base}/dwelling").status_code == 404, "profile was not shared"
    log = alice.get("/me/access-log").json()
    assert [(e["reader_name"], e["reader_role"]) for e in log] == [(adviser.email, "adviser")]
    assert "consumption of meter" in log[0]["what"]
    assert alice.delete(f"/me/shares/{share['id']}").status_code == 200
    assert adviser.get(f"{base}/meters/{meter['id']}/consumption",
                       params={"from": "2025-01-01", "to": "2025-01-06"}).status_code == 404
    assert adviser.get("/adviser/residents").json() == []
    assert alice.get("/me/shares").json()[0]["revoked_at"] is not None


async def test_sharing_with_someone_who_is_not_an_adviser_is_refused(stack, resident):
    other = ApiUser(stack.url("gateway")).signup()
    r = resident.post("/me/shares", json=share_body(other, "consumption"))
    assert r.status_code == 404 and r.json()["error"] == "adviser_not_found"


@pytest.fixture(scope="module")
async def matrix(stack):
    owner, meter = await resident_with_data(stack, days=2)
    stranger = ApiUser(stack.url("gateway")).signup()
    shared = make_adviser(stack)
    unshared = make_adviser(stack)
    revoked = make_adviser(stack)
    owner.post("/me/shares", json=share_body(shared, "consumption", "dwelling"))
    gone = owner.post("/me/shares", json=share_body(revoked, "consumption", "dwelling")).json()
    owner.delete(f"/me/shares/{gone['id']}")
    admin = admin_user(stack.url("gateway"))
    return {"owner": owner, "stranger": stranger, "adviser_shared": shared, "adviser_unshared": unshared,
            "adviser_revoked": revoked, "admin": admin, "anonymous": ApiUser(stack.url("gateway")), "meter": meter}


RESIDENT_PATHS = ["/meters/{meter}", "/meters/{meter}/consumption?from=2025-01-01&to=2025-01-03",
                  "/meters/{meter}/consents"]
ADVISER_PATHS = ["/adviser/residents/{owner}/meters", "/adviser/residents/{owner}/dwelling",
                 "/adviser/residents/{owner}/meters/{meter}/consumption?from=2025-01-01&to=2025-01-03"]
EXPECTED = {
    # who: (resident paths, adviser paths)
    "owner": (200, 403),
    "stranger": (404, 403),
    "adviser_shared": (404, 200),
    "adviser_unshared": (404, 404),
    "adviser_revoked": (404, 404),
    "admin": (404, 403),
    "anonymous": (401, 401),
}


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_role_and_ownership_matrix(matrix, who):
    client = matrix[who]
    ids = {"meter": matrix["meter"]["id"], "owner": matrix["owner"].account["id"]}
    for paths, expected in zip((RESIDENT_PATHS, ADVISER_PATHS), EXPECTED[who]):
        for path in paths:
            r = client.get(path.format(**ids))
            assert r.status_code == expected, f"{who} GET {path}: {r.status_code} {r.text[:200]}"
    admin_only = client.get("/admin/erasure-requests")
    assert admin_only.status_code == {"admin": 200, "anonymous": 401}.get(who, 403)


async def test_an_erased_adviser_stays_in_the_residents_access_log_under_a_pseudonym(stack):
    alice, meter = await resident_with_data(stack, days=2)
    adviser = make_adviser(stack)
    assert alice.post("/me/shares", json=share_body(adviser, "consumption")).status_code == 201
    assert adviser.get(f"/adviser/residents/{alice.account['id']}/meters/{meter['id']}/consumption",
                       params={"from": "2025-01-01", "to": "2025-01-03"}).status_code == 200
    adviser_id, adviser_email = adviser.account["id"], adviser.email
    assert adviser.delete("/me").status_code == 202
    admin = admin_user(stack.url("gateway"))
    [pending] = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == adviser_email]
    assert admin.post(f"/admin/erasure-requests/{pending['id']}/validate").status_code == 200

    async def erased():
        return await fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests "
                                                  "where id = $1", uuid.UUID(pending["id"]))
    await eventually(erased, timeout=60)
    assert await rows_mentioning(stack.database_url, [adviser_id, adviser_email]) == {}
    [entry] = alice.get("/me/access-log").json()
    assert entry["reader_role"] == "adviser" and "consumption of meter" in entry["what"]
    assert entry["reader_name"].startswith("conseiller supprimé / deleted adviser #")
    # The same pseudonym in every row of that adviser, so the resident can still tell readers apart.
    stand_in = await fetchval(stack.database_url, "select reader_id from consent.access_log where resident_id = $1",
                              uuid.UUID(alice.account["id"]))
    assert stand_in != uuid.UUID(adviser_id)


@pytest.fixture(scope="module")
async def write_matrix(stack):
    """A world of its own for the writes: an owner with a meter, a share with one adviser, a revoked share with
    another, and an in-app notification."""
    owner, meter = await resident_with_data(stack, days=2)
    shared, unshared, revoked = make_adviser(stack), make_adviser(stack), make_adviser(stack)
    share = owner.post("/me/shares", json=share_body(shared, "consumption", "dwelling"))
    gone = owner.post("/me/shares", json=share_body(revoked, "consumption")).json()
    assert share.status_code == 201 and owner.delete(f"/me/shares/{gone['id']}").status_code == 200
    await publish(stack.amqp_url, Envelope(name=AnomalyDetected.name, producer="consumption", payload={
        "meter_id": meter["id"], "account_id": owner.account["id"], "episode_key": "2025-01-01", "kind": "day",
        "start": "2025-01-01", "end": "2025-01-02", "expected_wh": 1000, "observed_wh": 9000, "excess_wh": 8000}))
    [note] = await eventually(lambda: owner.get("/me/notifications").json(), timeout=30)
    return {"owner": owner, "stranger": ApiUser(stack.url("gateway")).signup(), "adviser_shared": shared,
            "adviser_unshared": unshared, "adviser_revoked": revoked, "admin": admin_user(stack.url("gateway")),
            "anonymous": ApiUser(stack.url("gateway")), "meter": meter["id"], "share": share.json()["id"],
            "notification": note["id"]}


CONTRACT = {"tariff_option": "HPHC", "subscribed_kva": 6, "offpeak_hours": "22:00-06:00"}
# (method, path, body) in the order tried: the owner, tried last, finds every row as the others left it.
WRITES = [
    ("PUT", "/me/dwelling", DWELLING),
    ("PUT", "/meters/{meter}/contract", CONTRACT),
    ("POST", "/me/notifications/{notification}/read", None),
    ("POST", "/meters/{meter}/address-confirmation", None),
    ("POST", "/admin/address-mismatches/{meter}", {"decision": "clear"}),
    ("DELETE", "/me/shares/{share}", None),
    ("DELETE", "/meters/{meter}/consent", None),
]
# who: the status of each write above. /me routes act on the caller's own data, so every signed-in caller
# may write their own dwelling; everything of the owner's answers 404 to anyone else (nothing disclosed), the
# administrator's decision 403 to anyone else; the owner's address is not in question (409, past the checks).
WRITE_EXPECTED = {
    "stranger": (200, 404, 404, 404, 403, 404, 404),
    "adviser_shared": (200, 404, 404, 404, 403, 404, 404),
    "adviser_unshared": (200, 404, 404, 404, 403, 404, 404),
    "adviser_revoked": (200, 404, 404, 404, 403, 404, 404),
    "admin": (200, 404, 404, 404, 409, 404, 404),
    "anonymous": (401, 401, 401, 401, 401, 401, 401),
    "owner": (200, 200, 200, 409, 403, 200, 200),
}


@pytest.mark.parametrize("who", list(WRITE_EXPECTED))
def test_role_and_ownership_matrix_for_writes(write_matrix, who):
    client = write_matrix[who]
    ids = {k: write_matrix[k] for k in ("meter", "share", "notification")}
    got = []
    for method, path, body in WRITES:
        r = client.request(method, path.format(**ids), **({"json": body} if body is not None else {}))
        got.append(r.status_code)
        if r.status_code >= 400:
            assert r.json()["error"] and r.json()["detail"], r.text
    assert tuple(got) == WRITE_EXPECTED[who], list(zip([f"{m} {p}" for m, p, _ in WRITES], got))
    owner = write_matrix["owner"]
    if who != "owner":
        assert owner.get(f"/meters/{ids['meter']}").json()["consent"]["status"] != "revoked"
        assert [s["revoked_at"] for s in owner.get("/me/shares").json() if s["id"] == ids["share"]] == [None]
        assert owner.get("/me/notifications").json()[0]["read_at"] is None
        assert owner.get(f"/meters/{ids['meter']}/contract").json()["origin"] != "resident"
