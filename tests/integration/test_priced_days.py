"""Issue 6: series are served from the priced-days read model the pricing worker keeps, and priced on the fly
while it is behind. Both give the figures an independent computation gives (pricing.price_day per day, summed
per period and rounded once), for every step, across a tariff change, a leap day, a missing day, estimated
days and HP/HC splits; a changed reading, contract or catalogue makes the model not current until priced again."""
from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from consumption import catalogues, euros, periods, repository, series, summary, totals
from consumption.contracts import offpeak_hours_per_day, resolve_pricing
from consumption.models import contracts, meters, priced_days, readings
from consumption.pricing import CENT, Contract, price_day
from consumption.tariffs import DATA_DIR, Catalogue
from metro.schemas.consumption import Step
from metro.service_auth import Principal

START, END = dt.date(2023, 12, 20), dt.date(2024, 3, 12)  # a tariff change on 1 February 2024, 29 February
MISSING = dt.date(2024, 1, 7)
CATALOGUE = Catalogue.from_csv((DATA_DIR / "trve.csv").read_bytes(), (DATA_DIR / "gas_benchmark.csv").read_bytes())


async def new_meter(db, option: str, kva: int, offpeak: str | None, rng: random.Random) -> tuple[uuid.UUID, uuid.UUID]:
    meter_id, account_id = uuid.uuid4(), uuid.uuid4()
    rows = []
    day = START
    while day < END:
        if day != MISSING:
            wh = rng.randrange(3_000, 30_000)
            # Some days come with the DSO's HP/HC split, some are estimated by the DSO.
            extra = {"HP": wh * 2 // 3, "HC": wh - wh * 2 // 3} if option != "BASE" and rng.random() < 0.3 else None
            rows.append({"meter_id": meter_id, "day": day, "wh": wh, "source": "test", "extra": extra,
                         "quality": "estimated" if rng.random() < 0.05 else "measured"})
        day += dt.timedelta(days=1)
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(meters).values(meter_id=meter_id, account_id=account_id,
                                                       energy="electricity", dso="enedis"))
        await session.execute(sa.insert(readings), rows)
        await session.execute(sa.insert(contracts).values(
            meter_id=meter_id, origin="resident", tariff_option=option, subscribed_kva=kva, offpeak_hours=offpeak,
            offpeak_hours_per_day=offpeak_hours_per_day(offpeak)))
    return meter_id, account_id


async def expected_points(db, meter_id: uuid.UUID, contract: Contract, start: dt.date, end: dt.date,
                          step: Step) -> list[dict]:
    """The points computed independently: each day priced alone by pricing.price_day, added up unrounded."""
    async with db.session() as session:
        days = {r.day: r for r in await session.execute(sa.select(readings).where(readings.c.meter_id == meter_id))}
    points, p = [], periods.period_start(start, step)
    while p < end:
        nxt = periods.next_period(p, step)
        lo, hi = max(p, start), min(nxt, end)
        present = [days[d] for d in (lo + dt.timedelta(days=i) for i in range((hi - lo).days)) if d in days]
        eur = sum((price_day(r.day, r.wh, contract, CATALOGUE, r.extra).energy_eur
                   + price_day(r.day, r.wh, contract, CATALOGUE, r.extra).subscription_eur for r in present),
                  Decimal(0))
        wh = sum(r.wh for r in present)
        points.append({
            "period": p.isoformat(), "wh": wh if present else None,
            "eur": str(eur.quantize(CENT, rounding=ROUND_HALF_UP)) if present else None,
            "quality": "missing" if not present else "partial" if len(present) < (hi - lo).days
            else "estimated" if any(r.quality != "measured" for r in present) else "measured",
            "days": (hi - lo).days, "days_missing": (hi - lo).days - len(present),
            # 0.0461 kgCO2e/kWh (electricity mix), half up
            "co2e_g": int((Decimal(wh) * Decimal("0.0461")).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if present else None})
        p = nxt
    return points


async def served(db, meter_id, account_id, start, end, step) -> dict:
    async with db.session() as session, session.begin():
        return json.loads(await series.consumption_json(session, meter_id, Principal(account_id), start, end, step))


async def is_current(db, meter_id, start, end) -> bool:
    async with db.session() as session:
        meter = await repository.meter_info(session, meter_id)
        pricing = await resolve_pricing(session, meter)
        await catalogues.TARIFFS.get(session)
        return (await repository.series_points(session, meter_id, start, start, end, "day", None,
                                               key=euros.pricing_key(meter, pricing)))[2]


async def totals_and_report(db, meter_id, account_id, as_of) -> tuple[dict, dict]:
    async with db.session() as session, session.begin():
        to_date = (await totals.totals(session, meter_id, Principal(account_id), as_of)).model_dump(mode="json")
        report = await summary.report(session, account_id, Principal(account_id), START, END)
        return to_date, report


async def price(db, meter_id) -> int:
    async with db.session() as session, session.begin():
        return await euros.price_meter(session, meter_id)


RANGES = [(START, END), (dt.date(2024, 1, 3), dt.date(2024, 2, 29)), (dt.date(2024, 2, 28), dt.date(2024, 3, 2)),
          (dt.date(2023, 12, 1), dt.date(2024, 4, 1))]


@pytest.mark.parametrize("option,kva,offpeak", [("BASE", 6, None), ("HPHC", 9, "22:00-06:00"),
                                                ("TEMPO", 6, "22:00-06:00")])
async def test_the_read_model_and_the_on_the_fly_pricing_give_the_independent_figures(db, option, kva, offpeak):
    meter_id, account_id = await new_meter(db, option, kva, offpeak, random.Random(f"{option}{kva}"))
    contract = Contract(option=option, kva=kva, offpeak_hours=Decimal(8))
    assert not await is_current(db, meter_id, START, END), "nothing priced yet: served on the fly"
    on_the_fly = {(s, e, step): await served(db, meter_id, account_id, s, e, step)
                  for s, e in RANGES for step in Step}
    as_of = dt.date(2024, 3, 10)
    totals_on_the_fly, report_on_the_fly = await totals_and_report(db, meter_id, account_id, as_of)

    assert await price(db, meter_id) == (END - START).days - 1  # every reading once
    assert await is_current(db, meter_id, START, END)
    # Month and year to date, the forecast and the report give the same euros from the model.
    assert await totals_and_report(db, meter_id, account_id, as_of) == (totals_on_the_fly, report_on_the_fly)
    march = (await expected_points(db, meter_id, contract, dt.date(2024, 3, 1), as_of + dt.timedelta(days=1),
                                   Step.month))[0]
    assert (totals_on_the_fly["month_wh"], totals_on_the_fly["month_eur"]) == (march["wh"], march["eur"])
    for (s, e, step), body in on_the_fly.items():
        from_model = await served(db, meter_id, account_id, s, e, step)
        assert from_model == body, (s, e, step)
        assert body["points"] == await expected_points(db, meter_id, contract, s, e, step), (s, e, step)
    year = on_the_fly[(START, END, Step.year)]
    assert [p["days_missing"] for p in year["points"]] == [0, 1]  # 7 January 2024
    if option == "BASE":
        assert not year["eur_estimated"]
    else:
        # Days without the DSO's split are estimated, and the method says how.
        assert year["eur_estimated"] and "8 off-peak hours / 24 h" in year["eur_method"]

    # The totals do read the model: a euro more stored on a priced day shows in the month to date.
    async with db.session() as session, session.begin():
        await session.execute(sa.update(priced_days).where(priced_days.c.meter_id == meter_id,
                                                           priced_days.c.day == as_of)
                              .values(eur=priced_days.c.eur + 1))
    totals_from_model, _ = await totals_and_report(db, meter_id, account_id, as_of)
    assert Decimal(totals_from_model["month_eur"]) == Decimal(march["eur"]) + 1
    # So does the series: the contract read with the meter names the pricing the worker priced under.
    next_day = as_of + dt.timedelta(days=1)
    day = (await served(db, meter_id, account_id, as_of, next_day, Step.day))["points"][0]
    expected = (await expected_points(db, meter_id, contract, as_of, next_day, Step.day))[0]
    assert Decimal(day["eur"]) == Decimal(expected["eur"]) + 1


async def test_a_changed_reading_contract_or_catalogue_is_priced_again(db):
    meter_id, account_id = await new_meter(db, "BASE", 6, None, random.Random(7))
    await price(db, meter_id)
    assert await price(db, meter_id) == 0, "nothing new: nothing priced"

    day = dt.date(2024, 2, 29)
    async with db.session() as session, session.begin():
        await session.execute(sa.update(readings).where(readings.c.meter_id == meter_id, readings.c.day == day)
                              .values(wh=50_000))
    assert not await is_current(db, meter_id, START, END)
    points = (await served(db, meter_id, account_id, day, day + dt.timedelta(days=1), Step.day))["points"]
    # 50 kWh × 0.2516 + 151.86 / 366 = 12.58 + 0.414918
    assert points[0]["eur"] == "12.99"
    assert await price(db, meter_id) == 1, "only the changed day"
    assert await is_current(db, meter_id, START, END)
    assert (await served(db, meter_id, account_id, day, day + dt.timedelta(days=1), Step.day))["points"] == points

    async with db.session() as session, session.begin():
        await session.execute(sa.update(contracts).where(contracts.c.meter_id == meter_id).values(subscribed_kva=9))
    assert not await is_current(db, meter_id, START, END), "another contract: another key"
    nine = (await served(db, meter_id, account_id, day, day + dt.timedelta(days=1), Step.day))["points"]
    assert nine[0]["eur"] != "12.99"
    assert await price(db, meter_id) == (END - START).days - 1, "every day again"
    assert (await served(db, meter_id, account_id, day, day + dt.timedelta(days=1), Step.day))["points"] == nine

    versions = dict(catalogues.TARIFFS.versions)
    try:
        catalogues.TARIFFS.versions = {**versions, "electricity": -1}  # as if a new catalogue were in force
        assert not await is_current(db, meter_id, START, END)
    finally:
        catalogues.TARIFFS.versions = versions
    assert await is_current(db, meter_id, START, END)
