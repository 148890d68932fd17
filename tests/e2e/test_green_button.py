"""Issue 20 item 7: "Download my data" in Green Button (ESPI 4.0) through the gateway, for the owner only."""
from __future__ import annotations

import datetime as dt
import uuid

from lxml import etree

from consumption.green_button import ESPI, schema
from devstack.client import ApiUser, random_prm
from devstack.db import fetchval
from devstack.events import publish
from devstack.waiting import eventually
from metro.events import Envelope, ReadingsCollected

NS = {"espi": ESPI}
FIRST = dt.date(2025, 3, 20)  # the clocks change on 30 March
DAYS = 20


async def resident_with_a_collected_meter(stack) -> tuple[ApiUser, str]:
    user = ApiUser(stack.url("gateway")).signup()
    r = user.post("/meters", json={"energy": "electricity", "dso": "enedis", "identifier": random_prm()})
    assert r.status_code == 201, r.text
    meter_id = r.json()["id"]
    await eventually(lambda: fetchval(stack.database_url, "select 1 from consumption.meters where meter_id=$1",
                                      uuid.UUID(meter_id)))
    # What the Enedis collector publishes for it, one day estimated by the DSO.
    readings = [(FIRST + dt.timedelta(days=i), 4000 + 37 * i, "estimated" if i == 5 else "measured", None)
                for i in range(DAYS)]
    payload = ReadingsCollected(meter_id=meter_id, source="enedis", readings=readings)
    await publish(stack.amqp_url, Envelope(id=uuid.uuid4(), name=payload.name, producer="test",
                                           payload=payload.to_payload()))
    await eventually(lambda: fetchval(stack.database_url, "select count(*) = $2 from consumption.readings "
                                      "where meter_id=$1", uuid.UUID(meter_id), DAYS))
    return user, meter_id


async def test_the_owner_downloads_a_valid_green_button_file_that_adds_up_to_what_the_app_shows(stack):
    user, meter_id = await resident_with_a_collected_meter(stack)
    period = {"from": "2025-03-22", "to": "2025-04-05"}
    r = user.get("/me/export", params={"format": "espi", "meter_id": meter_id, **period})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert r.headers["content-disposition"].startswith('attachment; filename="metroenergies-green-button-')
    document = etree.fromstring(r.content)
    validator = schema()
    assert validator.validate(document), validator.error_log
    readings = document.findall(".//espi:IntervalReading", NS)
    assert len(readings) == 14
    shown = user.get(f"/meters/{meter_id}/consumption", params={**period, "step": "month"})
    assert shown.status_code == 200, shown.text
    assert sum(int(x.findtext("espi:value", namespaces=NS)) for x in readings) == \
        sum(p["wh"] for p in shown.json()["points"])
    durations = [x.findtext("espi:timePeriod/espi:duration", namespaces=NS) for x in readings]
    assert durations.count("82800") == 1 and durations.count("86400") == 13
    assert [x.findtext("espi:ReadingQuality/espi:quality", namespaces=NS) for x in readings].count("8") == 1
    # Without filters: every electricity and gas meter of the account, the last three years.
    everything = user.get("/me/export", params={"format": "espi"})
    assert everything.status_code == 200
    assert len(etree.fromstring(everything.content).findall(".//espi:IntervalReading", NS)) == DAYS


async def test_another_resident_gets_no_green_button_of_someone_elses_meter_and_periods_are_checked(stack):
    owner, meter_id = await resident_with_a_collected_meter(stack)
    other = ApiUser(stack.url("gateway")).signup()
    r = other.get("/me/export", params={"format": "espi", "meter_id": meter_id})
    assert r.status_code == 404 and r.json()["error"] == "meter_not_found"
    mine = etree.fromstring(other.get("/me/export", params={"format": "espi"}).content)
    assert mine.findall(".//espi:UsagePoint", NS) == []
    assert ApiUser(stack.url("gateway")).get("/me/export", params={"format": "espi"}).status_code == 401
    backwards = owner.get("/me/export", params={"format": "espi", "from": "2025-04-01", "to": "2025-03-01"})
    assert backwards.status_code == 422 and backwards.json()["error"] == "invalid_period"
    too_long = owner.get("/me/export", params={"format": "espi", "from": "2015-01-01", "to": "2025-01-01"})
    assert too_long.status_code == 422 and too_long.json()["error"] == "period_too_long"
    assert owner.get("/me/export", params={"format": "espi", "from": "2025-02-30"}).status_code == 422
