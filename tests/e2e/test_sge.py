"""Enedis SGE file channel end to end: consents → subscriptions, the SFTP drop polled by the real ingest-sge
process, R151 files decrypted and parsed, daily energy in the consumption database equal to the ground truth,
and residents whose subscription an administrator recorded reading theirs through the gateway."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import uuid
from pathlib import Path

import aio_pika
import asyncssh
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from devstack.client import ApiUser, admin_user
from devstack.db import fetch, fetchval
from devstack.events import connect
from devstack.sandboxes import known_hosts_line
from devstack.stack import ROOT
from devstack.waiting import eventually
from ingest_sge.service import CAPABILITIES
from metro.dso import freshness
from metro.events import EXCHANGE, ConsentGranted, ConsentRevoked, Envelope
from metro.service_auth import ServiceTokens
from tests.sandboxes.sge import generator as gen

pytestmark = pytest.mark.timeout(900)

START = dt.date(2026, 3, 1)
DAYS = 30
PRMS = [f"{21000000000000 + i * 7919:014d}" for i in range(3500)]
PGP_PRMS = PRMS[-3:]
REPLACED, MISSING, MISSING_TWICE, REVOKED = PRMS[0], PRMS[1], PRMS[2], PRMS[4]
UNCONSENTED = "29999999999999"
SCENARIOS = {REPLACED: {"replacement_day": str(START + dt.timedelta(days=10))},
             MISSING: {"missing_days": [str(START + dt.timedelta(days=14))]},
             MISSING_TWICE: {"missing_days": [str(START + dt.timedelta(days=5)), str(START + dt.timedelta(days=6))]}}


def _consent(prm: str, meter_id: uuid.UUID, *, expires_at: dt.datetime | None = None) -> dict:
    return {"consent_id": str(uuid.uuid4()), "meter_id": str(meter_id), "account_id": str(uuid.uuid4()),
            "dso": "enedis", "channel": "sge", "identifier": prm, "energy": "electricity",
            "history_from": "2025-01-01",
            "expires_at": (expires_at or dt.datetime(2027, 3, 1, tzinfo=dt.UTC)).isoformat(),
            "dso_reference": "M0" + prm[-6:]}


async def _publish(amqp_url: str, events: list[tuple[str, dict]]) -> None:
    bus = await connect(amqp_url)
    try:
        for i in range(0, len(events), 250):
            await asyncio.gather(*(bus.publish(Envelope(name=n, producer="consent", payload=p))
                                   for n, p in events[i:i + 250]))
    finally:
        await bus.close()


@pytest.fixture(scope="module")
def sge(stack):
    handle = stack.sandboxes["sge"]
    token = ServiceTokens.local("gateway").issue("ingest_sge")
    return {"handle": handle, "sandbox": handle.url, "service": stack.url("ingest_sge"),
            "metrics": stack.metrics_url("ingest_sge"),
            "headers": {"authorization": f"Bearer {token}"}}


def _headers(sge) -> dict:
    # Service tokens live a minute; this module runs longer than that.
    return {"authorization": "Bearer " + ServiceTokens.local("gateway").issue("ingest_sge")}


async def _report(sge) -> dict:
    async with httpx.AsyncClient(base_url=sge["service"], timeout=30) as http:
        r = await http.get("/internal/collections", headers=_headers(sge))
        assert r.status_code == 200, r.text
        return r.json()


async def _run(sge) -> dict:
    async with httpx.AsyncClient(base_url=sge["service"], timeout=600) as http:
        r = await http.post("/internal/collections/run", headers=_headers(sge))
        assert r.status_code == 200, r.text
        return r.json()


async def _truth(sandbox: str, prms: list[str], start: dt.date, end: dt.date) -> dict[str, dict[str, int | None]]:
    sem = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=sandbox, timeout=30) as http:
        async def one(prm):
            async with sem:
                for attempt in range(3):  # an idempotent read of the sandbox's truth, whose server may drop a socket
                    try:
                        r = await http.get(f"/_sandbox/ground_truth/{prm}",
                                           params={"start": str(start), "end": str(end)})
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                        await asyncio.sleep(1)
                assert r.status_code == 200, r.text
                return prm, {d["day"]: d["energy_wh"] for d in r.json()["days"]}
        return dict(await asyncio.gather(*(one(p) for p in prms)))


async def _stored(database_url: str, meters: dict[str, uuid.UUID], start: dt.date, end: dt.date):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text(
                "select meter_id, day, wh, quality, source from consumption.readings "
                "where meter_id = any(:m) and day between :s and :e"),
                {"m": list(meters.values()), "s": start, "e": end})).all()
    finally:
        await engine.dispose()
    prm_of = {m: p for p, m in meters.items()}
    out: dict[str, dict[str, int]] = {p: {} for p in meters}
    for r in rows:
        out[prm_of[r.meter_id]][r.day.isoformat()] = r.wh
    return out, rows


@pytest.fixture(scope="module")
async def thirty_days(stack, sge):
    """3 500 PRMs consented and subscribed, 30 days published, collected by the poller or on demand."""
    meters = {p: uuid.uuid4() for p in PRMS}
    granted = [_consent(p, m) for p, m in meters.items()]
    revoked = next(g for g in granted if g["identifier"] == REVOKED)
    await _publish(stack.amqp_url, [(ConsentGranted.name, g) for g in granted]
                   + [(ConsentRevoked.name, {**revoked, "reason": "user"})])

    async def subscribed():
        return (await _report(sge))["subscriptions"]["active"] == len(PRMS) - 1
    await eventually(subscribed, timeout=300, interval=1)
    end = START + dt.timedelta(days=DAYS - 1)
    async with httpx.AsyncClient(base_url=sge["sandbox"], timeout=180) as http:
        aes = [p for p in PRMS if p not in PGP_PRMS] + [UNCONSENTED]
        assert (await http.post("/_sandbox/subscriptions", json={"prms": aes})).status_code == 200
        assert (await http.post("/_sandbox/subscriptions", json={"prms": PGP_PRMS, "encryption": "pgp"})).status_code == 200
        for prm, scenario in SCENARIOS.items():
            assert (await http.put(f"/_sandbox/scenario/{prm}", json=scenario)).status_code == 200
        files = (await http.post("/_sandbox/publish", json={"start": str(START), "end": str(end)})).json()["files"]
    first = await _run(sge)
    truth = await _truth(sge["sandbox"], PRMS, START, end)
    expected = {p: {d: v for d, v in days.items() if v is not None} for p, days in truth.items()}
    expected[REVOKED] = {}
    want = sum(len(v) for v in expected.values())

    async def all_stored():
        stored, rows = await _stored(stack.database_url, meters, START, end)
        return (stored, rows) if len(rows) >= want else None
    stored, rows = await eventually(all_stored, timeout=300, interval=2)
    return {"meters": meters, "files": files, "first": first, "truth": truth, "expected": expected,
            "stored": stored, "rows": rows}


async def test_thirty_days_of_3500_prms_match_the_ground_truth_for_every_day(thirty_days):
    stored, expected = thirty_days["stored"], thirty_days["expected"]
    assert len(thirty_days["files"]) == DAYS * 3  # 2 AES zips (3 000 + 498 PRMs) and 1 OpenPGP file a day
    assert sum(len(v) for v in expected.values()) > 3499 * (DAYS - 1) - 10
    mismatched = [p for p in PRMS if stored[p] != expected[p]]
    assert not mismatched, (mismatched[:5], {p: (stored[p], expected[p]) for p in mismatched[:2]})
    assert {(r.quality, r.source) for r in thirty_days["rows"]} == {("measured", "enedis.sge")}


async def test_meter_replacement_and_missing_days_leave_gaps_not_wrong_values(thirty_days):
    stored = thirty_days["stored"]
    day = lambda n: str(START + dt.timedelta(days=n))  # noqa: E731
    assert day(10) not in stored[REPLACED] and day(11) in stored[REPLACED] and day(9) in stored[REPLACED]
    assert 0 < stored[REPLACED][day(11)] < 24 * 12_000
    assert {day(14), day(15)}.isdisjoint(stored[MISSING]) and day(16) in stored[MISSING]
    assert {day(5), day(6), day(7)}.isdisjoint(stored[MISSING_TWICE]) and day(8) in stored[MISSING_TWICE]
    assert len(stored[PRMS[10]]) == DAYS - 1  # the first day has no previous index to difference against


async def test_unconsented_and_revoked_prms_are_not_published(thirty_days, sge):
    assert thirty_days["stored"][REVOKED] == {}
    report = await _report(sge)
    assert report["files"]["imported"] >= DAYS * 3
    assert report["quarantined"] == []
    # Each day's file carries the PRM nobody consented to and the revoked one: read, never published.
    assert report["readings"]["unsubscribed"] >= 2 * DAYS
    assert report["readings"]["published"] == sum(len(v) for v in thirty_days["expected"].values())


async def _replay(stack, *args: str) -> dict:
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingest_sge", "replay", *args], cwd=ROOT,
        env=stack.env("ingest_sge"), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


async def _readings(database_url: str, meter_ids: list[uuid.UUID]) -> list[tuple]:
    return [tuple(r) for r in await fetch(
        database_url, "select meter_id, day, wh, quality, source, extra, collected_at "
                      "from consumption.readings where meter_id = any($1::uuid[]) order by meter_id, day",
        meter_ids)]


async def test_replay_of_the_kept_files_republishes_the_same_days_and_a_second_changes_nothing(
        stack, thirty_days):
    prms = [REPLACED, MISSING, PRMS[10]]
    meter_ids = [thirty_days["meters"][p] for p in prms]
    collected = await _readings(stack.database_url, meter_ids)
    assert len(collected) == sum(len(thirty_days["expected"][p]) for p in prms)
    # A day stored wrong downstream, as a parser bug would have left it.
    damaged = (await fetch(stack.database_url, "update consumption.readings set wh = wh + 1000 "
                                               "where meter_id = $1 and day = $2 returning day",
                           thirty_days["meters"][PRMS[10]], START + dt.timedelta(days=12)))[0]["day"]
    kept = await fetchval(stack.database_url, "select count(*) from ingest_sge.raw_files where kind = 'zip'")
    since = dt.datetime.now(dt.UTC)

    first = await _replay(stack, *(a for p in prms for a in ("--prm", p)))
    assert first == {"meters": 3, "payloads": kept, "days": len(collected), "events": 3, "unreadable": 0}

    async def put_right():
        rows = await _readings(stack.database_url, meter_ids)
        return rows if [r[:6] for r in rows] == [r[:6] for r in collected] else None
    repaired = await eventually(put_right, timeout=90)
    assert [r for r in repaired if r[1] != damaged] == [r for r in collected if r[1] != damaged], \
        "an unchanged day is left as it was (collected_at included)"

    second = await _replay(stack, *(a for m in meter_ids for a in ("--meter", str(m))))
    assert second == first

    async def handled():
        ids = [r["id"] for r in await fetch(
            stack.database_url, "select id from ingest_sge.outbox where name = 'readings.collected' "
                                "and occurred_at >= $1 and published_at is not null "
                                "and payload->>'meter_id' = any($2::text[])",
            since, [str(m) for m in meter_ids])]
        return len(ids) == 6 and await fetchval(
            stack.database_url, "select count(*) from consumption.inbox where event_id = any($1::uuid[])",
            ids) == 6
    await eventually(handled, timeout=90)
    assert await _readings(stack.database_url, meter_ids) == repaired, "the second replay changed nothing"

    # The revoked PRM's days are in the same files: never published.
    assert (await _replay(stack, "--prm", REVOKED))["days"] == 0
    week = await _replay(stack, "--prm", PRMS[10], "--from", str(START + dt.timedelta(days=10)),
                         "--to", str(START + dt.timedelta(days=16)))
    assert (week["meters"], week["days"], week["events"]) == (1, 7, 1)


async def test_collected_files_leave_the_drop(thirty_days, sge):
    async def empty():
        left = [p.name for p in Path(sge["handle"].info["drop"]).iterdir() if p.name.startswith("ERDF_R151_")]
        if left:
            await _run(sge)
        return not left
    await eventually(empty, timeout=30, interval=1)


async def test_each_bad_file_is_quarantined_with_its_reason_and_good_files_around_it_are_imported(
        stack, sge, thirty_days):
    day_before, day_after = START + dt.timedelta(days=DAYS), START + dt.timedelta(days=DAYS + 1)
    async with httpx.AsyncClient(base_url=sge["sandbox"], timeout=180) as http:
        await http.post("/_sandbox/publish", json={"day": str(day_before)})
        bad = {k: (await http.post("/_sandbox/inject", json={"kind": k})).json()["file"] for k in gen.BAD_KINDS}
        await http.post("/_sandbox/publish", json={"day": str(day_after)})
    await _run(sge)

    async def quarantined():
        got = {q["name"]: q for q in (await _report(sge))["quarantined"]}
        return got if set(bad.values()) <= set(got) else None
    got = await eventually(quarantined, timeout=60, interval=1)
    reasons = {kind: got[name]["reason"] for kind, name in bad.items()}
    assert reasons == {"wrong_key": "decrypt_failed", "truncated_zip": "bad_zip", "invalid_xml": "invalid_xml",
                       "xml_bomb": "xml_entities_forbidden", "large_file": "too_large"}
    assert all(got[n]["detail"] and got[n]["at"] for n in bad.values())
    sample = PRMS[100:140]
    truth = await _truth(sge["sandbox"], sample, day_before, day_after)

    async def both_days():
        stored, _ = await _stored(stack.database_url, {p: thirty_days["meters"][p] for p in sample},
                                  day_before, day_after)
        return stored if all(len(v) == 2 for v in stored.values()) else None
    stored = await eventually(both_days, timeout=60, interval=1)
    assert stored == {p: {d: v for d, v in t.items()} for p, t in truth.items()}


async def test_expired_subscription_is_reported_revoked_once(stack, sge):
    connection = await aio_pika.connect(stack.amqp_url)
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(f"test.sge.revoked.{uuid.uuid4().hex[:8]}", exclusive=True)
        await queue.bind(exchange, ConsentRevoked.name)
        prm, meter = "21999999999993", uuid.uuid4()
        consent = _consent(prm, meter, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        await _publish(stack.amqp_url, [(ConsentGranted.name, consent)])
        got: list[dict] = []

        async def revoked():
            await _run(sge)
            while (m := await queue.get(fail=False, no_ack=True)) is not None:
                e = Envelope.from_bytes(m.body)
                if e.payload["identifier"] == prm:
                    got.append(e.payload)
            return got
        await eventually(revoked, timeout=30, interval=0.5)
        await _run(sge)
        await asyncio.sleep(1)
        while (m := await queue.get(fail=False, no_ack=True)) is not None:
            if Envelope.from_bytes(m.body).payload["identifier"] == prm:
                got.append(Envelope.from_bytes(m.body).payload)
    finally:
        await connection.close()
    assert len(got) == 1
    assert got[0] | {"reason": "expired"} == got[0]
    assert (got[0]["consent_id"], got[0]["meter_id"], got[0]["channel"]) == (consent["consent_id"], str(meter), "sge")


async def test_files_imported_by_hand_go_through_the_same_path(stack, sge, tmp_path):
    prm, meter = "21999999999986", uuid.uuid4()
    before = (await _report(sge))["subscriptions"]["active"]
    await _publish(stack.amqp_url, [(ConsentGranted.name, _consent(prm, meter))])

    async def subscribed():
        return (await _report(sge))["subscriptions"]["active"] == before + 1
    await eventually(subscribed, timeout=20)
    pub = gen.Publisher(tmp_path / "manual", aes_key=sge["handle"].info["aes_key"])
    pub.subscribe([prm])
    names = pub.publish_days([START, START + dt.timedelta(days=1)])
    proc = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "ingest_sge", "import", *(str(pub.drop / n) for n in names)],
        cwd=ROOT, env={**stack.env("ingest_sge")}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    truth = pub.ground_truth(prm, START + dt.timedelta(days=1), START + dt.timedelta(days=1))

    async def stored():
        s, _ = await _stored(stack.database_url, {prm: meter}, START, START + dt.timedelta(days=1))
        return s[prm] or None
    # The consumption service may still be taking the earlier tests' thousands of readings on a busy machine.
    assert await eventually(stored, timeout=90) == {d.isoformat(): v for d, v in truth.items()}


DWELLING = {"street": "12 rue Lesdiguières", "postal_code": "38000", "municipality": "Grenoble",
            "insee_code": "38185", "surface_m2": 68, "occupants": 3}
RESIDENT_REPLACED, RESIDENT_MISSING, RESIDENT_PLAIN = "21999999999979", "21999999999972", "21999999999965"


def _sge_meter(user: ApiUser, prm: str) -> dict:
    assert user.put("/me/dwelling", json=DWELLING).status_code == 200
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "channel": "sge",
                                   "identifier": prm})
    assert r.status_code == 201, r.text
    return r.json()


async def _subscribed_at_ingest(database_url: str, prms: list[str]) -> set[str]:
    rows = await fetch(database_url, "select prm from ingest_sge.subscriptions "
                                     "where active and prm = any($1::text[])", prms)
    return {r["prm"] for r in rows}


async def test_residents_subscribed_by_the_administrator_read_their_sge_days_through_the_gateway(stack, sge):
    gateway = stack.url("gateway")
    prms = [RESIDENT_REPLACED, RESIDENT_MISSING, RESIDENT_PLAIN]
    admin = admin_user(gateway)
    residents = [ApiUser(gateway).signup() for _ in prms]
    try:
        meters = [_sge_meter(user, prm) for user, prm in zip(residents, prms)]
        assert all(m["channel"] == "sge" and m["consent"]["status"] == "requested" for m in meters)
        consent_end = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=365)
        starts = set()
        for meter, prm in zip(meters, prms):
            r = admin.post("/admin/sge/subscriptions", json={
                "meter_id": meter["id"], "reference": gen.profile(prm).affaire, "consent_end": str(consent_end)})
            assert r.status_code == 201, r.text
            assert (r.json()["status"], r.json()["channel"], r.json()["dso_reference"]) == (
                "active", "sge", gen.profile(prm).affaire)
            starts.add(r.json()["history_from"])
        for user, meter, prm in zip(residents, meters, prms):
            [listed] = user.get("/meters").json()
            assert (listed["id"], listed["channel"], listed["identifier"]) == (meter["id"], "sge", prm)
            assert (listed["consent"]["status"], listed["consent"]["channel"]) == ("active", "sge")
            assert listed["consent"]["expires_at"][:10] == str(consent_end)
            history = user.get(f"/meters/{meter['id']}/consents").json()[0]["history"]
            assert [h["to_status"] for h in history] == ["requested", "active"]
            assert history[-1]["evidence"]["sge_subscription"] == gen.profile(prm).affaire

        async def subscribed():
            return await _subscribed_at_ingest(stack.database_url, prms) == set(prms)
        await eventually(subscribed, timeout=60, interval=0.5)

        # R151 files only cover days from the subscription on: 30 days from the consent's first day.
        [start] = starts
        first = dt.date.fromisoformat(start)
        last = first + dt.timedelta(days=DAYS - 1)
        replaced, missing = first + dt.timedelta(days=10), first + dt.timedelta(days=14)
        async with httpx.AsyncClient(base_url=sge["sandbox"], timeout=180) as http:
            # The drop may still carry this module's 3 500 PRMs: publishing their days again would only slow
            # this test down, so they sit out and are put back afterwards.
            others = (await http.get("/_sandbox/subscriptions")).json()["subscriptions"]
            if others:
                await http.post("/_sandbox/subscriptions/unsubscribe",
                                json={"prms": [s["prm"] for s in others]})
            try:
                assert (await http.post("/_sandbox/subscriptions", json={"prms": prms})).status_code == 200
                await http.put(f"/_sandbox/scenario/{RESIDENT_REPLACED}",
                               json={"replacement_day": str(replaced)})
                await http.put(f"/_sandbox/scenario/{RESIDENT_MISSING}",
                               json={"missing_days": [str(missing)]})
                published = await http.post("/_sandbox/publish", json={"start": str(first), "end": str(last)})
                assert len(published.json()["files"]) == DAYS
            finally:
                await http.post("/_sandbox/subscriptions/unsubscribe", json={"prms": prms})
                for mode in ("aes", "pgp"):
                    back = [s["prm"] for s in others if s["encryption"] == mode]
                    if back:
                        await http.post("/_sandbox/subscriptions", json={"prms": back, "encryption": mode})
        truth = await _truth(sge["sandbox"], prms, first, last)
        after = lambda day: str(day + dt.timedelta(days=1))  # noqa: E731
        assert truth[RESIDENT_REPLACED][str(replaced)] is None and truth[RESIDENT_REPLACED][after(replaced)]
        assert truth[RESIDENT_MISSING][str(missing)] is None
        assert truth[RESIDENT_MISSING][after(missing)] is None  # nothing to difference it against
        assert sum(v is not None for v in truth[RESIDENT_PLAIN].values()) == DAYS - 1

        period = {"from": str(first), "to": str(last + dt.timedelta(days=1)), "step": "day"}

        def read_all():
            series = {}
            for user, meter, prm in zip(residents, meters, prms):
                r = user.get(f"/meters/{meter['id']}/consumption", params=period)
                assert r.status_code == 200, r.text
                series[prm] = r.json()["points"]
            complete = all(sum(p["wh"] is not None for p in series[prm])
                           == sum(v is not None for v in truth[prm].values()) for prm in prms)
            return series if complete else None
        # Nobody asks for a collection here: the ingest-sge poller finds the files on the drop by itself.
        series = await eventually(read_all, timeout=180, interval=2)
        for prm in prms:
            assert {p["period"]: p["wh"] for p in series[prm]} == truth[prm], prm
            assert {p["period"]: p["quality"] for p in series[prm]} == {
                d: "measured" if v is not None else "missing" for d, v in truth[prm].items()}, prm
        new_meter_day = next(p for p in series[RESIDENT_REPLACED] if p["period"] == after(replaced))
        assert 0 < new_meter_day["wh"] < 24 * 12_000

        # Each card tells the last day read and whether that is all Enedis publishes by now (D+2 files).
        for user, prm in zip(residents, prms):
            [listed] = user.get("/meters").json()
            newest = max(p["period"] for p in series[prm] if p["wh"] is not None)
            state, _ = freshness(CAPABILITIES, dt.datetime.now(dt.UTC), dt.date.fromisoformat(newest), "ok")
            assert (listed["last_collected_day"], listed["freshness"]) == (newest, state.value), prm

        for reader, owner in zip(residents, meters[1:] + meters[:1]):
            r = reader.get(f"/meters/{owner['id']}/consumption", params=period)
            assert (r.status_code, r.json()["error"]) == (404, "meter_not_found")
            assert reader.get(f"/meters/{owner['id']}").status_code == 404
    finally:
        for user in (*residents, admin):
            user.close()


async def _publish_only(sge, prms: list[str], first: dt.date, last: dt.date) -> list[str]:
    """Publishes days of these PRMs alone: the drop may still carry this module's 3 500 PRMs, which sit out and
    are put back afterwards."""
    async with httpx.AsyncClient(base_url=sge["sandbox"], timeout=180) as http:
        others = (await http.get("/_sandbox/subscriptions")).json()["subscriptions"]
        if others:
            await http.post("/_sandbox/subscriptions/unsubscribe", json={"prms": [s["prm"] for s in others]})
        try:
            assert (await http.post("/_sandbox/subscriptions", json={"prms": prms})).status_code == 200
            published = await http.post("/_sandbox/publish", json={"start": str(first), "end": str(last)})
            return published.json()["files"]
        finally:
            await http.post("/_sandbox/subscriptions/unsubscribe", json={"prms": prms})
            for mode in ("aes", "pgp"):
                back = [s["prm"] for s in others if s["encryption"] == mode]
                if back:
                    await http.post("/_sandbox/subscriptions", json={"prms": back, "encryption": mode})


def _grants_dropped(sge) -> float:
    text = httpx.get(sge["metrics"] + "/metrics", timeout=10).text
    line = next((x for x in text.splitlines()
                 if x.startswith('consent_grants_dropped_total{service="ingest_sge"}')), None)
    return float(line.split()[-1]) if line else 0.0


async def test_a_grant_delivered_after_the_revocation_subscribes_nothing(stack, sge):
    prm, meter = "21999999999951", uuid.uuid4()
    consent = _consent(prm, meter)
    dropped = _grants_dropped(sge)
    # The revocation overtakes the grant (a consumer's retry, the outbox's backoff): the grant comes after.
    await _publish(stack.amqp_url, [(ConsentRevoked.name, {**consent, "reason": "user"})])
    await _publish(stack.amqp_url, [(ConsentGranted.name, consent)])
    await eventually(lambda: _grants_dropped(sge) == dropped + 1, timeout=30)
    assert await _subscribed_at_ingest(stack.database_url, [prm]) == set()

    # Enedis still publishes the PRM's days on the drop: they are read and never stored.
    first = START + dt.timedelta(days=DAYS + 5)
    before = (await _report(sge))["readings"].get("unsubscribed", 0)
    assert len(await _publish_only(sge, [prm], first, first + dt.timedelta(days=2))) == 3
    truth = await _truth(sge["sandbox"], [prm], first, first + dt.timedelta(days=2))
    assert sum(v is not None for v in truth[prm].values()) == 2

    async def read():
        await _run(sge)
        return (await _report(sge))["readings"].get("unsubscribed", 0) >= before + 3
    await eventually(read, timeout=60, interval=1)
    await asyncio.sleep(2)
    _, rows = await _stored(stack.database_url, {prm: meter}, first, first + dt.timedelta(days=2))
    assert rows == []
    assert await _subscribed_at_ingest(stack.database_url, [prm]) == set()


def _on_drop(sge) -> set[str]:
    return {p.name for p in Path(sge["handle"].info["drop"]).iterdir()}


async def test_a_drop_presenting_another_host_key_is_not_read(stack, sge, tmp_path):
    """A host answering on the drop's address with a key that known_hosts does not name (a man in the middle, a
    drop re-keyed without notice) gets nothing taken from it: no file imported, none quarantined, a clear log
    line; the same files are read once the known key is back."""
    other_key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp_path / "known_hosts").write_bytes(known_hosts_line(sge["handle"].info["sftp_port"], other_key))
    right = stack.extra_env["METRO_INGEST_SGE_SFTP_KNOWN_HOSTS"]
    log_file = stack.log_dir / "ingest_sge.log"
    stack.stop("ingest_sge")
    logged_from = log_file.stat().st_size
    stack.extra_env["METRO_INGEST_SGE_SFTP_KNOWN_HOSTS"] = str(tmp_path / "known_hosts")
    try:
        stack.start("ingest_sge")
        before = await _report(sge)
        first = START + dt.timedelta(days=DAYS + 10)
        good = await _publish_only(sge, ["21999999999937"], first, first)
        async with httpx.AsyncClient(base_url=sge["sandbox"], timeout=60) as http:
            bad = (await http.post("/_sandbox/inject", json={"kind": "invalid_xml"})).json()["file"]
        waiting = {*good, bad}
        assert waiting <= _on_drop(sge)
        report = await _run(sge)
        assert (report["outcome"], report["error"]["code"]) == ("bad_request", "sftp_host_key_mismatch")
        await asyncio.sleep(6)  # the poller's next cycle meets the same key
        after = await _report(sge)
        assert (after["files"], after["quarantined"]) == (before["files"], before["quarantined"])
        assert waiting <= _on_drop(sge)
        with open(log_file, "rb") as f:
            f.seek(logged_from)
            assert b"SGE drop host key mismatch" in f.read()
    finally:
        stack.stop("ingest_sge")
        stack.extra_env["METRO_INGEST_SGE_SFTP_KNOWN_HOSTS"] = right
        stack.start("ingest_sge")

    async def read():
        await _run(sge)
        return not waiting & _on_drop(sge)
    await eventually(read, timeout=60, interval=1)
    report = await _report(sge)
    assert bad in {q["name"] for q in report["quarantined"]}
    assert report["files"]["imported"] >= before["files"]["imported"] + len(good)
