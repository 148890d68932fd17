"""The tariff and degree-day catalogues: the versions in force, built once per process and rebuilt when a
newer one is stored, the bundled files seeded at first start, and an administrator's uploads."""
from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.climate import DegreeDayCsvError, DegreeDays
from consumption.tariffs import (DATA_DIR, Catalogue, TariffCsvError, parse_electricity_csv, parse_gas_csv,
                                 parse_heat_csv, parse_water_csv)
from metro.errors import AppError, Forbidden, NotFound
from metro.schemas.consumption import (CataloguePreview, CsvLine, CsvProblem, DegreeDaysVersion,
                                       TariffCatalogueVersion)
from metro.service_auth import Principal

T = TypeVar("T")

class CatalogueStore(Generic[T]):
    """What is built from the latest stored version of some catalogue kinds (the bundled files until one is
    uploaded), rebuilt only when a newer version is stored (checked every few seconds)."""

    def __init__(self, kinds: tuple[str, ...], build: Callable[[dict[str, str]], T], refresh_seconds: float = 10.0):
        self.kinds, self.build, self.refresh_seconds = kinds, build, refresh_seconds
        self.versions: dict[str, int] = {}
        self.value: T | None = None
        self.checked = 0.0
        self._lock = asyncio.Lock()
        self._generation = 0
        # Caches built elsewhere from this catalogue, emptied with it (peers: weather-normalised statistics).
        self.dependents: list[Callable[[], None]] = []

    def invalidate(self) -> None:
        self.checked = 0.0
        self._generation += 1
        for invalidate in self.dependents:
            invalidate()

    def invalidate_after_commit(self, session: AsyncSession) -> None:
        """Once the new version is committed: before that, a rebuild would not see it and be kept for a while."""
        event.listen(session.sync_session, "after_commit", lambda _: self.invalidate(), once=True)

    async def get(self, session: AsyncSession) -> T:
        """The catalogue in force; ``versions`` names it until the next await."""
        if self._fresh():
            return self.value
        # One rebuild at a time: a slower one finishing after a newer one would put an older catalogue back
        # under the newer versions (the pricing worker then stored a day priced by the one under the other's key).
        async with self._lock:
            if self._fresh():
                return self.value
            checked, generation = time.monotonic(), self._generation
            latest = await repository.latest_catalogue_ids(session)
            versions = {kind: latest[kind] for kind in self.kinds if kind in latest}
            if self.value is None or versions != self.versions:
                value = self.build({kind: (await repository.catalogue(session, version)).csv
                                    for kind, version in versions.items()})
                self.value, self.versions = value, versions
            if generation == self._generation:  # else a newer version was stored meanwhile: look again next time
                self.checked = checked
        return self.value

    def _fresh(self) -> bool:
        return self.value is not None and time.monotonic() - self.checked < self.refresh_seconds


TARIFFS = CatalogueStore(("electricity", "gas", "heat", "water"), lambda texts: Catalogue.from_csv(
    texts.get("electricity") or (DATA_DIR / "trve.csv").read_bytes(),
    texts.get("gas") or (DATA_DIR / "gas_benchmark.csv").read_bytes(), texts.get("heat"), texts.get("water")))
# Degree days are versioned beside the tariffs, in the same catalogue table, under their own kind.
DEGREE_DAYS_KIND = "degree_days"
DEGREE_DAYS = CatalogueStore((DEGREE_DAYS_KIND,), lambda texts: DegreeDays.load(texts.get(DEGREE_DAYS_KIND)))


async def degree_days_version(session: AsyncSession) -> str:
    """The degree-day versions in force, which a stored summary and the stored peer statistics name."""
    await DEGREE_DAYS.get(session)
    return orjson.dumps(DEGREE_DAYS.versions, option=orjson.OPT_SORT_KEYS).decode()


BUNDLED_SOURCES = {"electricity": "bundled data/trve.csv (CRE open data; see data/SOURCES.md)",
                   "gas": "bundled data/gas_benchmark.csv (CRE benchmark prices; see data/SOURCES.md)",
                   "heat": "bundled data/heat_tariffs.csv (EXAMPLE values, to replace by CCIAG's tariff)",
                   "water": "bundled data/water_tariffs.csv (EXAMPLE values, to replace by the water tariff)"}
PARSERS = {"electricity": parse_electricity_csv, "gas": parse_gas_csv, "heat": parse_heat_csv,
           "water": parse_water_csv}
BUNDLED_FILES = {"electricity": "trve.csv", "gas": "gas_benchmark.csv", "heat": "heat_tariffs.csv",
                 "water": "water_tariffs.csv"}


async def seed_tariffs(session: AsyncSession) -> None:
    """At first start the bundled files become version 1 of each catalogue, with their source."""
    versions = await repository.latest_catalogue_ids(session)
    for energy, parse in PARSERS.items():
        name = BUNDLED_FILES[energy]
        if energy not in versions:
            text = (DATA_DIR / name).read_text("utf-8")
            await repository.insert_catalogue(session, energy, text, BUNDLED_SOURCES[energy], len(parse(text)),
                                              None)


def _version_view(row: sa.Row) -> TariffCatalogueVersion:
    return TariffCatalogueVersion(energy=row.energy, version=row.id, source=row.source, rows=row.rows,
                                  created_at=row.created_at)


async def upload_tariffs(session: AsyncSession, energy: str, content: bytes, source: str | None,
                         principal: Principal) -> TariffCatalogueVersion:
    if not principal.has("admin"):
        raise Forbidden("only an administrator updates the tariff catalogue", code="forbidden_role")
    parse = PARSERS.get(energy)
    if parse is None:
        raise NotFound("tariffs exist for electricity, gas, heat and water only", code="tariff_energy_unknown")
    try:
        parsed = parse(content)
    except TariffCsvError as error:
        raise AppError(error.detail, code=error.code, status_code=422) from error
    text = content.decode("utf-8-sig")
    label = source.strip() if source and source.strip() else "uploaded by an administrator"
    row = await repository.insert_catalogue(session, energy, text, f"{label} (account {principal.account_id})",
                                            len(parsed), principal.account_id)
    TARIFFS.invalidate_after_commit(session)
    await repository.requeue_pricing(session, energy=energy)
    return _version_view(row)


async def tariff_versions(session: AsyncSession, energy: str) -> list[TariffCatalogueVersion]:
    return [_version_view(r) for r in await repository.catalogue_versions(session, energy)]


async def upload_degree_days(session: AsyncSession, content: bytes, source: str | None,
                             principal: Principal) -> DegreeDaysVersion:
    """A new degree-day file in force (same shape as the bundled one): comparisons of homes heated with the
    compared energy are weather-normalised once the period's months and their normals are all given."""
    if not principal.has("admin"):
        raise Forbidden("only an administrator updates the degree days", code="forbidden_role")
    try:
        parsed = DegreeDays.load(content)
    except DegreeDayCsvError as error:
        raise AppError(error.detail, code=error.code, status_code=422) from error
    label = source.strip() if source and source.strip() else "uploaded by an administrator"
    row = await repository.insert_catalogue(session, DEGREE_DAYS_KIND, content.decode("utf-8-sig"),
                                            f"{label} (account {principal.account_id})", len(parsed.rows),
                                            principal.account_id)
    DEGREE_DAYS.invalidate_after_commit(session)  # and the peer statistics with it
    return _degree_days_view(row)


def _degree_days_view(row: sa.Row) -> DegreeDaysVersion:
    return DegreeDaysVersion(version=row.id, source=row.source, rows=row.rows, created_at=row.created_at)


async def degree_day_versions(session: AsyncSession, principal: Principal) -> list[DegreeDaysVersion]:
    if not principal.has("admin"):
        raise Forbidden("only an administrator reads the degree-day versions", code="forbidden_role")
    return [_degree_days_view(r) for r in await repository.catalogue_versions(session, DEGREE_DAYS_KIND)]


MAX_PROBLEMS = 50
PREVIEW_LINES = 50


def _preview(content: bytes, parse: Callable[[str], object], errors: tuple[type[Exception], ...],
             count: Callable[[object], int], current_rows: int | None, encoding_code: str) -> CataloguePreview:
    """Every problem of the file: each line refused is blanked (its cells emptied, so later lines keep their
    numbers; a blank line is skipped by both parsers) and the file parsed again."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return CataloguePreview(valid=False, rows=0, current_rows=current_rows, columns=[], lines=[],
                                errors=[CsvProblem(line=None, code=encoding_code, detail="the file is not UTF-8")])
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, data = (records[0] if records else []), records[1:]
    lines = text.split("\n")
    problems: list[CsvProblem] = []
    parsed = None
    while len(problems) < MAX_PROBLEMS:
        try:
            parsed = parse("\n".join(lines))
            break
        except errors as error:
            line = getattr(error, "line", None)
            problems.append(CsvProblem(line=line, column=getattr(error, "column", None), code=error.code,
                                       detail=error.detail))
            if line is None or line < 2 or line > len(lines) or not lines[line - 1].strip(", \r"):
                break
            lines[line - 1] = "," * max(len(header) - 1, 0)
    valid = not problems
    return CataloguePreview(valid=valid, rows=count(parsed) if valid else len(data), current_rows=current_rows,
                            columns=header, errors=problems,
                            lines=[CsvLine(line=i, cells=cells) for i, cells in
                                   enumerate(data[:PREVIEW_LINES], start=2)])


def _admin(principal: Principal) -> None:
    if not principal.has("admin"):
        raise Forbidden("only an administrator checks a catalogue file", code="forbidden_role")


async def preview_tariffs(session: AsyncSession, energy: str, content: bytes,
                          principal: Principal) -> CataloguePreview:
    _admin(principal)
    parse = {"electricity": parse_electricity_csv, "gas": parse_gas_csv}[energy]
    versions = await repository.catalogue_versions(session, energy)
    return _preview(content, parse, (TariffCsvError,), len, versions[0].rows if versions else None,
                    "tariff_csv_encoding")


async def preview_degree_days(session: AsyncSession, content: bytes, principal: Principal) -> CataloguePreview:
    _admin(principal)
    versions = await repository.catalogue_versions(session, DEGREE_DAYS_KIND)
    return _preview(content, DegreeDays.load, (DegreeDayCsvError,), lambda d: len(d.rows),
                    versions[0].rows if versions else None, "degree_days_csv_encoding")
