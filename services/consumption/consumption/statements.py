"""Manual statements: meters no channel reads (an older meter, a meter whose operator sends nothing, fuel oil,
wood). The resident enters an index with its date, or a delivery; the days between two statements get the energy
used between them as `estimated` readings (source `manual`), priced and compared like the others.

What an interval used:
  index meters   (index − previous index) × unit factor: electricity and heat kWh, gas m³ × the bill's
                 conversion coefficient (kWh per m³), water m³ (stored as litres). After a meter exchange:
                 (old meter's last index − previous index) + (new index − new meter's first index); unknown
                 (nothing spread) when the old meter's last index is not given.
  deliveries     fill-to-full: what a delivery brings is what was burnt since the previous one (the tank or the
                 store is topped up each time), × data/fuel_conversion.csv (arrêté du 27 août 2012).
Spreading over the days [previous statement, statement): for a heating use (fuel oil, wood, district heat, or
the dwelling's declared heating energy) each day weighs (1 − s)/365 + s × DJU(day)/DJU(year), s the heating
share (comparison.DEFAULT_HEATING_SHARE unless the profile gives one), DJU from climate.heating_profile;
otherwise every day weighs the same. Daily Wh are rounded cumulatively so that they add up to the interval.

Accuracy control, before anything is stored:
  - an index below the previous one (or above the next) is refused, 422 `index_decreasing`, unless a meter
    exchange is declared;
  - the interval's use per year (amount ÷ Σ weights: the same weather counts the same) is compared with the
    meter's own other intervals (median; `statement_above_history` beyond HISTORY_RATIO times,
    `statement_below_history` under 1/HISTORY_RATIO), else with peers of the same energy and heating energy over
    the same days (median of at least comparison.MIN_GROUP_SIZE homes, per m² when both give a surface;
    `statement_above_peers` beyond PEER_RATIO times), else with a bound no dwelling reaches
    (`statement_above_plausible_bound`): 409 with that code; the same statement with `confirmed: true` is stored,
    with the finding.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from consumption import repository
from consumption.access import check_access
from consumption.catalogues import DEGREE_DAYS
from consumption.comparison import DEFAULT_HEATING_SHARE, MIN_GROUP_SIZE
from consumption.peers import MIN_PEER_COVERAGE, PEERS
from consumption.tariffs import DATA_DIR
from metro.errors import Conflict, Forbidden, Unprocessable
from metro.schemas.consumption import StatementCreate, StatementView
from metro.service_auth import Principal

MANUAL = "manual"
SOURCE = "manual"
# energy → (kind of statement, units accepted, default unit)
UNITS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "electricity": ("index", ("kWh",), "kWh"),
    "heat": ("index", ("kWh",), "kWh"),
    "gas": ("index", ("m3",), "m3"),
    "water": ("index", ("m3",), "m3"),
    "fuel_oil": ("delivery", ("L",), "L"),
    "wood": ("delivery", ("stere", "kg"), None),
}
# The energies heating a dwelling by themselves, and the dwelling's declared heating energy → meter energy.
HEATING_ONLY = {"fuel_oil", "wood", "heat"}
HEATING_METER = {"electricity": "electricity", "heat_pump": "electricity", "gas": "gas", "heat_network": "heat",
                 "wood": "wood", "fuel_oil": "fuel_oil"}
HISTORY_RATIO = 3.0
PEER_RATIO = 4.0
# Above any dwelling's use: the worst DPE class (G) starts at 420 kWh of primary energy per m² and year, and a
# dwelling without a surface is bounded as a large house; water: 3 m³ a day.
MAX_KWH_PER_M2_YEAR = 1000
MAX_KWH_PER_DWELLING_YEAR = 100_000
MAX_LITRES_PER_YEAR = 1_100_000
MAX_HISTORY_YEARS = 3


@lru_cache(maxsize=1)
def conversion_factors() -> dict[tuple[str, str], Decimal]:
    """kWh per unit delivered, from data/fuel_conversion.csv."""
    text = (DATA_DIR / "fuel_conversion.csv").read_text("utf-8")
    return {(r["energy"], r["unit"]): Decimal(r["kwh_per_unit"]) for r in csv.DictReader(io.StringIO(text))}


@dataclass
class Interval:
    start: dt.date
    end: dt.date
    statement: Any
    amount: int | None  # Wh (litres for water)

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def amount_of(energy: str, prev: Any, cur: Any) -> int | None:
    """What was used between two consecutive statements, in Wh (litres for water)."""
    if cur.kind == "delivery":
        return int(cur.value * conversion_factors()[(energy, cur.unit)] * 1000)
    if cur.meter_change:
        if cur.old_meter_last_index is None:
            return None
        delta = (cur.old_meter_last_index - prev.value) + (cur.value - (cur.new_meter_first_index or 0))
    else:
        delta = cur.value - prev.value
    if energy == "gas":
        delta *= cur.conversion_coefficient
    return int((delta * 1000).to_integral_value())


def intervals(energy: str, rows: list[Any]) -> list[Interval]:
    return [Interval(prev.taken_on, cur.taken_on, cur, amount_of(energy, prev, cur))
            for prev, cur in zip(rows, rows[1:])]


def heating_use(energy: str, profile: dict[str, Any] | None) -> bool:
    return energy in HEATING_ONLY or (profile is not None
                                      and HEATING_METER.get(profile.get("heating_energy") or "") == energy)


async def day_weights(session: AsyncSession, energy: str, profile: dict[str, Any] | None, start: dt.date,
                      end: dt.date) -> dict[dt.date, float]:
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    if not heating_use(energy, profile):
        return {d: 1 / 365 for d in days}
    share = float((profile or {}).get("heating_share", DEFAULT_HEATING_SHARE))
    dju, year = (await DEGREE_DAYS.get(session)).heating_profile(PEERS.station, start, end)
    return {d: (1 - share) / 365 + share * dju[d] / year for d in days}


def spread(amount: int, weights: dict[dt.date, float]) -> list[tuple[dt.date, int]]:
    """``amount`` shared among the days by weight, rounded cumulatively: the days add up to the amount."""
    total = sum(weights.values())
    out, done, running = [], 0, 0.0
    for day in sorted(weights):
        running += weights[day]
        upto = round(amount * running / total) if total > 0 else round(amount * (len(out) + 1) / len(weights))
        out.append((day, upto - done))
        done = upto
    return out


async def _meter(session: AsyncSession, meter_id: uuid.UUID, principal: Principal, *, lock: bool = False) -> sa.Row:
    meter = await repository.statement_meter(session, meter_id, lock=lock)
    check_access(meter, principal)
    if meter.dso != MANUAL:
        raise Conflict("this meter is read by its operator: statements are for manual meters",
                       code="meter_not_manual")
    return meter


def _view(energy: str, row: Any, interval: Interval | None) -> StatementView:
    return StatementView(
        id=row.id, meter_id=row.meter_id, taken_on=row.taken_on, kind=row.kind, value=row.value, unit=row.unit,
        conversion_coefficient=row.conversion_coefficient, meter_change=row.meter_change,
        old_meter_last_index=row.old_meter_last_index, new_meter_first_index=row.new_meter_first_index,
        amount=interval.amount if interval else None, amount_unit="L" if energy == "water" else "Wh",
        days=interval.days if interval else None, confirmed_check=row.confirmed_check, created_at=row.created_at)


def views(energy: str, rows: list[Any]) -> list[StatementView]:
    ending = {i.statement.id: i for i in intervals(energy, rows)}
    return [_view(energy, r, ending.get(r.id)) for r in rows]


async def list_statements(session: AsyncSession, meter_id: uuid.UUID, principal: Principal) -> list[StatementView]:
    meter = await _meter(session, meter_id, principal)
    return views(meter.energy, await repository.meter_statements(session, meter_id))


class _Row:
    """A statement not stored yet, read like a row."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


def _candidate(meter: sa.Row, body: StatementCreate, rows: list[Any]) -> _Row:
    kind, units, default_unit = UNITS[meter.energy]
    value = body.index if kind == "index" else body.quantity
    other = body.quantity if kind == "index" else body.index
    if value is None or other is not None:
        field = "index" if kind == "index" else "quantity"
        raise Unprocessable(f"a {meter.energy.replace('_', ' ')} statement gives `{field}` only",
                            code="statement_kind_not_for_energy")
    unit = body.unit or default_unit
    if unit not in units:
        raise Unprocessable(f"{meter.energy.replace('_', ' ')} is stated in {' or '.join(units)}",
                            code="unit_not_for_energy")
    if kind == "delivery" and (body.meter_change or body.old_meter_last_index is not None
                               or body.new_meter_first_index is not None):
        raise Unprocessable("a delivery has no meter to exchange", code="statement_kind_not_for_energy")
    if not body.meter_change and (body.old_meter_last_index is not None or body.new_meter_first_index is not None):
        raise Unprocessable("the old and new meter's indexes go with `meter_change: true`",
                            code="meter_change_not_declared")
    coefficient = body.conversion_coefficient
    before = [r for r in rows if r.taken_on < body.taken_on]
    if meter.energy == "gas" and coefficient is None:
        coefficient = next((r.conversion_coefficient for r in reversed(before) if r.conversion_coefficient), None)
        if coefficient is None and before:
            raise Unprocessable("give the conversion coefficient (kWh per m³) printed on the gas bill",
                                code="conversion_coefficient_required")
    elif meter.energy != "gas" and coefficient is not None:
        raise Unprocessable("only a gas statement has a conversion coefficient",
                            code="conversion_coefficient_not_for_energy")
    return _Row(dict(
        id=uuid.uuid4(), meter_id=meter.meter_id, account_id=meter.account_id, taken_on=body.taken_on, kind=kind,
        value=value, unit=unit, conversion_coefficient=coefficient, meter_change=body.meter_change,
        old_meter_last_index=body.old_meter_last_index, new_meter_first_index=body.new_meter_first_index,
        confirmed_check=None, created_at=dt.datetime.now(dt.UTC)))


def _check_order(rows: list[Any], new: Any) -> None:
    """A meter's index only rises, unless it was exchanged."""
    k = rows.index(new)
    prev, nxt = (rows[k - 1] if k else None), (rows[k + 1] if k + 1 < len(rows) else None)
    if new.kind != "index":
        return
    if prev is not None:
        if new.meter_change and new.old_meter_last_index is not None and new.old_meter_last_index < prev.value:
            raise Unprocessable(f"the old meter's last index {new.old_meter_last_index} is below the index "
                                f"{prev.value} stated on {prev.taken_on}", code="index_decreasing")
        if not new.meter_change and new.value < prev.value:
            raise Unprocessable(f"the index {new.value} is below the index {prev.value} stated on {prev.taken_on}; "
                                "declare a meter change if the meter was exchanged", code="index_decreasing")
    if nxt is not None and not nxt.meter_change and nxt.value < new.value:
        raise Unprocessable(f"the index {new.value} is above the index {nxt.value} stated later, on "
                            f"{nxt.taken_on}", code="index_decreasing")


def _per_year(interval: Interval, weights: dict[dt.date, float]) -> float:
    """The interval's amount as a year's use under the same weather (Wh or litres)."""
    total = sum(weights[interval.start + dt.timedelta(days=i)] for i in range(interval.days))
    return interval.amount / total if total > 0 else 0.0


def _unit(energy: str, per_year: float, per_m2: bool = False) -> str:
    if energy == "water":
        return f"{per_year / 1000:,.1f} m³ a year"
    return f"{per_year / 1000:,.0f} kWh{' per m²' if per_m2 else ''} a year"


async def _peer_median(session: AsyncSession, meter: sa.Row, profile: dict[str, Any] | None,
                       interval: Interval, weights: dict[dt.date, float]) -> tuple[float, bool] | None:
    """The median use per year (per m² when the home and the peers give a surface) of at least MIN_GROUP_SIZE
    homes of the same energy and heating energy over the same days; None with fewer."""
    surface = (profile or {}).get("surface_m2")
    heating = (profile or {}).get("heating_energy")
    total = sum(weights.values())
    values, values_m2 = [], []
    # The peers' whole months that the interval touches (their rollups), as a use per day over those months.
    for meter_id, peer, wh, present in await repository.period_totals(session, meter.energy,
                                                                      interval.start.replace(day=1), interval.end):
        if meter_id == meter.meter_id or wh is None or present < interval.days * MIN_PEER_COVERAGE:
            continue
        peer = orjson.loads(peer)
        if heating is not None and peer.get("heating_energy") != heating:
            continue
        per_year = wh * interval.days / present / total
        values.append(per_year)
        if peer.get("surface_m2"):
            values_m2.append(per_year / peer["surface_m2"])
    if surface and len(values_m2) >= MIN_GROUP_SIZE:
        return statistics.median(values_m2), True
    if len(values) >= MIN_GROUP_SIZE:
        return statistics.median(values), False
    return None


async def _plausibility(session: AsyncSession, meter: sa.Row, profile: dict[str, Any] | None,
                        checked: list[Interval], others: list[Interval]) -> tuple[str, str] | None:
    """(code, message) of the first checked interval whose use is implausible for this dwelling."""
    energy = meter.energy
    history = []
    for i in others:
        if i.amount and i.days:
            history.append(_per_year(i, await day_weights(session, energy, profile, i.start, i.end)))
    for interval in checked:
        if interval.amount is None or interval.days == 0:
            continue
        weights = await day_weights(session, energy, profile, interval.start, interval.end)
        per_year = _per_year(interval, weights)
        said = (f"the statement of {interval.statement.taken_on} means {_unit(energy, per_year)} "
                f"from {interval.start} to {interval.end}")
        if history:
            usual = statistics.median(history)
            if usual > 0 and per_year > HISTORY_RATIO * usual:
                return "statement_above_history", f"{said}, over {HISTORY_RATIO:g} times your usual " \
                    f"{_unit(energy, usual)} under the same weather"
            if per_year < usual / HISTORY_RATIO:
                return "statement_below_history", f"{said}, under a third of your usual {_unit(energy, usual)} " \
                    "under the same weather"
            continue
        peers = await _peer_median(session, meter, profile, interval, weights)
        if peers is not None:
            median, by_m2 = peers
            mine = per_year / profile["surface_m2"] if by_m2 else per_year
            if median > 0 and mine > PEER_RATIO * median:
                return "statement_above_peers", f"{said}, over {PEER_RATIO:g} times similar homes' " \
                    f"{_unit(energy, median, by_m2)}"
            continue
        surface = (profile or {}).get("surface_m2")
        if energy == "water":
            bound, mine, by_m2 = MAX_LITRES_PER_YEAR, per_year, False
        elif surface:
            bound, mine, by_m2 = MAX_KWH_PER_M2_YEAR * 1000, per_year / surface, True
        else:
            bound, mine, by_m2 = MAX_KWH_PER_DWELLING_YEAR * 1000, per_year, False
        if mine > bound:
            return "statement_above_plausible_bound", f"{said}, beyond what a dwelling uses " \
                f"({_unit(energy, bound, by_m2)})"
    return None


async def add_statement(session: AsyncSession, meter_id: uuid.UUID, principal: Principal,
                        body: StatementCreate) -> StatementView:
    await _meter(session, meter_id, principal)
    # The workers take a meter's queue row, then the meter: queued first and locked after, as they do. Locked
    # first, a worker holding the queue row of the meter's previous statement and this statement would each
    # wait for the other (a deadlock, the statement refused with a 500 under load).
    await repository.queue_scans_and_pricing(session, [meter_id])
    meter = await _meter(session, meter_id, principal, lock=True)
    if principal.account_id != meter.account_id:
        raise Forbidden("only the meter's resident states its readings", code="account_forbidden")
    today = dt.date.today()
    if body.taken_on > today:
        raise Unprocessable("a statement cannot be dated in the future", code="statement_in_future")
    if body.taken_on < today.replace(year=today.year - MAX_HISTORY_YEARS):
        raise Unprocessable(f"statements go back {MAX_HISTORY_YEARS} years at most", code="statement_too_old")
    rows = list(await repository.meter_statements(session, meter_id))
    if any(r.taken_on == body.taken_on for r in rows):
        raise Conflict(f"a statement already exists on {body.taken_on}", code="statement_already_on_day")
    new = _candidate(meter, body, rows)
    rows = sorted([*rows, new], key=lambda r: r.taken_on)
    _check_order(rows, new)
    all_intervals = intervals(meter.energy, rows)
    k = rows.index(new)
    touched = {new.id, rows[k + 1].id if k + 1 < len(rows) else None}
    checked = [i for i in all_intervals if i.statement.id in touched]
    others = [i for i in all_intervals if i.statement.id not in touched]
    profile = await repository.profile_of(session, meter.account_id)
    finding = await _plausibility(session, meter, profile, checked, others)
    if finding is not None:
        if not body.confirmed:
            raise Conflict(f"{finding[1]}; send it again with `confirmed: true` if it is right", code=finding[0])
        new.confirmed_check = finding[0]
    await repository.insert_statement(session, {k: v for k, v in new.__dict__.items() if k != "created_at"})
    await respread(session, meter, profile, all_intervals)
    stored = await repository.meter_statements(session, meter_id)
    return next(v for v in views(meter.energy, stored) if v.id == new.id)


async def respread(session: AsyncSession, meter: sa.Row, profile: dict[str, Any] | None,
                   all_intervals: list[Interval]) -> None:
    """The meter's `manual` readings, from its statements as they now stand."""
    records = []
    for interval in all_intervals:
        if interval.amount is None or interval.days == 0:
            continue
        weights = await day_weights(session, meter.energy, profile, interval.start, interval.end)
        extra = orjson.dumps({"statement": str(interval.statement.id)}).decode()
        records += [(meter.meter_id, day, wh, "estimated", SOURCE, extra) for day, wh in spread(interval.amount,
                                                                                                 weights)]
    gone = await repository.manual_days(session, meter.meter_id, SOURCE) - {r[1] for r in records}
    if gone:
        await repository.delete_readings(session, meter.meter_id, sorted(gone))
        await repository.clear_priced_days(session, meter.meter_id)
    if records:
        _, *columns = zip(*records)
        await repository.upsert_readings(session, {meter.meter_id: repository.MeterReadings(*columns)})
    await repository.queue_scans_and_pricing(session, [meter.meter_id])
