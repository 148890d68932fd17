"""Decisions of the consumption service: turning stored days into the series, euros, totals and comparisons
a resident reads."""
from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.climate import DegreeDayCsvError, DegreeDays, bundled_emission_factors
from consumption.comparison import DEFAULT_CLIMATE_AREA, HomeComparison, MetricComparison, compare_homes
from consumption.pricing import CENT, Contract, DailyPricer, DayPrice, hc_share_method, to_date_totals
from consumption.tariffs import (DATA_DIR, OPTION_PERIODS, Catalogue, TariffCsvError, parse_electricity_csv,
                                 parse_gas_csv)
from metro.db import Database
from metro.errors import AddressUnconfirmed, AppError, Forbidden, NotFound
from metro.events import ContractChanged
from metro.schemas.consumption import (AnomalyAlert, Comparison, ContractDeclaration, ContractView,
                                       DegreeDaysVersion, PeerMetric, Step, TariffCatalogueVersion,
                                       ToDateTotals)
from metro.service_auth import Principal

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_DEGREE_DAY_STATION = "38538002"  # Météo-France GRENOBLE - LVD (Le Versoud), inside the Métropole
MAX_DAYS = {Step.day: 3 * 366 + 31, Step.week: 10 * 366, Step.month: 20 * 366, Step.year: 50 * 366}
DAY = dt.timedelta(days=1)
# A peer whose period has more missing days than this share is left out of the group.
MIN_PEER_COVERAGE = 0.9
ASSUMED_KVA = 6
ASSUMED_OFFPEAK_HOURS = Decimal(8)
CO2E_ENERGY = {"electricity": "electricity", "gas": "gas", "heat": "heat_network"}


def period_start(day: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return day - dt.timedelta(days=day.weekday())
    if step is Step.month:
        return day.replace(day=1)
    if step is Step.year:
        return day.replace(month=1, day=1)
    return day


def next_period(start: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return start + dt.timedelta(days=7)
    if step is Step.month:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if step is Step.year:
        return start.replace(year=start.year + 1)
    return start + DAY


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, next_period(first, Step.month)


def same_day_last_year(day: dt.date) -> dt.date:
    # 29 February has no twin: the previous year's 28 February stands in.
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else \
        day.replace(year=day.year - 1)


def cents(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


async def authorize_meter(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> sa.Row:
    """The meter (id, account, energy), if the principal may read it; otherwise not found (no existence leak)."""
    row = await repository.meter_info(session, meter_id)
    check_access(row, principal)
    return row


def check_access(meter: sa.Row | None, principal: Principal) -> None:
    if meter is None:
        raise NotFound("no such meter", code="meter_not_found")
    if principal.account_id != meter.account_id and not principal.has("reader:all"):
        raise NotFound("no such meter", code="meter_not_found")


def check_shown(meter: sa.Row) -> None:
    """Collected while consent's accuracy control holds it, but shown to nobody until it is resolved."""
    if meter.address_hold:
        raise AddressUnconfirmed("the DSO's address of this meter differs from the dwelling's: confirm the meter "
                                 "is yours or correct the dwelling before its data is shown")


def authorize_account(account_id: uuid.UUID, principal: Principal) -> None:
    """Account-wide internal reads: the platform itself (periodic reports), the account, or an administrator."""
    if principal.account_id not in (None, account_id) and not principal.has("admin"):
        raise Forbidden("this account is not yours", code="account_forbidden")


def authorize_platform(principal: Principal) -> None:
    """Reads across accounts: the platform itself or an administrator, never a resident."""
    if principal.account_id is not None and not principal.has("admin"):
        raise Forbidden("this list is for the platform", code="platform_only")


def check_range(start: dt.date, end: dt.date, step: Step) -> None:
    if end <= start:
        raise AppError("'to' must be after 'from' (to is exclusive)", code="invalid_period", status_code=422)
    if (end - start).days > MAX_DAYS[step]:
        raise AppError(f"period too long for step {step.value}", code="period_too_long", status_code=422)


# --- tariffs ------------------------------------------------------------------------------------------------

class CatalogueStore(Generic[T]):
    """What is built from the latest stored version of some catalogue kinds (the bundled files until one is
    uploaded), rebuilt only when a newer version is stored (checked every few seconds)."""

    def __init__(self, kinds: tuple[str, ...], build: Callable[[dict[str, str]], T], refresh_seconds: float = 10.0):
        self.kinds, self.build, self.refresh_seconds = kinds, build, refresh_seconds
        self.versions: dict[str, int] = {}
        self.value: T | None = None
        self.checked = 0.0

    def invalidate(self) -> None:
        self.checked = 0.0

    async def get(self, session: AsyncSession) -> T:
        now = time.monotonic()
        if self.value is not None and now - self.checked < self.refresh_seconds:
            return self.value
        latest = await repository.latest_catalogue_ids(session)
        versions = {kind: latest[kind] for kind in self.kinds if kind in latest}
        if self.value is None or versions != self.versions:
            self.value = self.build({kind: (await repository.catalogue(session, version)).csv
                                     for kind, version in versions.items()})
            self.versions = versions
        self.checked = now
        return self.value


TARIFFS = CatalogueStore(("electricity", "gas"), lambda texts: Catalogue.from_csv(
    texts.get("electricity") or (DATA_DIR / "trve.csv").read_bytes(),
    texts.get("gas") or (DATA_DIR / "gas_benchmark.csv").read_bytes()))
# Degree days are versioned beside the tariffs, in the same catalogue table, under their own kind.
DEGREE_DAYS_KIND = "degree_days"
DEGREE_DAYS = CatalogueStore((DEGREE_DAYS_KIND,), lambda texts: DegreeDays.load(texts.get(DEGREE_DAYS_KIND)))
BUNDLED_SOURCES = {"electricity": "bundled data/trve.csv (CRE open data; see data/SOURCES.md)",
                   "gas": "bundled data/gas_benchmark.csv (CRE benchmark prices; see data/SOURCES.md)"}


async def seed_tariffs(session: AsyncSession) -> None:
    """At first start the bundled files become version 1 of each catalogue, with their source."""
    versions = await repository.latest_catalogue_ids(session)
    for energy, name, parse in (("electricity", "trve.csv", parse_electricity_csv),
                                ("gas", "gas_benchmark.csv", parse_gas_csv)):
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
    parse = {"electricity": parse_electricity_csv, "gas": parse_gas_csv}.get(energy)
    if parse is None:
        raise NotFound("tariffs exist for electricity and gas only", code="tariff_energy_unknown")
    try:
        parsed = parse(content)
    except TariffCsvError as error:
        raise AppError(error.detail, code=error.code, status_code=422) from error
    text = content.decode("utf-8-sig")
    label = source.strip() if source and source.strip() else "uploaded by an administrator"
    row = await repository.insert_catalogue(session, energy, text, f"{label} (account {principal.account_id})",
                                            len(parsed), principal.account_id)
    TARIFFS.invalidate()
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
    DEGREE_DAYS.invalidate()
    PEERS.invalidate()
    return _degree_days_view(row)


def _degree_days_view(row: sa.Row) -> DegreeDaysVersion:
    return DegreeDaysVersion(version=row.id, source=row.source, rows=row.rows, created_at=row.created_at)


async def degree_day_versions(session: AsyncSession, principal: Principal) -> list[DegreeDaysVersion]:
    if not principal.has("admin"):
        raise Forbidden("only an administrator reads the degree-day versions", code="forbidden_role")
    return [_degree_days_view(r) for r in await repository.catalogue_versions(session, DEGREE_DAYS_KIND)]


# --- contracts ----------------------------------------------------------------------------------------------

_RANGE = re.compile(r"(\d{1,2})\s*[hH:]\s*(\d{2})?\s*-\s*(\d{1,2})\s*[hH:]\s*(\d{2})?")
DSO_OPTIONS = {"BASE": "BASE", "HC": "HPHC", "HPHC": "HPHC", "HC_SEASONAL": "HPHC", "TEMPO": "TEMPO"}


def offpeak_hours_per_day(text: str | None) -> Decimal | None:
    """'HC (22H00-6H00)', '22:00-06:00' or '01:30-08:00;12:30-14:00' → hours per day (8, 8, 8)."""
    if not text:
        return None
    minutes = 0
    for h1, m1, h2, m2 in _RANGE.findall(text):
        start, end = int(h1) * 60 + int(m1 or 0), int(h2) * 60 + int(m2 or 0)
        if start > 24 * 60 or end > 24 * 60:
            return None
        minutes += (end - start) % (24 * 60)
    return (Decimal(minutes) / 60).quantize(Decimal("0.01")) if minutes else None


def _contract_values(option: str, kva: int | None, offpeak: str | None, start: Any = None, end: Any = None,
                     status: str | None = None) -> dict[str, Any]:
    return {"tariff_option": option, "subscribed_kva": kva, "offpeak_hours": offpeak,
            "offpeak_hours_per_day": offpeak_hours_per_day(offpeak),
            "start": dt.date.fromisoformat(start[:10]) if isinstance(start, str) else start,
            "end": dt.date.fromisoformat(end[:10]) if isinstance(end, str) else end, "status": status}


async def record_dso_contract(session: AsyncSession, contract: ContractChanged) -> None:
    raw = (contract.tariff_option or "").upper()
    await repository.upsert_contract(session, contract.meter_id, "dso", _contract_values(
        DSO_OPTIONS.get(raw, raw), contract.subscribed_kva, contract.offpeak_hours, contract.start, contract.end,
        contract.status))


async def declare_contract(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                           body: ContractDeclaration) -> ContractView:
    meter = await authorize_meter(session, meter_id, principal)
    if meter.account_id != principal.account_id:
        raise NotFound("no such meter", code="meter_not_found")
    if meter.energy != "electricity":
        raise AppError("a tariff option is declared for an electricity meter", code="contract_not_electricity",
                       status_code=422)
    if body.tariff_option != "BASE" and offpeak_hours_per_day(body.offpeak_hours) is None:
        raise AppError("an off-peak contract needs its off-peak hours, e.g. '22:00-06:00'",
                       code="offpeak_hours_required", status_code=422)
    await repository.upsert_contract(session, meter_id, "resident", _contract_values(
        body.tariff_option, body.subscribed_kva, body.offpeak_hours if body.tariff_option != "BASE" else None))
    await repository.queue_pricing(session, [meter_id])
    return await contract_view(session, meter_id, principal)


@dataclass
class Pricing:
    contract: Contract | None
    view: ContractView
    label: str
    assumed: str | None = None
    notes: list[str] = field(default_factory=list)


async def resolve_pricing(session: AsyncSession, meter: sa.Row, contracts: dict[str, Any] | None = None) -> Pricing:
    """The contract that prices a meter: the DSO's, else the resident's declaration, else an assumption.
    ``contracts``: the meter's, by origin, when the caller has read them already."""
    if meter.energy == "gas":
        profile = await repository.profile_of(session, meter.account_id) or {}
        band = "chauffage" if profile.get("heating_energy") == "gas" else "cuisson_eau_chaude"
        why = ("gas heating declared in the dwelling" if band == "chauffage"
               else "no gas heating declared in the dwelling")
        return Pricing(Contract(energy="gas", gas_band=band),
                       ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option=band),
                       f"CRE gas benchmark price, profile {band} ({why})")
    if meter.energy != "electricity":
        return Pricing(None, ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option="none"),
                       f"no regulated tariff for {meter.energy}: euros are not computed")
    rows = contracts if contracts is not None else await repository.meter_contracts(session, meter.meter_id)
    row = next((rows[o] for o in ("dso", "resident") if o in rows and rows[o].tariff_option in OPTION_PERIODS),
               None)
    if row is None:
        view = ContractView(meter_id=meter.meter_id, origin="assumed", tariff_option="BASE",
                            subscribed_kva=ASSUMED_KVA)
        return Pricing(Contract(option="BASE", kva=ASSUMED_KVA), view, f"TRVE BASE {ASSUMED_KVA} kVA",
                       assumed=f"no contract known (neither from the DSO nor declared): priced as Tarif Bleu "
                               f"BASE {ASSUMED_KVA} kVA")
    view = ContractView(meter_id=meter.meter_id, origin=row.origin, tariff_option=row.tariff_option,
                        subscribed_kva=row.subscribed_kva, offpeak_hours=row.offpeak_hours,
                        offpeak_hours_per_day=float(row.offpeak_hours_per_day)
                        if row.offpeak_hours_per_day is not None else None,
                        start=row.start, end=row.end, status=row.status)
    assumed = []
    kva = row.subscribed_kva
    if kva is None:
        kva = ASSUMED_KVA
        assumed.append(f"subscribed power unknown: {ASSUMED_KVA} kVA assumed")
    hours = row.offpeak_hours_per_day
    if row.tariff_option != "BASE" and hours is None:
        hours = ASSUMED_OFFPEAK_HOURS
        assumed.append(f"off-peak hours unknown: {ASSUMED_OFFPEAK_HOURS} h assumed")
    origin = "DSO contract" if row.origin == "dso" else "contract declared by the resident"
    return Pricing(Contract(option=row.tariff_option, kva=kva, offpeak_hours=Decimal(hours or 8)), view,
                   f"TRVE {row.tariff_option} {kva} kVA ({origin})", assumed="; ".join(assumed) or None)


async def contract_view(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> ContractView:
    meter = await authorize_meter(session, meter_id, principal)
    return (await resolve_pricing(session, meter)).view


def _split(extra: Any) -> dict[str, int] | None:
    if not isinstance(extra, dict):
        return None
    hp, hc = extra.get("HP", extra.get("hp_wh")), extra.get("HC", extra.get("hc_wh"))
    if hp is None or hc is None:
        return None
    return {"HP": int(hp), "HC": int(hc)}


# Per priced day: what makes its euros an estimate (OR-ed over a period into the notes of eur_method).
SPLIT_ESTIMATED = 1  # an off-peak contract priced from a daily total, without the DSO's HP/HC split
CARRIED = 2  # a price or a subscription carried from an earlier version of the catalogue


def day_prices(rows: Sequence[Any], pricing: Pricing,
               catalogue: Catalogue) -> dict[dt.date, tuple[Decimal | None, int]]:
    """Each row (day, wh[, extra]) priced under the pricing: its euros and flags, by day (none without a
    contract)."""
    if pricing.contract is None:
        return {}
    off_peak = pricing.contract.option != "BASE" and pricing.contract.energy == "electricity"
    pricer = DailyPricer(pricing.contract, catalogue)
    out = {}
    for r in rows:
        split = _split(getattr(r, "extra", None)) if off_peak else None
        p = pricer.price(r.day, r.wh, split)
        flags = 0
        if p.estimated:
            flags |= SPLIT_ESTIMATED if off_peak and split is None else 0
            flags |= CARRIED if "carried" in p.method else 0
        out[r.day] = (day_eur(p), flags)
    return out


async def price_on_the_fly(session: AsyncSession, meter: sa.Row, pricing: Pricing, start: dt.date,
                           end: dt.date) -> tuple[list[Any], dict[dt.date, tuple[Decimal | None, int]]]:
    """The meter's readings of [start, end) priced here, while the priced days the worker keeps are behind."""
    off_peak = pricing.contract is not None and pricing.contract.option != "BASE"
    rows = await repository.daily(session, meter.meter_id, start, end, with_extra=off_peak)
    return rows, day_prices(rows, pricing, await TARIFFS.get(session))


def pricing_notes(pricing: Pricing, flags: int) -> list[str]:
    """Why euros over days with these flags are estimated, and how."""
    notes = []
    if pricing.assumed:
        notes.append(pricing.assumed)
    if flags & SPLIT_ESTIMATED and pricing.contract is not None:
        if pricing.contract.option == "TEMPO":
            notes.append("Tempo day colours are not collected: each day is priced at the average over a Tempo "
                         "year (300 blue, 43 white, 22 red days)")
        notes.append(f"off-peak contract with daily totals only: {hc_share_method(pricing.contract)}")
    if flags & CARRIED:
        notes.append("some prices or subscriptions are carried from the previous published version")
    return notes


async def priced_days(session: AsyncSession, meter: sa.Row, pricing: Pricing, start: dt.date,
                      end: dt.date) -> tuple[list[Any], dict[dt.date, Decimal | None]]:
    """The meter's readings of [start, end) and the euros of each day, from the priced days the pricing worker
    keeps, or priced here while some of them are not current; `pricing.notes` then says what in them is
    estimated."""
    await TARIFFS.get(session)  # the catalogue versions in force, which the pricing key names
    rows = await repository.priced_range(session, meter.meter_id, start, end, pricing_key(meter, pricing))
    if all(r.current for r in rows):
        prices = {r.day: (r.eur, r.flags) for r in rows}
    else:
        rows, prices = await price_on_the_fly(session, meter, pricing, start, end)
    flags = 0
    for _, f in prices.values():
        flags |= f
    pricing.notes = pricing_notes(pricing, flags)
    return rows, {day: eur for day, (eur, _) in prices.items()}


def pricing_key(meter: sa.Row, pricing: Pricing) -> str:
    """What a meter's priced days depend on: its contract as priced and the catalogue version of its energy."""
    identity = repr((pricing.contract, TARIFFS.versions.get(meter.energy)))
    return hashlib.blake2b(identity.encode(), digest_size=12).hexdigest()


def eur_method(pricing: Pricing, notes: list[str] | None = None) -> str:
    base = f"{pricing.label}: kWh × price in force that day + yearly subscription ÷ days in the year"
    return "; ".join([base, *(pricing.notes if notes is None else notes)])


def day_eur(p: DayPrice | None) -> Decimal | None:
    if p is None or p.eur is None:
        return None
    return p.energy_eur + p.subscription_eur


# --- series -------------------------------------------------------------------------------------------------

def co2e_factor(energy: str) -> tuple[int, int] | None:
    """kgCO2e per kWh is gCO2e per Wh, kept as an exact fraction (numerator, denominator)."""
    name = CO2E_ENERGY.get(energy)
    if not name:
        return None
    return bundled_emission_factors().factor(name).kg_per_kwh.as_integer_ratio()


async def consumption_json(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                           end: dt.date, step: Step) -> bytes:
    meter, contracts = await repository.meter_and_contracts(session, meter_id)
    check_access(meter, principal)
    check_shown(meter)
    check_range(start, end, step)
    return await series_json(session, meter, start, end, step, await resolve_pricing(session, meter, contracts))


async def warm_reads(session: AsyncSession) -> None:
    """The statements of a one-year series, run once for no meter on each connection opened at start
    (Database.warm_up)."""
    nobody, today = uuid.UUID(int=0), dt.date.today()
    year_ago = today - dt.timedelta(days=365)
    await repository.meter_and_contracts(session, nobody)
    await TARIFFS.get(session)
    await repository.series_points(session, nobody, year_ago, year_ago, today, Step.day.value, None, key="")


async def series_json(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date, step: Step,
                      pricing: Pricing) -> bytes:
    """A metro.schemas.consumption.ConsumptionSeries, serialised. The euros come from the priced days the pricing worker
    keeps; while some of them are not current (new readings, another contract or catalogue), the range is
    priced here and aggregated by the same statement. ``meter`` carries its ``priced_key``: when it names another
    pricing (a contract or a catalogue the worker has not priced yet), the read model is not even asked."""
    await TARIFFS.get(session)  # the catalogue versions in force, which the pricing key names
    first, co2e = period_start(start, step), co2e_factor(meter.energy)
    key, current = pricing_key(meter, pricing), False
    if meter.priced_key == key:  # checked again by the statement, in its own snapshot
        points, flags, current = await repository.series_points(
            session, meter.meter_id, first, start, end, step.value, co2e, key=key)
    if not current:
        rows, prices = await price_on_the_fly(session, meter, pricing, start, end)
        days = [(r.day, r.wh, r.quality, *prices.get(r.day, (None, 0))) for r in rows]
        points, flags, _ = await repository.series_points(session, meter.meter_id, first, start, end, step.value,
                                                          co2e, days=days)
    priced = pricing.contract is not None
    head = orjson.dumps({"meter_id": str(meter.meter_id), "unit": "Wh", "step": step.value,
                         "eur_estimated": priced and bool(pricing_notes(pricing, flags)),
                         "eur_method": eur_method(pricing, pricing_notes(pricing, flags)) if priced
                         else pricing.label})
    return head[:-1] + b',"points":' + points.encode() + b"}"


async def price_meter(session: AsyncSession, meter_id: uuid.UUID) -> int:
    """The pricing worker's step: the meter's readings not yet priced under the pricing in force are priced
    and stored (all of them when the contract or the catalogue changed). Returns the days priced."""
    meter = await repository.meter_info(session, meter_id, lock=True)
    if meter is None:
        return 0
    pricing = await resolve_pricing(session, meter)
    catalogue = await TARIFFS.get(session)
    key = pricing_key(meter, pricing)
    if key != meter.priced_key:
        await repository.clear_priced_days(session, meter_id)
    rows = await repository.unpriced_readings(session, meter_id)
    prices = day_prices(rows, pricing, catalogue)
    records = [(meter_id, r.day, r.wh, r.extra_json, *prices.get(r.day, (None, 0))) for r in rows]
    await repository.store_priced_days(session, meter_id, key, records)
    return len(records)


# --- totals and forecast ------------------------------------------------------------------------------------

@dataclass
class MeterYear:
    """What the summary, the totals and the month report read for one meter: rows up to `as_of`, priced."""
    meter: sa.Row
    as_of: dt.date | None
    rows: list[Any]
    pricing: Pricing
    eur: dict[dt.date, Decimal | None]


async def load_meter_year(session: AsyncSession, meter: sa.Row, as_of: dt.date | None = None) -> MeterYear:
    pricing = await resolve_pricing(session, meter)
    if as_of is None:
        as_of = await repository.last_day(session, meter.meter_id)
    if as_of is None:
        return MeterYear(meter, None, [], pricing, {})
    start = min(as_of.replace(month=1, day=1), as_of.replace(day=1, year=as_of.year - 1))
    rows, eur = await priced_days(session, meter, pricing, start, as_of + DAY)
    return MeterYear(meter, as_of, rows, pricing, eur)


def to_date(y: MeterYear) -> ToDateTotals:
    m = y.meter
    if y.as_of is None:
        return ToDateTotals(meter_id=m.meter_id, energy=m.energy, as_of=None)
    wh = to_date_totals(((r.day, r.wh) for r in y.rows), y.as_of)
    priced = y.pricing.contract is not None
    eur = to_date_totals(y.eur.items(), y.as_of) if priced else None
    return ToDateTotals(
        meter_id=m.meter_id, energy=m.energy, as_of=y.as_of,
        month_wh=int(wh.month_total), month_eur=cents(eur.month_total) if eur else None,
        month_days=wh.month_days_with_data, month_days_missing=len(wh.month_missing_days),
        month_partial=bool(wh.month_missing_days),
        forecast_wh=int(wh.month_forecast.to_integral_value(ROUND_HALF_UP))
        if wh.month_forecast is not None else None,
        forecast_eur=cents(eur.month_forecast) if eur and eur.month_forecast is not None else None,
        forecast_method=wh.forecast_method,
        year_wh=int(wh.year_total), year_eur=cents(eur.year_total) if eur else None,
        year_days=wh.year_days_with_data, year_days_missing=len(wh.year_missing_days),
        year_partial=bool(wh.year_missing_days),
        eur_estimated=priced and bool(y.pricing.notes),
        eur_method=eur_method(y.pricing) if priced else y.pricing.label)


async def totals(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                 as_of: dt.date | None) -> ToDateTotals:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    return to_date(await load_meter_year(session, meter, as_of))


# --- comparison ---------------------------------------------------------------------------------------------

def comparison_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """consent's dwelling profile → the criteria of comparison.compare_homes."""
    return {"heating_energy": profile.get("heating_energy"), "heating_mode": profile.get("heating_mode"),
            "hot_water": profile.get("hot_water_energy"), "dwelling_type": profile.get("dwelling_type"),
            "surface_m2": profile.get("surface_m2"), "occupants": profile.get("occupants"),
            "municipality": profile.get("insee_code")}


@dataclass
class PeerPeriod:
    results: dict[uuid.UUID, HomeComparison]
    totals: dict[uuid.UUID, tuple[int | None, int]]
    expires: float


class PeerCache:
    """Peer statistics per (energy, period), shared by every request of this process for `ttl` seconds.

    Past its time an entry is still served while one task computes its successor: no request waits for the
    periodic recomputation (a second or more over the whole population), and the CPU-bound comparison runs in a
    thread so that the event loop keeps serving meanwhile. Only a period never computed yet, or a cache just
    invalidated, is waited for."""

    def __init__(self, ttl: float = 300.0, station: str = DEFAULT_DEGREE_DAY_STATION):
        self.ttl = ttl
        # The weather station whose degree days stand for the reference area (Grenoble - Le Versoud).
        self.station = station
        self.db: Database | None = None  # for the refreshes in the background (set at start-up)
        self.entries: dict[tuple[str, dt.date, dt.date], PeerPeriod] = {}
        self.locks: dict[tuple[str, dt.date, dt.date], asyncio.Lock] = {}
        self.refreshing: dict[tuple[str, dt.date, dt.date], asyncio.Task] = {}

    def invalidate(self) -> None:
        self.entries.clear()

    async def get(self, session: AsyncSession, energy: str, start: dt.date, end: dt.date) -> PeerPeriod:
        key = (energy, start, end)
        entry = self.entries.get(key)
        if entry is not None:
            if entry.expires <= time.monotonic() and self.db is not None and key not in self.refreshing:
                task = asyncio.create_task(self._refresh(key), name=f"peers:{energy}:{start}")
                self.refreshing[key] = task
                task.add_done_callback(lambda _: self.refreshing.pop(key, None))
            return entry
        async with self.locks.setdefault(key, asyncio.Lock()):
            entry = self.entries.get(key)
            if entry is None:
                entry = self._store(key, await self._compute(session, *key))
            return entry

    async def _refresh(self, key: tuple[str, dt.date, dt.date]) -> None:
        try:
            async with self.db.session() as session:
                self._store(key, await self._compute(session, *key))
        except Exception:
            log.exception("peer statistics not refreshed; the previous ones are served meanwhile")

    def _store(self, key: tuple[str, dt.date, dt.date], entry: PeerPeriod) -> PeerPeriod:
        # Periods nobody asked for during a few lifetimes are dropped.
        stale = time.monotonic() - 3 * self.ttl
        for k in [k for k, e in self.entries.items() if e.expires <= stale]:
            del self.entries[k]
        self.entries[key] = entry
        return entry

    async def _compute(self, session: AsyncSession, energy: str, start: dt.date, end: dt.date) -> PeerPeriod:
        days = (end - start).days
        homes, totals = [], {}
        for meter_id, profile, wh, present in await repository.period_totals(session, energy, start, end):
            totals[meter_id] = (wh, present)
            # A home missing a few days is scaled to the whole period; one missing more is left out.
            kwh = wh / 1000 * days / present if wh is not None and present >= days * MIN_PEER_COVERAGE else None
            homes.append((meter_id, comparison_profile(profile), kwh))
        dju = (await DEGREE_DAYS.get(session)).period_and_reference(self.station, start, end)
        results = await asyncio.to_thread(compare_homes, homes, energy=energy,
                                          degree_days={DEFAULT_CLIMATE_AREA: dju} if dju else None)
        return PeerPeriod({uuid.UUID(k): v for k, v in results.items()}, totals, time.monotonic() + self.ttl)


PEERS = PeerCache()


def _metric(m: MetricComparison | None) -> PeerMetric | None:
    if m is None:
        return None
    return PeerMetric(value=round(m.value, 3), median=round(m.median, 3), efficient=round(m.efficient, 3),
                      rank=m.rank, percentile=round(m.percentile, 1), group_size=m.group_size)


async def compare(session: AsyncSession, meter: sa.Row, start: dt.date, end: dt.date) -> Comparison:
    peers = await PEERS.get(session, meter.energy, start, end)
    days = (end - start).days
    if meter.meter_id in peers.totals:
        wh, present = peers.totals[meter.meter_id]
    else:
        wh, present = await repository.meter_total(session, meter.meter_id, start, end)
        wh = wh if present else None
    ly_wh, ly_present = await repository.meter_total(session, meter.meter_id, same_day_last_year(start),
                                                     same_day_last_year(end))
    ly_days = (same_day_last_year(end) - same_day_last_year(start)).days
    view = Comparison(meter_id=meter.meter_id, energy=meter.energy, start=start, end=end, wh=wh,
                      days_missing=days - present, available=False,
                      last_year_wh=ly_wh if ly_present else None,
                      last_year_days_missing=ly_days - ly_present if ly_present else None)
    result = peers.results.get(meter.meter_id)
    if result is None:
        view.reason = "dwelling_not_described"
    elif result.kwh is None:
        view.reason = result.reason or "no_consumption"
        if view.reason == "no_consumption" and wh is not None:
            view.reason = "too_many_missing_days"
    else:
        view.available = True
        view.level, view.criteria, view.group_size = result.level, list(result.criteria), result.group_size
        view.weather_normalised = result.weather_normalised
        view.kwh, view.kwh_per_m2 = _metric(result.kwh), _metric(result.per_m2)
        view.kwh_per_occupant = _metric(result.per_occupant)
    return view


async def comparison(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, start: dt.date,
                     end: dt.date) -> Comparison:
    meter = await authorize_meter(session, meter_id, principal)
    check_shown(meter)
    check_range(start, end, Step.year)
    if (end - start).days > 366:
        raise AppError("a comparison covers at most one year", code="period_too_long", status_code=422)
    return await compare(session, meter, start, end)


def last_complete_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    first, nxt = month_bounds(as_of)
    if as_of + DAY == nxt:
        return first, nxt
    return month_bounds(first - DAY)


# --- summary, reports ---------------------------------------------------------------------------------------

def _alert(r: sa.Row) -> AnomalyAlert:
    return AnomalyAlert(meter_id=r.meter_id, episode_key=r.episode_key, kind=r.kind, start=r.start, end=r.end,
                        expected_wh=r.expected_wh, observed_wh=r.observed_wh, detected_at=r.published_at)


async def summary(session: AsyncSession, account_id: uuid.UUID, alert_days: int = 30) -> dict[str, Any]:
    """A metro.schemas.consumption.Summary as a plain dict."""
    meters = await repository.account_meters(session, account_id)
    out: list[dict[str, Any]] = []
    latest: dt.date | None = None
    for meter in meters:
        if meter.address_hold:
            out.append({"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": None,
                        "totals": ToDateTotals(meter_id=meter.meter_id, energy=meter.energy, as_of=None).model_dump(),
                        "comparison": None, "withheld": AddressUnconfirmed.code})
            continue
        y = await load_meter_year(session, meter)
        if y.as_of is None:
            out.append({"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": None,
                        "totals": to_date(y).model_dump(), "comparison": None})
            continue
        latest = max(latest or y.as_of, y.as_of)
        week_start = y.as_of - dt.timedelta(days=6)
        week = orjson.loads(await series_json(session, meter, week_start, y.as_of + DAY, Step.day, y.pricing))
        start, end = last_complete_month(y.as_of)
        out.append({"meter_id": meter.meter_id, "energy": meter.energy, "last_7_days": week,
                    "totals": to_date(y).model_dump(),
                    "comparison": (await compare(session, meter, start, end)).model_dump()})
    alerts = []
    if latest is not None:
        alerts = [_alert(r).model_dump() for r in await repository.recent_episodes(
            session, [m.meter_id for m in meters if not m.address_hold], latest - dt.timedelta(days=alert_days))]
    return {"meters": out, "alerts": alerts}


async def accounts_with_meters(session: AsyncSession) -> list[str]:
    return [str(a) for a in await repository.accounts_with_meters(session)]


async def report(session: AsyncSession, account_id: uuid.UUID, principal: Principal, start: dt.date,
                 end: dt.date) -> dict[str, Any]:
    """The periodic report of one account over [start, end) (`to` is exclusive, as everywhere)."""
    authorize_account(account_id, principal)
    check_range(start, end, Step.year)
    if (end - start).days > 366:
        raise AppError("a report covers at most one year", code="period_too_long", status_code=422)
    meters = []
    for meter in await repository.account_meters(session, account_id):
        if meter.address_hold:
            continue
        rows, by_day = await priced_days(session, meter, await resolve_pricing(session, meter), start, end)
        eur = [by_day.get(r.day) for r in rows]
        priced = [e for e in eur if e is not None]
        peers = await compare(session, meter, start, end)
        metric = peers.kwh
        meters.append({
            "meter_id": str(meter.meter_id), "energy": meter.energy,
            "wh": sum(r.wh for r in rows), "eur": cents(sum(priced, Decimal(0))) if priced else None,
            "days": (end - start).days, "days_missing": (end - start).days - len(rows),
            "last_year_wh": peers.last_year_wh,
            "peer_median_wh": round(metric.median * 1000) if metric else None,
            "peer_efficient_wh": round(metric.efficient * 1000) if metric else None,
            "rank": metric.rank if metric else None, "group_size": metric.group_size if metric else None,
            "daily": [{"day": r.day.isoformat(), "wh": r.wh, "eur": cents(e)} for r, e in zip(rows, eur)],
        })
    return {"account_id": str(account_id), "from": start.isoformat(), "to": end.isoformat(), "meters": meters}


def parse_month(month: str) -> dt.date:
    try:
        return dt.datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise AppError("month is YYYY-MM", code="invalid_month", status_code=422) from None


async def month(session: AsyncSession, account_id: uuid.UUID, principal: Principal, month: str) -> dict[str, Any]:
    """Month to date and forecast per meter, for personal-threshold alerts."""
    authorize_account(account_id, principal)
    first = parse_month(month)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    meters = []
    for meter in await repository.account_meters(session, account_id):
        if meter.address_hold:
            continue
        latest = await repository.last_day(session, meter.meter_id)
        as_of = min(latest, last) if latest is not None and latest >= first else None
        t = to_date(await load_meter_year(session, meter, as_of)) if as_of else None
        meters.append({
            "meter_id": str(meter.meter_id), "energy": meter.energy,
            "as_of": as_of.isoformat() if as_of else None,
            "wh": t.month_wh if t else 0, "eur": t.month_eur if t else None,
            "days": t.month_days if t else 0, "days_missing": t.month_days_missing if t else last.day,
            "forecast_wh": t.forecast_wh if t else None, "forecast_eur": t.forecast_eur if t else None,
            "forecast_method": t.forecast_method if t else None,
            "eur_estimated": t.eur_estimated if t else False,
        })
    return {"account_id": str(account_id), "month": month, "meters": meters}
