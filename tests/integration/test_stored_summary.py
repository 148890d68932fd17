"""Issue 24 item 2: the resident's summary is served from a stored summary per meter. The pricing worker computes it
again when it prices the meter's new days, and a stored summary the meter has moved past (new readings waiting for
the worker, or a version computed from a snapshot since priced past) is never served: the figures are those the
day-by-day computation gives."""
from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import sqlalchemy as sa
from consumption import repository, summary, totals, worker
from consumption.models import meter_summaries, readings

from tests.integration.test_rollups import add_home, days


async def stored(db, meter_id):
    async with db.session() as session:
        return (await session.execute(sa.select(meter_summaries).where(meter_summaries.c.meter_id == meter_id))).first()


async def test_the_stored_summary_is_computed_again_when_new_days_are_priced(db):
    rt = SimpleNamespace(db=db)
    while await worker.price_pending(rt):  # what earlier tests left queued in the shared database is priced first
        pass
    rng = random.Random(11)
    as_of = dt.date(2025, 10, 17)
    values = {d: rng.randrange(4_000, 20_000) for d in days(dt.date(2024, 9, 1), as_of + dt.timedelta(days=1))}
    async with db.session() as session, session.begin():
        meter_id, account_id = await add_home(session, "electricity", None, values, contract=("BASE", 6))
        await repository.queue_pricing(session, [meter_id])
    assert await worker.price_pending(rt) == 1

    async def shown() -> tuple[dict, dict]:
        """The summary as a request serves it (and commits what it stored), and the day-by-day figures."""
        async with db.session() as session, session.begin():
            [meter] = (await summary.summary(session, account_id))["meters"]
            day_by_day = totals.to_date(await totals.load_meter_year(
                session, await repository.meter_info(session, meter_id))).model_dump()
        return meter, day_by_day

    first, expected = await shown()
    assert first["totals"] == expected and first["totals"]["as_of"] == as_of
    row = await stored(db, meter_id)
    assert row is not None and summary.stored_entry(SimpleNamespace(meter_id=meter_id), row.body)["totals"] == expected
    assert [p["wh"] for p in first["last_7_days"]["points"]][-1] == values[as_of]
    again, _ = await shown()
    # Served from the stored summary: the same figures, computed when it was stored.
    assert again["computed_at"] == row.computed_at
    assert {k: v for k, v in again.items() if k != "computed_at"} == {k: v for k, v in first.items() if k != "computed_at"}

    # The next day arrives (as readings.collected writes it): until the worker prices it, the stored summary is not
    # served, the new day is read live.
    new_day = as_of + dt.timedelta(days=1)
    async with db.session() as session, session.begin():
        await session.execute(sa.insert(readings).values(meter_id=meter_id, day=new_day, wh=55_555, source="test"))
        await repository.queue_pricing(session, [meter_id], since={meter_id: new_day})
    waiting, expected = await shown()
    assert waiting["totals"] == expected and waiting["totals"]["as_of"] == new_day

    # The worker prices the day and computes the stored summary again, in its transaction: before any request.
    before = await stored(db, meter_id)
    assert await worker.price_pending(rt) == 1
    after = await stored(db, meter_id)
    assert after.priced_version > before.priced_version and after.computed_at > before.computed_at
    body = summary.orjson.loads(after.body)
    assert body["totals"]["as_of"] == new_day.isoformat() and body["last_7_days"]["points"][-1]["wh"] == 55_555
    served, expected = await shown()
    assert served["totals"] == expected and served["totals"]["month_wh"] == first["totals"]["month_wh"] + 55_555
    assert served["computed_at"] == after.computed_at  # the answer says when the worker computed it
    assert served["totals"]["eur_method"] and served["totals"]["month_eur"] != first["totals"]["month_eur"]

    # A summary computed from a snapshot the worker has since priced past is not stored over the current one.
    async with db.session() as session, session.begin():
        await repository.store_summary(session, meter_id, before.priced_version, after.degree_days, before.body)
    assert (await stored(db, meter_id)).body == after.body
