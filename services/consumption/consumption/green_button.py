"""Green Button "Download My Data": the resident's daily electricity and gas readings as an ESPI 4.0
(NAESB REQ.21) Atom feed, written month by month so that years of several meters are never held in memory.

The feed: the LocalTimeParameters of Europe/Paris, then per meter a UsagePoint (ServiceCategory 0 electricity,
1 gas), its MeterReading, its ReadingType (Wh, daily intervals, delta data) and one IntervalBlock per calendar
month with an IntervalReading per day: the local day from its start (UTC epoch seconds) for its length (82 800 or
90 000 s on the days the clocks change), the energy in Wh (gas readings are stored as energy, kWh-equivalent),
and a ReadingQuality when the DSO estimated or corrected the day."""
from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import check_shown
from consumption.periods import DAY, check_range
from metro.db import Database
from metro.errors import NotFound, Unprocessable
from metro.schemas.consumption import Step

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
NSMAP = {None: ATOM, "espi": ESPI}
SCHEMA_DIR = Path(__file__).parent / "espi"
PARIS = ZoneInfo("Europe/Paris")
ENERGIES = ("electricity", "gas")
SERVICE_KIND = {"electricity": 0, "gas": 1}
COMMODITY = {"electricity": 1, "gas": 7}  # electricity secondary metered, natural gas
# QualityOfReading: 8 = replaced by a value computed from history (the DSO's estimate), 7 = replaced by a person.
QUALITY = {"estimated": 8, "corrected": 7}
# DstRuleType bits: month << 28 | operator << 25 | day of month << 20 | day of week << 17 | hour << 12 | seconds.
# Europe/Paris: from the last (operator 7) Sunday (7) of March at 02:00 to the last Sunday of October at 03:00.
DST_START, DST_END = "3E0E2000", "AE0E3000"
Reading = tuple[dt.date, int, str]  # day, Wh, quality


@dataclass(frozen=True)
class Meter:
    meter_id: uuid.UUID
    energy: str


async def scope(session: AsyncSession, account_id: uuid.UUID, meter_id: uuid.UUID | None, start: dt.date | None,
                end: dt.date | None) -> tuple[list[Meter], dt.date, dt.date]:
    """The account's electricity and gas meters (or the one named) and the period: by default the last 1 095
    days up to today; at most what a daily series may span. Meters whose data consent's accuracy control holds
    are left out (named, they answer as the series do)."""
    end = end or dt.datetime.now(PARIS).date() + DAY
    start = start or end - 3 * 365 * DAY
    check_range(start, end, Step.day)
    rows = await repository.account_meters(session, account_id)
    if meter_id is not None:
        rows = [r for r in rows if r.meter_id == meter_id]
        if not rows:
            raise NotFound("no such meter", code="meter_not_found")
        check_shown(rows[0])
        if rows[0].energy not in ENERGIES:
            raise Unprocessable("Green Button covers electricity and gas only", code="espi_energy_unsupported")
    return [Meter(r.meter_id, r.energy) for r in rows if r.energy in ENERGIES and not r.address_hold], start, end


def export(db: Database, account_id: uuid.UUID, meters: list[Meter], start: dt.date,
           end: dt.date) -> AsyncIterator[bytes]:
    """The feed, each meter's readings read from a server-side cursor in its own transaction."""
    async def readings(meter: Meter) -> AsyncIterator[Reading]:
        async with db.session() as session, session.begin():
            async for row in repository.stream_daily(session, meter.meter_id, start, end):
                yield row
    return feed(account_id, meters, readings, start, end)


@functools.cache
def schema() -> etree.XMLSchema:
    """ESPI 4.0 with its Atom schema, from the local copies (compiles offline): validates a whole feed."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / "espi.xsd")))


def day_bounds(day: dt.date) -> tuple[int, int]:
    """The local day's start in UTC epoch seconds and its length in seconds."""
    start = dt.datetime.combine(day, dt.time(), PARIS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), PARIS)
    return int(start.timestamp()), int(end.timestamp() - start.timestamp())


def _interval(start: dt.date, end: dt.date) -> tuple[int, int]:
    first, _ = day_bounds(start)
    last, _ = day_bounds(end)
    return first, last - first


def _sub(parent: etree._Element, tag: str, text: object | None = None, **attrib: str) -> etree._Element:
    child = etree.SubElement(parent, tag, attrib)
    if text is not None:
        child.text = str(text)
    return child


class _Sink:
    """What the incremental writer writes to: its bytes are handed on after each entry."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.chunks.append(data)

    def take(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


class _Entries:
    def __init__(self, account_id: uuid.UUID, updated: dt.datetime):
        self.base = f"/espi/1_1/resource/Subscription/{account_id}"
        self.stamp = updated.astimezone(dt.UTC).isoformat(timespec="seconds")

    def entry(self, path: str, kind: str, title: str,
              related: tuple[tuple[str, str], ...] = ()) -> tuple[etree._Element, etree._Element]:
        """An entry for the resource at ``path`` (its id derived from it), of ESPI ``kind``, and its content."""
        entry = etree.Element(f"{{{ATOM}}}entry", nsmap=NSMAP)
        _sub(entry, f"{{{ATOM}}}id", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, self.base + path)}")
        _sub(entry, f"{{{ATOM}}}link", rel="self", href=self.base + path, type=f"espi-entry/{kind}")
        _sub(entry, f"{{{ATOM}}}link", rel="up", href=self.base + path.rsplit("/", 1)[0], type=f"espi-feed/{kind}")
        for href, other in related:
            _sub(entry, f"{{{ATOM}}}link", rel="related", href=self.base + href, type=f"espi-feed/{other}")
        _sub(entry, f"{{{ATOM}}}title", title)
        _sub(entry, f"{{{ATOM}}}published", self.stamp)
        _sub(entry, f"{{{ATOM}}}updated", self.stamp)
        return entry, _sub(entry, f"{{{ATOM}}}content")


def _local_time(entries: _Entries) -> etree._Element:
    entry, content = entries.entry("/LocalTimeParameters/1", "LocalTimeParameters", "Europe/Paris")
    params = _sub(content, f"{{{ESPI}}}LocalTimeParameters")
    _sub(params, f"{{{ESPI}}}dstEndRule", DST_END)
    _sub(params, f"{{{ESPI}}}dstOffset", 3600)
    _sub(params, f"{{{ESPI}}}dstStartRule", DST_START)
    _sub(params, f"{{{ESPI}}}tzOffset", 3600)
    return entry


def _meter_entries(entries: _Entries, meter: Meter) -> list[etree._Element]:
    point = f"/UsagePoint/{meter.meter_id}"
    title = "Électricité / Electricity" if meter.energy == "electricity" else "Gaz / Gas"
    usage, content = entries.entry(point, "UsagePoint", title, ((f"{point}/MeterReading", "MeterReading"),
                                                                ("/LocalTimeParameters/1", "LocalTimeParameters")))
    category = _sub(_sub(content, f"{{{ESPI}}}UsagePoint"), f"{{{ESPI}}}ServiceCategory")
    _sub(category, f"{{{ESPI}}}kind", SERVICE_KIND[meter.energy])

    reading_path = f"{point}/MeterReading/1"
    reading, content = entries.entry(reading_path, "MeterReading", "Daily energy (Wh)",
                                     ((f"{reading_path}/IntervalBlock", "IntervalBlock"),
                                      (f"/ReadingType/{meter.meter_id}", "ReadingType")))
    _sub(content, f"{{{ESPI}}}MeterReading")

    kind_path = f"/ReadingType/{meter.meter_id}"
    kind, content = entries.entry(kind_path, "ReadingType", "Wh, 1 day")
    rt = _sub(content, f"{{{ESPI}}}ReadingType")
    for name, value in (("accumulationBehaviour", 4), ("commodity", COMMODITY[meter.energy]),
                        ("defaultQuality", 0), ("flowDirection", 1), ("intervalLength", 86400), ("kind", 12),
                        ("powerOfTenMultiplier", 0), ("uom", 72)):
        _sub(rt, f"{{{ESPI}}}{name}", value)
    return [usage, reading, kind]


def _block(entries: _Entries, meter: Meter, month: dt.date, start: dt.date, end: dt.date,
           days: list[Reading]) -> etree._Element:
    path = f"/UsagePoint/{meter.meter_id}/MeterReading/1/IntervalBlock/{month:%Y%m}"
    entry, content = entries.entry(path, "IntervalBlock", f"{month:%Y-%m}")
    block = _sub(content, f"{{{ESPI}}}IntervalBlock")
    first, length = _interval(start, end)
    interval = _sub(block, f"{{{ESPI}}}interval")
    _sub(interval, f"{{{ESPI}}}duration", length)
    _sub(interval, f"{{{ESPI}}}start", first)
    for day, wh, quality in days:
        reading = _sub(block, f"{{{ESPI}}}IntervalReading")
        if quality != "measured":
            _sub(_sub(reading, f"{{{ESPI}}}ReadingQuality"), f"{{{ESPI}}}quality", QUALITY.get(quality, 8))
        period = _sub(reading, f"{{{ESPI}}}timePeriod")
        day_start, day_length = day_bounds(day)
        _sub(period, f"{{{ESPI}}}duration", day_length)
        _sub(period, f"{{{ESPI}}}start", day_start)
        _sub(reading, f"{{{ESPI}}}value", wh)
    return entry


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


async def feed(account_id: uuid.UUID, meters: list[Meter], readings: Callable[[Meter], AsyncIterable[Reading]],
               start: dt.date, end: dt.date, *, updated: dt.datetime | None = None) -> AsyncIterator[bytes]:
    """The feed over [start, end) for ``meters``, whose ``readings`` (by day) are read as it is written: one
    chunk of bytes per entry, so at most a month of one meter is in memory."""
    updated = updated or dt.datetime.now(dt.UTC)
    entries = _Entries(account_id, updated)
    sink = _Sink()
    with etree.xmlfile(sink, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{ATOM}}}feed", nsmap=NSMAP):
            with xf.element(f"{{{ATOM}}}id"):
                xf.write(f"urn:uuid:{uuid.uuid4()}")
            with xf.element(f"{{{ATOM}}}link", rel="self", href=entries.base + "/UsagePoint",
                            type="espi-feed/UsagePoint"):
                pass
            with xf.element(f"{{{ATOM}}}title"):
                xf.write(f"MétroEnergies — Green Button {start.isoformat()} / {end.isoformat()}")
            with xf.element(f"{{{ATOM}}}updated"):
                xf.write(entries.stamp)
            xf.write(_local_time(entries))
            yield sink.take()
            for meter in meters:
                for entry in _meter_entries(entries, meter):
                    xf.write(entry)
                yield sink.take()
                month, days = None, []
                async for day, wh, quality in readings(meter):
                    first = day.replace(day=1)
                    if first != month:
                        if days:
                            xf.write(_block(entries, meter, month, max(month, start), min(_next_month(month), end),
                                            days))
                            yield sink.take()
                        month, days = first, []
                    days.append((day, wh, quality))
                if days:
                    xf.write(_block(entries, meter, month, max(month, start), min(_next_month(month), end), days))
                    yield sink.take()
    yield sink.take()
