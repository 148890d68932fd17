"""Priorities of the Data Connect collection under its hourly quota (issue 24): a first collection in as few
calls as the API allows, residents active in the last week first, a meter already fresh not asked."""
from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

from ingest_enedis import priority
from ingest_enedis.app import Settings
from ingest_enedis.service import Collector

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=UTC)  # 10:00 Paris, after the day's publication
METROPOLE = priority.Demand(meters=154_000, seen=30_000)


def fits(turn: priority.Turns, demand: priority.Demand, per_hour: int) -> bool:
    """The day's calls of these turns (the contract checked every 7 × the others' turn) within 95 % of the quota."""
    def daily(meters: int, every: float) -> float:
        return meters * priority.calls_per_visit(3, every, 7 * turn.others_days) / every
    return daily(demand.seen, turn.active_days) + daily(demand.meters - demand.seen, turn.others_days) \
        <= 0.95 * per_hour * 24 * 1.001


def collector(per_hour: int) -> Collector:
    settings = Settings(quota_per_hour=per_hour, cycle_jitter_minutes=0)
    return Collector(SimpleNamespace(settings=settings), None, None, "test", rng=random.Random(1))


def cursor(checked_at=None):
    return SimpleNamespace(meter_id=1, history_from=None, contract_checked_at=checked_at)


def test_at_10000_calls_an_hour_every_meter_is_collected_each_morning():
    c = collector(10_000)
    assert c.turns(METROPOLE).others_days == 1
    tomorrow = dt.datetime(2026, 11, 29, 7, 30, tzinfo=UTC)  # 08:30 Paris
    assert c.due_after(NOW, NOW - dt.timedelta(days=1), METROPOLE) == tomorrow
    # An hour of quota cannot serve 154 000 meters: the residents who looked at theirs this week go first.
    # (the others are due once the quota has had the time to serve them: 30 000 calls at 10 000 an hour).
    assert c.due_after(NOW, None, METROPOLE) == tomorrow + dt.timedelta(hours=3)
    # A few thousand meters: nobody waits behind anybody.
    assert c.due_after(NOW, None, priority.Demand(5_000, 1_000)) == tomorrow


def test_at_1000_calls_an_hour_active_residents_come_first_and_the_others_take_turns():
    c = collector(1_000)
    demand = priority.Demand(meters=154_000, seen=5_000)
    every = c.turns(demand).others_days
    # 24 000 calls a day for 154 000 meters: the others wait their turn, a bounded number of days.
    assert 2 <= every <= priority.MAX_REFRESH_DAYS
    seen_yesterday = NOW - dt.timedelta(days=1)
    active = c.due_after(NOW, seen_yesterday, demand)
    assert active == dt.datetime(2026, 11, 29, 7, 30, tzinfo=UTC)
    # Their turn comes every `every` days on average: the whole days on either side of it.
    base = dt.datetime(2026, 11, 28, 7, 30, tzinfo=UTC) + dt.timedelta(hours=5)
    turns = {(c.due_after(NOW, None, demand) - base).days for _ in range(200)}
    assert turns == {int(every), int(every) + 1}, (every, turns)
    # A visit older than a week no longer counts.
    assert (c.due_after(NOW, NOW - dt.timedelta(days=8), demand) - base).days in turns
    # The day's demand then fits the quota's day: the active residents' days and contracts, the others' turn.
    daily = demand.seen * priority.calls_per_visit(3, 1, 7) + \
        (demand.meters - demand.seen) * priority.calls_per_visit(3, every, 7 * every) / every
    assert 0.9 * 1_000 * 24 <= daily <= 1_000 * 24
    # A contract check every 7 turns: three calls every 98 days for a meter served every 14 (not every 14 × 98).
    assert priority.calls_per_visit(3, 14, 7 * 14) == 1 + 3 / 7
    # Too many active residents for the quota to serve daily (30 000 of 24 000 calls a day): the others keep
    # their longest turn, 14 days, and the active residents take turns on what is left (every 3 to 4 days), so
    # that the day's calls still fit and every meter's turn holds.
    turn = c.turns(METROPOLE)
    assert turn.others_days == priority.MAX_REFRESH_DAYS
    assert 3 <= turn.active_days <= 4 and turn.guarantee_days == priority.MAX_REFRESH_DAYS
    assert fits(turn, METROPOLE, 1_000)


def test_a_meter_served_every_few_days_checks_its_contract_less_often():
    c = collector(1_000)
    c._demand = (NOW, METROPOLE)
    every = c.turns(METROPOLE).others_days
    assert c.contract_stale(cursor(NOW - dt.timedelta(days=8)), NOW) is False
    assert c.contract_stale(cursor(NOW - dt.timedelta(days=7 * every + 1)), NOW) is True
    # Without quota pressure the weekly check stays.
    c._demand = (NOW, priority.Demand(1_000, 0))
    assert c.contract_stale(cursor(NOW - dt.timedelta(days=8)), NOW) is True


def test_a_first_collection_takes_three_calls_of_365_days_and_a_fresh_meter_none():
    c = collector(10_000)
    contract = {"activation_date": "2010-05-04"}
    windows, known, _ = c.plan(cursor(), contract, [], [], NOW)
    assert len(windows) == 3 and known == []
    assert all((b - a).days <= 365 for a, b in windows)
    yesterday = dt.date(2026, 11, 27)
    assert windows[-1][1] == yesterday + dt.timedelta(days=1)
    # Already collected up to yesterday: nothing to ask, no call.
    have = [(windows[0][0], yesterday + dt.timedelta(days=1))]
    assert c.plan(cursor(), contract, have, [], NOW)[0] == []
    # One day behind: one call for it.
    have = [(windows[0][0], yesterday)]
    assert c.plan(cursor(), contract, have, [], NOW)[0] == [(yesterday, yesterday + dt.timedelta(days=1))]


def test_every_meter_is_due_again_within_its_promised_turn_whatever_the_quota():
    """The promise the meter card makes (``latest_due``, ``update_by``: ``next_update_at``) against the rule the
    scheduler plays (``due_after``): a meter is never due later than promised, and the turns fit the quota."""
    for per_hour in (1_000, 10_000):
        c = collector(per_hour)
        c.settings.cycle_jitter_minutes = 60
        for demand in (METROPOLE, priority.Demand(154_000, 5_000), priority.Demand(5_000, 1_000),
                       priority.Demand(154_000, 0), priority.Demand(154_000, 154_000),
                       priority.Demand(1_000_000, 100_000)):
            turn = c.turns(demand)
            latest = c.latest_due(NOW, demand)
            for seen_at in (NOW - dt.timedelta(days=1), None):
                for _ in range(300):
                    due = c.due_after(NOW, seen_at, demand)
                    assert NOW < due <= latest, (per_hour, demand, turn, due, latest)
                    assert due <= c.update_by(due, demand) <= due + dt.timedelta(days=1, hours=1)
            assert latest - NOW <= dt.timedelta(days=turn.guarantee_days + 1)
            if demand.meters <= 14 * per_hour * 24 * 0.9:  # the quota goes round every meter in 14 days
                assert turn.guarantee_days <= priority.MAX_REFRESH_DAYS, (per_hour, demand, turn)
                assert fits(turn, demand, per_hour), (per_hour, demand, turn)


def test_the_simulated_scheduler_collects_every_meter_by_its_next_update_at():
    """bench/collection_sim.py, small: the real scheduler's decisions on a simulated clock against the sandbox's
    quota window; each collection comes no later than the next_update_at the meter card showed, with no 429."""
    from bench.collection_sim import simulate
    args = SimpleNamespace(prms=1_000, days=6, per_second=5.0, newcomers_per_day=2, active_share=0.2,
                           late_share=0.03, seed=7)
    r = simulate(args, 65, prioritised=True)  # ≡ 10 000 calls/h for 154 000 meters
    assert r["throttled"] == 0 and r["visits"] > 4_500  # every meter daily from the second day
    assert r["late_turns"] == 0, (r["late_turns"], r["latest_h"], r["turns"])


def test_a_look_puts_a_waiting_meter_on_the_active_residents_turn_never_sooner():
    """A look makes a meter waiting for the others' turn due on the active residents' turn, counted from its last
    collection: at once if that has passed; a meter collected on that turn is not brought forward by its resident's
    daily looks, so the looks spend the active residents' share that ``turns`` planned, not the others'."""
    c = collector(1_000)
    c.settings.cycle_jitter_minutes = 60
    assert 3 <= c.turns(METROPOLE).active_days <= 4
    others_turn = NOW + dt.timedelta(days=9)
    # Collected 5 days ago, waiting for the others' turn: due now.
    assert c.pulled_due(NOW, NOW - dt.timedelta(days=5), others_turn, METROPOLE) == NOW
    # Collected yesterday: due at the latest of the active residents' turn from then (the publication 4 days
    # after, 08:30 Paris, and its hour of spread), not now.
    yesterday = NOW - dt.timedelta(days=1)
    assert c.pulled_due(NOW, yesterday, others_turn, METROPOLE) == dt.datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    # Already on that turn: unchanged, however often its resident looks.
    for _ in range(100):
        due = c.due_after(yesterday, yesterday, METROPOLE)
        assert c.pulled_due(NOW, yesterday, due, METROPOLE) is None
    # At 10 000 calls/h every turn is a day: a look after the publication makes a meter lacking it due now.
    assert collector(10_000).pulled_due(NOW, yesterday, others_turn, METROPOLE) == NOW


def test_at_1000_calls_an_hour_every_collection_comes_by_its_next_update_at():
    """bench/collection_sim.py at ≡ 1 000 calls/h (the quota taken whole by the turns, the looks bringing waiting
    meters forward, the contracts checked): every collection still comes by the next_update_at the meter card
    showed (4 543 of 20 196 came later when a look made a meter due now beyond the day's plan). No newcomers: their
    first collections beyond the reserve are not in the plan yet (docs/scale.md)."""
    from bench.collection_sim import simulate
    args = SimpleNamespace(prms=15_400, days=12, per_second=5.0, newcomers_per_day=0, active_share=0.2,
                           late_share=0.03, seed=7)
    r = simulate(args, 100, prioritised=True)  # ≡ 1 000 calls/h for 154 000 meters
    assert r["throttled"] == 0 and r["quota_used"] > 0.8  # the first day idle: every meter had its yesterday
    assert r["late_turns"] == 0, (r["late_turns"], r["latest_h"], r["turns"])


def test_first_collections_waiting_beyond_the_reserve_come_out_of_the_turns():
    """Newcomers are due at once and wait in the same queue: their calls beyond the reserve (5 % of the quota)
    lengthen the turns rather than push every promise back."""
    c = collector(1_000)
    quiet = c.turns(METROPOLE)
    # 100 first collections of 6 calls: within the reserve's 1 200 calls a day.
    assert c.turns(priority.Demand(154_000, 30_000, first=100)) == quiet
    # 600 of them: 3 600 calls, 2 400 beyond it.
    busy = c.turns(priority.Demand(154_000, 30_000, first=600))
    assert busy.others_days == quiet.others_days and busy.active_days > quiet.active_days
    assert busy.queue <= dt.timedelta(days=1, hours=1)
