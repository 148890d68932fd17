"""Issue 20 item 7: the Green Button feed validates against ESPI 4.0 and carries the readings as they are."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from lxml import etree

from consumption import green_button
from consumption.green_button import ESPI, Meter

NS = {"espi": ESPI, "atom": green_button.ATOM}
ELECTRICITY, GAS = Meter(uuid.UUID(int=1), "electricity"), Meter(uuid.UUID(int=2), "gas")
# 30 March 2025 lasts 23 hours in Paris, 26 October 2025 lasts 25; 1 April is an estimate of the DSO.
READINGS = {
    ELECTRICITY: [(dt.date(2025, 3, 28) + dt.timedelta(days=i), 5000 + i,
                   "estimated" if i == 4 else "measured") for i in range(8)]
    + [(dt.date(2025, 10, 26), 9000, "corrected")],
    GAS: [(dt.date(2025, 3, 30), 40000, "measured"), (dt.date(2025, 3, 31), 42000, "measured")],
}


def export(meters=(ELECTRICITY, GAS), start=dt.date(2025, 3, 1), end=dt.date(2025, 11, 1)) -> bytes:
    async def readings(meter):
        for row in READINGS[meter]:
            yield row

    async def collect():
        return [chunk async for chunk in green_button.feed(uuid.UUID(int=9), list(meters), readings, start, end)]
    chunks = asyncio.run(collect())
    assert len(chunks) > 4  # written entry by entry, not as one tree
    return b"".join(chunks)


def test_the_feed_validates_against_espi_4_and_an_invalid_one_does_not():
    document = etree.fromstring(export())
    schema = green_button.schema()
    assert schema.validate(document), schema.error_log
    uom = document.find(".//espi:ReadingType/espi:uom", NS)
    assert uom.text == "72"
    uom.text = "Wh"
    assert not schema.validate(document)


def test_each_day_is_its_local_day_in_utc_seconds_with_its_energy_and_quality():
    document = etree.fromstring(export())
    points = document.findall(".//atom:entry/atom:content/espi:UsagePoint", NS)
    assert [p.findtext("espi:ServiceCategory/espi:kind", namespaces=NS) for p in points] == ["0", "1"]
    commodities = document.findall(".//espi:ReadingType/espi:commodity", NS)
    assert [c.text for c in commodities] == ["1", "7"]
    blocks = document.findall(".//espi:IntervalBlock", NS)
    assert len(blocks) == 4  # electricity March, April, October; gas March
    electricity = [r for b in blocks[:3] for r in b.findall("espi:IntervalReading", NS)]
    assert len(electricity) == 9 and len(document.findall(".//espi:IntervalReading", NS)) == 11
    by_day = {dt.datetime.fromtimestamp(int(r.findtext("espi:timePeriod/espi:start", namespaces=NS)),
                                        green_button.PARIS).date(): r for r in electricity}
    dst = by_day[dt.date(2025, 3, 30)]
    assert dst.findtext("espi:timePeriod/espi:start", namespaces=NS) == str(
        int(dt.datetime(2025, 3, 29, 23, tzinfo=dt.UTC).timestamp()))  # midnight in Paris, still winter time
    assert dst.findtext("espi:timePeriod/espi:duration", namespaces=NS) == "82800"
    assert by_day[dt.date(2025, 10, 26)].findtext("espi:timePeriod/espi:duration", namespaces=NS) == "90000"
    assert by_day[dt.date(2025, 3, 31)].findtext("espi:timePeriod/espi:duration", namespaces=NS) == "86400"
    assert by_day[dt.date(2025, 4, 1)].findtext("espi:ReadingQuality/espi:quality", namespaces=NS) == "8"
    assert by_day[dt.date(2025, 10, 26)].findtext("espi:ReadingQuality/espi:quality", namespaces=NS) == "7"
    assert by_day[dt.date(2025, 3, 31)].find("espi:ReadingQuality", NS) is None
    assert sum(int(r.findtext("espi:value", namespaces=NS)) for r in electricity) == \
        sum(wh for _, wh, _ in READINGS[ELECTRICITY])
    # Each block's interval spans its days within the period asked for.
    april = blocks[1].find("espi:interval", NS)
    assert int(april.findtext("espi:start", namespaces=NS)) == int(
        dt.datetime(2025, 3, 31, 22, tzinfo=dt.UTC).timestamp())
    assert april.findtext("espi:duration", namespaces=NS) == str(30 * 86400)


def test_local_time_parameters_describe_paris():
    params = etree.fromstring(export()).find(".//espi:LocalTimeParameters", NS)
    assert params.findtext("espi:tzOffset", namespaces=NS) == "3600"
    assert params.findtext("espi:dstOffset", namespaces=NS) == "3600"
    start = int(params.findtext("espi:dstStartRule", namespaces=NS), 16)
    assert (start >> 28, (start >> 25) & 7, (start >> 17) & 7, (start >> 12) & 31) == (3, 7, 7, 2)
