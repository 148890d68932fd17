"""Issue 22 item 5: manual statements for meters no channel reads, through the real stack.

Figures by hand: fuel oil 10.67 kWh per litre, logs 1 865 kWh per stère (arrêté du 27 août 2012, annex); gas
m³ × the bill's coefficient; the days between two statements share what was used, by degree days for a
heating use (May weighs more than June), evenly otherwise.
"""
from __future__ import annotations

import datetime as dt
import uuid

from devstack.client import ApiUser, admin_user
from devstack.db import fetch, fetchval, rows_mentioning
from devstack.events import publish, readings_event
from devstack.waiting import eventually
from metro.events import DwellingProfile, DwellingUpdated, Envelope, MeterDeclared

DWELLING = {"street": "3 rue Lesdiguières", "postal_code": "38000", "municipality": "Grenoble",
            "insee_code": "38185", "surface_m2": 70, "occupants": 2, "dwelling_type": "apartment",
            "heating_energy": "gas"}
D0 = dt.date(2026, 5, 1)


def resident(stack, heating: str = "gas") -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    assert user.put("/me/dwelling", json={**DWELLING, "heating_energy": heating}).status_code == 200
    return user


async def manual_meter(stack, user: ApiUser, energy: str, label: str = "compteur") -> str:
    r = user.post("/meters", json={"energy": energy, "dso": "manual", "label": label})
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "manual" and r.json()["consent"]["status"] == "active"
    assert r.json()["identifier"].startswith("manual-")
    meter_id = r.json()["id"]
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter_id)))
    return meter_id


def state(user: ApiUser, meter_id: str, day: dt.date, **body):
    return user.post(f"/meters/{meter_id}/statements", json={"taken_on": day.isoformat(), **body})


def days(user: ApiUser, meter_id: str, start: dt.date, end: dt.date) -> dict[str, tuple[int, str]]:
    r = user.get(f"/meters/{meter_id}/consumption", params={"from": start.isoformat(), "to": end.isoformat()})
    assert r.status_code == 200, r.text
    return {p["period"]: (p["wh"], p["quality"]) for p in r.json()["points"] if p["wh"] is not None}


def at(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


async def test_a_manual_meter_is_active_at_once_and_the_energy_between_statements_is_spread_as_estimated(stack):
    user = resident(stack)  # heated with gas: electricity is not a heating use here, its days weigh the same
    meter = await manual_meter(stack, user, "electricity")
    first = state(user, meter, at(0), index=1200)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] is None and first.json()["kind"] == "index"
    second = state(user, meter, at(30), index="1500.5")
    assert second.status_code == 201, second.text
    assert second.json()["amount"] == 300_500 and second.json()["days"] == 30
    got = days(user, meter, at(0), at(30))
    assert len(got) == 30 and sum(wh for wh, _ in got.values()) == 300_500
    assert {q for _, q in got.values()} == {"estimated"}
    assert max(wh for wh, _ in got.values()) - min(wh for wh, _ in got.values()) <= 1
    listed = user.get(f"/meters/{meter}/statements").json()
    assert [s["taken_on"] for s in listed] == [at(0).isoformat(), at(30).isoformat()]

    other = resident(stack)
    assert other.get(f"/meters/{meter}/statements").status_code == 404
    assert state(other, meter, at(40), index=1600).status_code == 404


async def test_gas_is_converted_with_the_coefficient_and_spread_by_degree_days(stack):
    user = resident(stack, heating="gas")
    meter = await manual_meter(stack, user, "gas")
    assert state(user, meter, at(0), index=1000).status_code == 201
    missing = state(user, meter, at(61), index=1100)
    assert missing.status_code == 422 and missing.json()["error"] == "conversion_coefficient_required"
    r = state(user, meter, at(61), index=1100, conversion_coefficient="11.2")
    assert r.status_code == 201, r.text
    assert r.json()["amount"] == 1_120_000  # 100 m³ × 11.2 kWh/m³
    got = days(user, meter, at(0), at(61))
    assert sum(wh for wh, _ in got.values()) == 1_120_000
    may, june = got[dt.date(2026, 5, 10).isoformat()][0], got[dt.date(2026, 6, 20).isoformat()][0]
    assert may > june * 1.5, (may, june)
    # The next statement reuses the coefficient the bill gave last time.
    again = state(user, meter, at(91), index=1110)
    assert again.status_code == 201 and again.json()["amount"] == 112_000


async def test_a_falling_index_is_refused_unless_the_meter_was_exchanged(stack):
    user = resident(stack)
    meter = await manual_meter(stack, user, "electricity")
    assert state(user, meter, at(0), index=5000).status_code == 201
    assert state(user, meter, at(30), index=5300).status_code == 201
    falling = state(user, meter, at(60), index=120)
    assert falling.status_code == 422 and falling.json()["error"] == "index_decreasing"
    # A back-dated statement above a later one is refused as well.
    between = state(user, meter, at(10), index=5400)
    assert between.status_code == 422 and between.json()["error"] == "index_decreasing"
    exchanged = state(user, meter, at(60), index=120, meter_change=True, old_meter_last_index=5480)
    assert exchanged.status_code == 201, exchanged.text
    assert exchanged.json()["amount"] == 300_000  # 180 kWh on the old meter + 120 on the new one
    # Without the old meter's last index the interval is unknown: nothing is spread over it.
    unknown = state(user, meter, at(90), index=10, meter_change=True)
    assert unknown.status_code == 201 and unknown.json()["amount"] is None
    assert days(user, meter, at(60), at(90)) == {}
    assert len(days(user, meter, at(0), at(60))) == 60


async def test_a_statement_far_from_the_homes_own_history_asks_for_confirmation(stack):
    user = resident(stack)
    meter = await manual_meter(stack, user, "electricity")
    assert state(user, meter, at(0), index=0).status_code == 201
    assert state(user, meter, at(30), index=300).status_code == 201  # 10 kWh a day
    high = state(user, meter, at(60), index=3300)  # 100 kWh a day
    assert high.status_code == 409 and high.json()["error"] == "statement_above_history", high.text
    assert "kWh a year" in high.json()["detail"]
    assert len(user.get(f"/meters/{meter}/statements").json()) == 2
    confirmed = state(user, meter, at(60), index=3300, confirmed=True)
    assert confirmed.status_code == 201 and confirmed.json()["confirmed_check"] == "statement_above_history"
    low = state(user, meter, at(90), index=3310)  # 0.33 kWh a day
    assert low.status_code == 409 and low.json()["error"] == "statement_below_history"


def _envelope(payload) -> Envelope:
    return Envelope(id=uuid.uuid4(), name=payload.name, producer="test", payload=payload.to_payload())


async def test_a_first_interval_far_above_similar_homes_asks_for_confirmation(stack):
    # Ten electrically heated homes of 70 m² using 10 kWh a day (as their connector would report them).
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    profile = DwellingProfile(insee_code="38185", surface_m2=70, occupants=2, dwelling_type="apartment",
                              heating_energy="electricity")
    envelopes = []
    peers = [uuid.uuid4() for _ in range(10)]
    for meter_id in peers:
        account = uuid.uuid4()
        envelopes += [_envelope(MeterDeclared(meter_id=meter_id, account_id=account, energy="electricity",
                                              dso="enedis", channel="dataconnect")),
                      _envelope(DwellingUpdated(account_id=account, profile=profile))]
    await publish(stack.amqp_url, *envelopes)
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = 10 from consumption.meters m join "
                                      "consumption.profiles p using (account_id) where meter_id = any($1)", peers))
    await publish(stack.amqp_url, *[readings_event(m, start, [10_000] * 30) for m in peers])
    # Peers are compared by their monthly rollups, which the pricing worker keeps after the readings.
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = 10 from consumption.monthly_rollups "
                                      "where meter_id = any($1) and days_present = 30", peers))

    user = resident(stack, heating="electricity")
    meter = await manual_meter(stack, user, "electricity")
    assert state(user, meter, start, index=0).status_code == 201
    high = state(user, meter, end, index=3000)  # 100 kWh a day
    assert high.status_code == 409 and high.json()["error"] == "statement_above_peers", high.text
    assert state(user, meter, end, index=400).status_code == 201  # 13 kWh a day: like the others


async def test_a_statement_beyond_any_dwellings_use_asks_for_confirmation_and_water_is_kept_in_litres(stack):
    user = resident(stack)
    meter = await manual_meter(stack, user, "water")
    assert state(user, meter, at(0), index="100.5").status_code == 201
    flood = state(user, meter, at(30), index="600.5")  # 500 m³ in a month
    assert flood.status_code == 409 and flood.json()["error"] == "statement_above_plausible_bound", flood.text
    r = state(user, meter, at(30), index="109.5")  # 300 litres a day
    assert r.status_code == 201 and r.json()["amount"] == 9_000 and r.json()["amount_unit"] == "L"
    assert sum(v for v, _ in days(user, meter, at(0), at(30)).values()) == 9_000


async def test_fuel_oil_and_wood_deliveries_become_kwh_filling_up_what_was_burnt(stack):
    user = resident(stack, heating="fuel_oil")
    oil = await manual_meter(stack, user, "fuel_oil", "cuve")
    first = state(user, oil, dt.date(2026, 1, 5), quantity=1000)
    assert first.status_code == 201 and first.json()["unit"] == "L" and first.json()["amount"] is None
    wrong = state(user, oil, dt.date(2026, 2, 1), index=10)
    assert wrong.status_code == 422 and wrong.json()["error"] == "statement_kind_not_for_energy"
    second = state(user, oil, dt.date(2026, 2, 24), quantity=500)
    assert second.status_code == 201, second.text
    assert second.json()["amount"] == 5_335_000  # 500 L × 10.67 kWh/L
    got = days(user, oil, dt.date(2026, 1, 5), dt.date(2026, 2, 24))
    assert len(got) == 50 and sum(v for v, _ in got.values()) == 5_335_000

    wood = await manual_meter(stack, user, "wood", "poêle")
    no_unit = state(user, wood, dt.date(2025, 10, 1), quantity=4)
    assert no_unit.status_code == 422 and no_unit.json()["error"] == "unit_not_for_energy"
    assert state(user, wood, dt.date(2025, 10, 1), quantity=4, unit="stere").status_code == 201
    logs = state(user, wood, dt.date(2026, 1, 1), quantity=3, unit="stere")
    assert logs.status_code == 201 and logs.json()["amount"] == 5_595_000  # 3 stères × 1 865 kWh


async def test_statements_are_refused_where_they_make_no_sense(stack):
    user = resident(stack)
    meter = await manual_meter(stack, user, "electricity")
    future = state(user, meter, dt.date.today() + dt.timedelta(days=1), index=1)
    assert future.status_code == 422 and future.json()["error"] == "statement_in_future"
    assert state(user, meter, at(0), index=1).status_code == 201
    twice = state(user, meter, at(0), index=2)
    assert twice.status_code == 409 and twice.json()["error"] == "statement_already_on_day"
    with_id = user.post("/meters", json={"energy": "electricity", "dso": "manual", "identifier": "123"})
    assert with_id.status_code == 422
    mixed = user.post("/meters", json={"energy": "fuel_oil", "dso": "enedis", "identifier": "12345678901234"})
    assert mixed.status_code == 422
    linky = user.post("/meters", json={"energy": "electricity", "dso": "enedis",
                                       "identifier": "".join(str(uuid.uuid4().int)[:14])})
    assert linky.status_code == 201, linky.text
    r = state(user, linky.json()["id"], at(0), index=1)
    assert r.status_code == 409 and r.json()["error"] == "meter_not_manual"
    assert user.delete(f"/meters/{meter}/consent").status_code == 200
    given_up = state(user, meter, at(5), index=2)
    assert given_up.status_code == 409 and given_up.json()["error"] == "consent_not_active"


async def test_statements_are_exported_and_erased_with_the_account(stack):
    user = resident(stack)
    meter = await manual_meter(stack, user, "electricity")
    assert state(user, meter, at(0), index=10).status_code == 201
    assert state(user, meter, at(20), index=110).status_code == 201
    exported = user.get("/me/export", params={"format": "json"}).json()["datasets"]
    rows = exported["consumption.statements"]["rows"]
    assert sorted(r["taken_on"] for r in rows) == [at(0).isoformat(), at(20).isoformat()]

    account_id, email = user.account["id"], user.email
    assert user.delete("/me").status_code == 202
    admin = admin_user(stack.url("gateway"))
    pending = [p for p in admin.get("/admin/erasure-requests").json() if p["email"] == email]
    assert admin.post(f"/admin/erasure-requests/{pending[0]['id']}/validate").status_code == 200
    await eventually(lambda: fetchval(stack.database_url, "select status = 'completed' from gateway.erasure_requests"
                                      " where id = $1", uuid.UUID(pending[0]["id"])), timeout=60)
    assert await fetch(stack.database_url, "select 1 from consumption.statements where meter_id = $1",
                       uuid.UUID(meter)) == []
    assert await rows_mentioning(stack.database_url, [account_id, meter]) == {}


async def test_a_meter_declared_a_moment_ago_lists_no_statement_and_asks_to_send_again_until_it_is_set_up(stack):
    # Consent answers the declaration at once; consumption hears of the meter from the bus a moment later. Here
    # consumption has not heard of it yet (its row is taken away, as before the event arrived).
    user = resident(stack)
    meter = await manual_meter(stack, user, "electricity")
    await fetchval(stack.database_url, "delete from consumption.meters where meter_id = $1", uuid.UUID(meter))
    listed = user.get(f"/meters/{meter}/statements")
    assert listed.status_code == 200 and listed.json() == [], listed.text
    early = state(user, meter, at(0), index=1200)
    assert early.status_code == 503 and early.json()["error"] == "meter_being_set_up", early.text
    assert early.headers["retry-after"] == "2"
    assert ApiUser(stack.url("gateway")).signup().get(f"/meters/{meter}/statements").status_code == 404

    account = uuid.UUID(user.get("/me").json()["id"])
    await publish(stack.amqp_url, _envelope(MeterDeclared(meter_id=uuid.UUID(meter), account_id=account,
                                                          energy="electricity", dso="manual", channel="manual")))
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter)))
    assert state(user, meter, at(0), index=1200).status_code == 201  # the same statement, sent again
