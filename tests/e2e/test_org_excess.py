"""Issue 23 item 3, excess tracking: an organisation's meters' anomalies are not resident alerts; each Monday
its members receive, in their language, per building, the meters whose consumption was well above their own
baseline during the week before (nothing when there was none), and the SPA reads the same at /orgs/{id}/excess."""
from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import uuid

import pytest

from devstack import sandbox_smtp
from devstack.client import ApiUser, admin_user, random_prm
from devstack.db import fetchval
from devstack.events import publish, readings_event
from devstack.stack import ROOT
from devstack.waiting import eventually

pytestmark = pytest.mark.timeout(300)

SCHOOL = {"name": "École Jean Jaurès", "site": "Groupe scolaire Jaurès", "street": "12 rue Jean Jaurès",
          "postal_code": "38100", "municipality": "Grenoble", "insee_code": "38185", "use_type": "school",
          "heated_area_m2": 1850, "construction_year": 1972, "heating_energy": "gas"}
GYM = {**SCHOOL, "name": "Gymnase Léo Lagrange", "site": None, "use_type": "gymnasium", "heated_area_m2": 800}


@pytest.fixture(scope="module")
def notify(stack):
    """Notify without its scheduler (the test runs the week's digest itself), links to the gateway."""
    saved = dict(stack.extra_env)
    stack.kill("notify")
    stack.extra_env.update({"METRO_NOTIFY_SCHEDULE_ENABLED": "false", "METRO_NOTIFY_SEND_IDLE_INTERVAL": "0.2",
                            "METRO_NOTIFY_PUBLIC_URL": stack.url("gateway")})
    stack.start("notify")
    yield stack
    stack.kill("notify")
    stack.extra_env.clear()
    stack.extra_env.update(saved)
    stack.start("notify")


def professional(stack) -> ApiUser:
    user = ApiUser(stack.url("gateway")).signup()
    admin = admin_user(stack.url("gateway"))
    r = admin.put(f"/admin/accounts/{user.account['id']}/roles", json={"roles": ["resident", "professional"]})
    assert r.status_code == 200, r.text
    admin.close()
    return user


def declared_meter(manager: ApiUser, org: dict, building: dict, prm: str) -> dict:
    r = manager.post(f"/orgs/{org['id']}/buildings/{building['id']}/meters",
                     json={"energy": "electricity", "dso": "enedis", "identifier": prm})
    assert r.status_code == 201, r.text
    return r.json()


def last_week(today: dt.date) -> dt.date:
    """The Monday of the last complete week (the one Monday's digest is about)."""
    return today - dt.timedelta(days=today.weekday() + 7)


def run_digest(stack, monday: dt.date) -> str:
    year, week, _ = monday.isocalendar()
    done = subprocess.run([sys.executable, "-m", "notify", "report", "--frequency", "org_digest",
                           "--period", f"{year}-W{week:02d}"],
                          cwd=ROOT, env=stack.env("notify"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def digests(sink, user: ApiUser) -> list:
    return [m for m in sandbox_smtp.received(sink, user.email) if m["X-MetroEnergies-Kind"] == "org_digest"]


def text_of(msg) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_the_weekly_digest_names_the_building_and_meter_in_each_members_language(notify):
    sink = notify.sandboxes["smtp"]
    manager = professional(notify)
    assert manager.put("/me/language", json={"language": "en"}).status_code == 200
    org = manager.post("/orgs", json={"name": f"Ville de Fontaine {uuid.uuid4().hex[:6]}",
                                      "kind": "municipality"}).json()
    viewer = ApiUser(notify.url("gateway")).signup()
    assert manager.put(f"/orgs/{org['id']}/members", json={"email": viewer.email, "role": "viewer"}).status_code == 200
    school = manager.post(f"/orgs/{org['id']}/buildings", json=SCHOOL).json()
    gym = manager.post(f"/orgs/{org['id']}/buildings", json=GYM).json()
    school_prm, gym_prm = random_prm(), random_prm()
    leaking, steady = declared_meter(manager, org, school, school_prm), declared_meter(manager, org, gym, gym_prm)

    monday = last_week(dt.date.today())
    first = monday - dt.timedelta(weeks=6)
    days = (monday - first).days + 7
    # 12 kWh a day, but 40 kWh on the Tuesday and Wednesday of last week at the school.
    spike = [40_000 if (first + dt.timedelta(days=i)) in (monday + dt.timedelta(days=1), monday + dt.timedelta(days=2))
             else 12_000 for i in range(days)]

    async def feed():
        for meter in (leaking, steady):
            await eventually(lambda m=meter: fetchval(notify.database_url, "select 1 from consumption.meters "
                                                      "where meter_id=$1", uuid.UUID(m["id"])))
        await publish(notify.amqp_url, readings_event(leaking["id"], first, spike),
                      readings_event(steady["id"], first, [12_000] * days))
        await eventually(lambda: fetchval(notify.database_url, "select 1 from consumption.anomaly_episodes "
                                          "where meter_id=$1", uuid.UUID(leaking["id"])), timeout=60)

    asyncio.run(feed())
    out = run_digest(notify, monday)
    assert "report org_digest" in out

    async def both_sent():
        mine, theirs = digests(sink, manager), digests(sink, viewer)
        assert len(mine) == 1 and len(theirs) == 1, (len(mine), len(theirs))
        return mine[0], theirs[0]
    english, french = asyncio.run(eventually(both_sent, timeout=30))

    assert str(english["Subject"]).strip().startswith(f"{org['name']}: excess consumption in the week of")
    body = text_of(english)
    assert SCHOOL["name"] in body and school_prm in body and "56.0 kWh too much" in body, body
    assert GYM["name"] not in body and gym_prm not in body
    assert f"{notify.url('gateway')}/orgs/{org['id']}" in body
    assert str(french["Subject"]).strip().startswith(f"{org['name']} : consommations excessives de la semaine du")
    body = text_of(french)
    assert SCHOOL["name"] in body and school_prm in body and "56,0 kWh de trop" in body, body
    assert GYM["name"] not in body

    # No resident alert went to the organisation (it reads no e-mail) nor to its members.
    assert asyncio.run(fetchval(notify.database_url, "select count(*) from notify.messages where account_id=$1",
                                uuid.UUID(org["id"]))) == 0
    assert not [m for m in sandbox_smtp.received(sink, manager.email) if m["X-MetroEnergies-Kind"] == "anomaly"]

    # The same content for the SPA, for members only.
    r = viewer.get(f"/orgs/{org['id']}/excess", params={"weeks": 2})
    assert r.status_code == 200, r.text
    [building] = r.json()["buildings"]
    assert building["name"] == SCHOOL["name"] and building["excess_kwh"] == 56.0
    [meter] = building["meters"]
    assert meter["identifier"] == school_prm and meter["episodes"][0]["start"] == str(monday + dt.timedelta(days=1))

    # A re-run sends nothing twice; a week without excess sends nothing at all.
    run_digest(notify, monday)
    run_digest(notify, monday + dt.timedelta(weeks=1))
    asyncio.run(asyncio.sleep(2))
    assert len(digests(sink, manager)) == 1 and len(digests(sink, viewer)) == 1


def test_a_quiet_week_sends_no_digest_and_another_organisations_member_sees_no_excess(notify):
    sink = notify.sandboxes["smtp"]
    manager = professional(notify)
    org = manager.post("/orgs", json={"name": "Bailleur Isère Habitat", "kind": "landlord"}).json()
    gym = manager.post(f"/orgs/{org['id']}/buildings", json=GYM).json()
    meter = declared_meter(manager, org, gym, random_prm())
    monday = last_week(dt.date.today())
    first = monday - dt.timedelta(weeks=6)

    async def feed():
        await eventually(lambda: fetchval(notify.database_url, "select 1 from consumption.meters where meter_id=$1",
                                          uuid.UUID(meter["id"])))
        await publish(notify.amqp_url, readings_event(meter["id"], first, [12_000] * 49))

        async def read():
            r = manager.get(f"/orgs/{org['id']}/excess", params={"weeks": 4})
            assert r.status_code == 200, r.text
            return r.json()
        return await eventually(read)

    assert asyncio.run(feed())["buildings"] == []
    run_digest(notify, monday)
    asyncio.run(asyncio.sleep(2))
    assert digests(sink, manager) == []

    other = professional(notify)
    other.post("/orgs", json={"name": "Commune voisine", "kind": "municipality"})
    r = other.get(f"/orgs/{org['id']}/excess")
    assert r.status_code == 404 and r.json()["error"] == "org_not_found"
    outsider = ApiUser(notify.url("gateway")).signup()
    assert outsider.get(f"/orgs/{org['id']}/excess").status_code == 404
