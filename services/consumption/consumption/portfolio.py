"""An organisation's portfolio spreadsheet: its meters × the periods of a year (months, or the year), each cell
with kWh, €, kWh/m², CO2e and data completeness, read from the per-meter monthly rollups (never the daily
table), as CSV streamed row by row or as XLSX written by openpyxl's write-only workbook to a temporary file
(frozen header, units in the header, totals), then streamed. Meters are read in chunks: 5 000 meters × 12
months never sit in memory at once."""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from consumption import repository
from consumption.series import co2e_factor
from metro.db import Database
from metro.errors import AppError
from metro.schemas.orgs import PortfolioMeter

CHUNK = 500
METRICS = ("kWh", "€", "kWh/m²", "kg CO2e", "complétude %")
FIXED = ("Bâtiment", "Site", "Usage", "Surface chauffée (m²)", "Compteur", "Libellé", "Énergie")
MONTHS_FR = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
FORMATS = ("#,##0", "#,##0.00", "0.0", "#,##0.0", "0")


@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def periods(year: int, step: Literal["month", "year"]) -> list[Period]:
    if step == "year":
        return [Period(str(year), dt.date(year, 1, 1), dt.date(year + 1, 1, 1))]
    return [Period(f"{MONTHS_FR[m - 1]} {year}", dt.date(year, m, 1),
                   dt.date(year + (m == 12), m % 12 + 1, 1)) for m in range(1, 13)]


@dataclass
class Cell:
    wh: int = 0
    eur: Decimal | None = None
    days_present: int = 0

    def add(self, wh: int, eur: Decimal | None, days_present: int) -> None:
        self.wh += wh
        self.days_present += days_present
        if eur is not None:
            self.eur = (self.eur or Decimal(0)) + eur


@dataclass
class Totals:
    """Column sums for the totals row: kWh, €, CO2e add up; kWh/m² is over the distinct buildings' area."""
    wh: list[int] = field(default_factory=list)
    eur: list[Decimal | None] = field(default_factory=list)
    co2e: list[Fraction] = field(default_factory=list)
    present: list[int] = field(default_factory=list)
    areas: dict[str, float] = field(default_factory=dict)
    meters: int = 0


def _values(meter: PortfolioMeter, cells: list[Cell], spans: list[Period], co2e: tuple[int, int] | None,
            totals: Totals) -> list[Any]:
    row: list[Any] = [meter.building, meter.site, meter.use_type, meter.heated_area_m2, meter.identifier,
                      meter.label, meter.energy]
    totals.meters += 1
    totals.areas[meter.building_id] = meter.heated_area_m2
    for i, (cell, span) in enumerate(zip(cells, spans)):
        co2e_kg = Fraction(cell.wh * co2e[0], co2e[1] * 1000) if co2e else None
        row += [round(cell.wh / 1000, 1),
                round(float(cell.eur), 2) if cell.eur is not None else None,
                round(cell.wh / 1000 / meter.heated_area_m2, 2) if meter.heated_area_m2 else None,
                round(float(co2e_kg), 1) if co2e_kg is not None else None,
                round(100 * cell.days_present / span.days)]
        totals.wh[i] += cell.wh
        if cell.eur is not None:
            totals.eur[i] = (totals.eur[i] or Decimal(0)) + cell.eur
        totals.co2e[i] += co2e_kg or 0
        totals.present[i] += cell.days_present
    return row


def _total_values(totals: Totals, spans: list[Period]) -> list[Any]:
    area = sum(totals.areas.values())
    row: list[Any] = ["Total", None, None, round(area, 1), f"{totals.meters} compteurs", None, None]
    for i, span in enumerate(spans):
        row += [round(totals.wh[i] / 1000, 1), round(float(totals.eur[i]), 2) if totals.eur[i] is not None else None,
                round(totals.wh[i] / 1000 / area, 2) if area else None, round(float(totals.co2e[i]), 1),
                round(100 * totals.present[i] / (span.days * totals.meters)) if totals.meters else None]
    return row


def header(spans: list[Period]) -> list[str]:
    return [*FIXED, *(f"{p.label} {m}" for p in spans for m in METRICS)]


async def rows(db: Database, holder: uuid.UUID, meters: list[PortfolioMeter], year: int,
               step: Literal["month", "year"], totals: Totals) -> AsyncIterator[list[Any]]:
    """One row per meter the holder holds, in the order given, read from the rollups chunk by chunk; a meter
    the holder does not hold is left out."""
    spans = periods(year, step)
    start, end = spans[0].start, spans[-1].end
    totals.wh, totals.eur = [0] * len(spans), [None] * len(spans)
    totals.co2e, totals.present = [Fraction(0)] * len(spans), [0] * len(spans)
    for i in range(0, len(meters), CHUNK):
        chunk = meters[i:i + CHUNK]
        async with db.session() as session:
            energy = await repository.owned_meters(session, holder, [m.meter_id for m in chunk])
            rollups = await repository.rollups_of(session, list(energy), start, end)
        cells: dict[uuid.UUID, list[Cell]] = {m: [Cell() for _ in spans] for m in energy}
        for r in rollups:
            at = 0 if step == "year" else r.month.month - 1
            cells[r.meter_id][at].add(r.wh, r.eur, r.days_present)
        for meter in chunk:
            if meter.meter_id in energy:
                yield _values(meter, cells[meter.meter_id], spans, co2e_factor(energy[meter.meter_id]), totals)


async def csv_stream(db: Database, holder: uuid.UUID, meters: list[PortfolioMeter], year: int,
                     step: Literal["month", "year"]) -> AsyncIterator[bytes]:
    """CSV (UTF-8 with BOM, `;`-separated, decimal point: what spreadsheet software in France opens)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush(values: Iterable[Any]) -> bytes:
        writer.writerow(["" if v is None else v for v in values])
        out = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return out.encode()

    spans = periods(year, step)
    yield "\ufeff".encode() + flush(header(spans))
    totals = Totals()
    async for row in rows(db, holder, meters, year, step, totals):
        yield flush(row)
    yield flush(_total_values(totals, spans))


async def xlsx_file(db: Database, holder: uuid.UUID, meters: list[PortfolioMeter], year: int,
                    step: Literal["month", "year"]) -> tempfile.SpooledTemporaryFile:
    """The workbook, written row by row (openpyxl write-only) and saved to a temporary file."""
    spans = periods(year, step)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(f"Portefeuille {year}")
    sheet.freeze_panes = "H2"
    widths = [28, 20, 12, 12, 16, 16, 12] + [12] * (len(METRICS) * len(spans))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")

    def styled(value: Any, *, number_format: str | None = None, strong: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        if number_format:
            cell.number_format = number_format
        if strong:
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    def typed(values: list[Any], strong: bool = False) -> list[WriteOnlyCell]:
        fixed = [styled(v, strong=strong) for v in values[:len(FIXED)]]
        measured = [styled(v, number_format=FORMATS[k % len(METRICS)], strong=strong)
                    for k, v in enumerate(values[len(FIXED):])]
        return fixed + measured

    sheet.append([styled(h, strong=True) for h in header(spans)])
    totals = Totals()
    async for row in rows(db, holder, meters, year, step, totals):
        sheet.append(typed(row))
    sheet.append(typed(_total_values(totals, spans), strong=True))
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    await asyncio.to_thread(book.save, out)
    out.seek(0)
    return out


async def file_chunks(file: tempfile.SpooledTemporaryFile, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()


def check_year(year: int) -> None:
    if not 2000 <= year <= dt.date.today().year:
        raise AppError(f"the year must be between 2000 and {dt.date.today().year}", code="invalid_period",
                       status_code=422)
