"""Issue 17: ADICT answers kept by ingest-grdf, read again by its current parser and published through its
outbox by ``python -m ingest_grdf replay`` (the shared ``metro.collection.replay``): later answers win, what is
past its retention or belongs to an erased meter is not replayed, a range narrows the days, and a second run
publishes exactly the same readings."""
from __future__ import annotations

import argparse
import datetime as dt
import uuid
import zlib
from pathlib import Path

import orjson
import sqlalchemy as sa

from ingest_grdf import models, service
from metro.collection import ReplayScope, add_replay_arguments, replay_raw
from metro.db import Database
from metro.migrations import upgrade_async
from metro.outbox import Outbox

D = dt.date
PCE_A, PCE_C = "GI000001", "GI000003"


def line(day: dt.date, kwh: float, status: str = "Définitive", pce: str = PCE_A) -> dict:
    return {"pce": {"id_pce": pce}, "statut_restitution": None, "consommation": {
        "journee_gaziere": day.isoformat(), "energie": kwh, "volume_brut": kwh / 11, "type_qualif_conso": "Mesuré",
        "statut_conso": status, "coeff_calcul": {"coeff_conversion": 11.0}}}


def days(first: dt.date, n: int, kwh: float, status: str = "Définitive", pce: str = PCE_A) -> list[dict]:
    return [line(first + dt.timedelta(days=i), kwh + i, status, pce) for i in range(n)]


def scope(*argv: str) -> ReplayScope:
    p = argparse.ArgumentParser()
    add_replay_arguments(p, identifier="PCE")
    return ReplayScope.from_args(p.parse_args(list(argv)))


async def test_grdf_replay_publishes_the_kept_answers_as_the_current_parser_reads_them(database_url):
    await upgrade_async(Path(service.__file__).parent, database_url)
    db = Database(database_url, pool_size=2)
    a, erased, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = dt.datetime.now(dt.UTC)

    async def keep(meter, body, period, retain_days=90):
        await session.execute(sa.insert(models.raw_payloads).values(
            meter_id=meter, kind=service.RAW_KIND, period_start=period[0], period_end=period[1],
            retain_until=now + dt.timedelta(days=retain_days), body=zlib.compress(orjson.dumps(body))))

    async with db.session() as session, session.begin():
        for meter, pce in ((a, PCE_A), (c, PCE_C)):
            await session.execute(sa.insert(models.cursors).values(
                meter_id=meter, consent_id=uuid.uuid4(), identifier=pce, active=meter == a))
        jan, feb, mar = D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1)
        # January as first answered (provisional), then answered again for its second half.
        await keep(a, [{"code_statut_traitement": "0000000000"}, *days(jan, 31, 100.0, "Provisoire")],
                   (jan, feb))
        await keep(a, days(D(2025, 1, 16), 16, 500.0), (D(2025, 1, 16), feb))
        # One line that GRDF asked to retry, among good ones: the good ones count.
        await keep(a, [*days(feb, 3, 200.0), {"pce": {"id_pce": PCE_A}, "statut_restitution": {
            "code": "2000100", "message": "Veuillez renouveler la période mentionnée ci-dessus"}},
            *days(D(2025, 2, 5), 2, 300.0)], (feb, D(2025, 2, 7)))
        # Out of its retention though not purged yet, and one the current parser refuses.
        await keep(a, days(mar, 5, 900.0), (mar, D(2025, 3, 6)), retain_days=-1)
        await keep(a, [{"consommation": {"energie": 1.0}}], (D(2025, 4, 1), D(2025, 4, 2)))
        # A meter erased here (its cursor gone) and a meter whose consent ended (history kept, replayable).
        await keep(erased, days(jan, 10, 50.0), (jan, D(2025, 1, 11)))
        await keep(c, days(jan, 2, 70.0, pce=PCE_C), (jan, D(2025, 1, 3)))
        await session.execute(sa.delete(models.outbox))

    async def run(s: ReplayScope):
        counts = await replay_raw(db, service.repository.store, Outbox(models.outbox, "ingest_grdf"),
                                  kind=service.RAW_KIND, source=service.SOURCE, parse=service.replay_parse, scope=s)
        async with db.session() as session:
            rows = (await session.execute(sa.select(models.outbox.c.name, models.outbox.c.payload)
                                          .order_by(models.outbox.c.seq))).all()
            await session.execute(sa.delete(models.outbox))
            await session.commit()
        return counts, rows

    try:
        counts, rows = await run(scope())
        assert counts.view() == {"meters": 2, "payloads": 5, "days": 31 + 5 + 2, "events": 2, "unreadable": 1}
        by_meter = {r.payload["meter_id"]: r.payload for r in rows}
        assert set(by_meter) == {str(a), str(c)}, "the erased meter's payload is not replayed"
        assert {r.name for r in rows} == {"readings.collected"} and by_meter[str(a)]["source"] == "grdf.adict"
        got = {day: wh for day, wh, *_ in by_meter[str(a)]["readings"]}
        want = {(jan + dt.timedelta(days=i)).isoformat(): int((100.0 + i) * 1000) for i in range(15)}
        want |= {D(2025, 1, 16 + i).isoformat(): int((500.0 + i) * 1000) for i in range(16)}
        want |= {D(2025, 2, 1 + i).isoformat(): int((200.0 + i) * 1000) for i in range(3)}
        want |= {D(2025, 2, 5 + i).isoformat(): int((300.0 + i) * 1000) for i in range(2)}
        assert got == want, "later answers win, the retry line is skipped, March is past its retention"
        extra = by_meter[str(a)]["readings"][0][3]
        assert extra == {"volume_m3": 100.0 / 11, "conversion_coefficient": 11.0}

        again, rows_again = await run(scope())
        assert again == counts
        assert [r.payload for r in rows_again] == [r.payload for r in rows], "a second replay says the same"

        narrowed, rows = await run(scope("--pce", PCE_A, "--from", "2025-01-30", "--to", "2025-02-02"))
        assert narrowed.view() == {"meters": 1, "payloads": 3, "days": 4, "events": 1, "unreadable": 0}
        assert [d for d, *_ in rows[0].payload["readings"]] == ["2025-01-30", "2025-01-31", "2025-02-01",
                                                               "2025-02-02"]
        by_id, rows = await run(scope("--meter", str(c)))
        assert [r.payload["meter_id"] for r in rows] == [str(c)]
        nobody, rows = await run(scope("--meter", str(erased)))
        assert (nobody.meters, rows) == (0, [])
    finally:
        await db.dispose()
