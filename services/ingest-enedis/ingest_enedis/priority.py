"""Which meters the hourly quota serves first when it cannot serve every meter each day.

Data Connect allows 1 000 to 10 000 calls an hour for the whole application; a meter already collected costs one
call a day (its newest days), plus the contract now and then (three calls in the 2026 generation). So:
- a meter whose resident looked at it in the last week is due at the next publication, every day while the quota
  allows; one waiting for its turn when its resident looks at it while the DSO has published days it lacks goes
  onto the active residents' turn, counted from its last collection: due at once if that turn has passed
  (``pulled_due``, ``repository.mark_seen``), never sooner, so that the looks spend the active residents' share
  that ``turns`` planned and not the others';
- the others go after them each morning when an hour of quota cannot serve every meter (``Turns.others_delay``);
- when the quota cannot serve every meter each day, the others share what is left, in turn (``turns``), so that
  the day's demand fits the quota instead of a queue growing day after day (and their contract is checked less
  often, ``contract_refresh_days``); every meter is collected at least every ``Turns.guarantee_days`` days
  (at most 14 while the quota can go round every meter in 14 days): ``latest_due``, what the meter card says;
- a meter whose days are all collected gets no window and costs no call (``Collector.plan``), and a first
  collection asks 365 days a call, the API's most (``plan_windows``).
Pure functions of the clock they are given: the scheduler and bench/collection_sim.py run the same code.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from functools import lru_cache

from metro.collection import next_publication

SEEN_RECENTLY = dt.timedelta(days=7)
# Share of the quota kept for first collections and retries (the load curve takes only what is left), at least.
QUOTA_RESERVE = 0.05
# A first collection: three years of history, 365 days a call (plan_windows), and the contract.
FIRST_WINDOWS = 3
# The others keep at least this share of the quota, however many active residents there are.
OTHERS_FLOOR = 0.25
MAX_REFRESH_DAYS = 14
# The spread of the meters' due times after the publication (cycle_jitter_minutes' default), hours.
MORNING_SPREAD_H = 1.0


@dataclass(frozen=True)
class Demand:
    """Meters under consent, how many of them were seen by their resident in the last week, and how many wait for
    their first collection."""
    meters: int
    seen: int
    first: int = 0


def calls_per_visit(contract_calls: int, every_days: float, contract_days: float) -> float:
    """What a visit every ``every_days`` costs: its newest days, and its share of the contract checked every
    ``contract_days`` (a check every contract_days ÷ every_days visits; at least one day between visits)."""
    return 1.0 + contract_calls * max(every_days, 1.0) / max(contract_days, 1.0)


@dataclass(frozen=True)
class Turns:
    """Every how many days, on average, an active resident's meter and the others' are collected, and how long
    after the publication the others are due (once the quota has served the active residents' first)."""
    active_days: float
    others_days: float
    others_delay: dt.timedelta = dt.timedelta(0)
    # The day's calls at the quota's pace: a meter due at T is collected by T + queue (the meters due before it
    # are at most the day's, and the day's calls fit the quota's day).
    queue: dt.timedelta = dt.timedelta(0)

    @property
    def guarantee_days(self) -> int:
        """The promise: every meter under consent is collected at least every this many days."""
        return math.ceil(max(self.active_days, self.others_days))


def _days(count: int, share: float, contract_calls: int, contract_days: float, per_turn: bool = True) -> float:
    """Every how many days ``count`` meters can be collected on ``share`` calls a day, their contract checked every
    ``contract_days`` (× that turn when ``per_turn``: a check every ``contract_days`` visits): at least 1."""
    if per_turn:
        every = count * (1 + contract_calls / max(contract_days, 1)) / max(share, 1e-9)
    else:  # every = count × calls_per_visit(every) / share, solved for every
        room = share - count * contract_calls / max(contract_days, 1)
        every = count / room if room > 0 else math.inf
    return max(1.0, every)


@lru_cache(maxsize=1024)
def turns(per_hour: int, demand: Demand, contract_calls: int, contract_days: int) -> Turns:
    """The turns that fit the day's calls (95 % of the quota), so that no queue grows day after day and each turn
    holds: the others share what the active residents leave (at least ``OTHERS_FLOOR`` of it), in turns of at most
    ``MAX_REFRESH_DAYS``; when that longest turn needs more, it is taken from the active residents, who then take
    turns too; when the quota cannot go round every meter in that turn, everybody shares it alike. Every meter's
    contract is checked every ``contract_days`` × the others' turn. A fraction of a day is drawn as the whole days
    on either side of it (``next_due``), so no quota is left."""
    # The first collections waiting now stand for the day's (they are due at once, and wait about a day in the
    # queue when the quota is tight): what they take beyond the reserve is not the turns'.
    reserve = max(per_hour * 24 * QUOTA_RESERVE, demand.first * (FIRST_WINDOWS + contract_calls))
    budget = max(per_hour * 24 - reserve, per_hour * 24 * OTHERS_FLOOR)
    seen, others = demand.seen, max(demand.meters - demand.seen, 0)
    spare = max(budget - seen * calls_per_visit(contract_calls, 1, contract_days), budget * OTHERS_FLOOR)
    others_days = min(_days(others, spare, contract_calls, contract_days), float(MAX_REFRESH_DAYS))
    contract_every = contract_refresh_days(contract_days, others_days)
    others_daily = others * calls_per_visit(contract_calls, others_days, contract_every) / others_days
    active_days = _days(seen, budget - others_daily, contract_calls, contract_every, per_turn=False) if seen else 1.0
    if active_days > others_days:
        every = _days(demand.meters, budget, contract_calls, contract_days)
        cost = calls_per_visit(contract_calls, every, contract_refresh_days(contract_days, every))
        return Turns(every, every, queue=_queue(demand.meters * cost / every, budget))
    # The others are due once the quota has served the active residents' calls of the day.
    delay = dt.timedelta(0) if demand.meters <= per_hour else dt.timedelta(hours=seen / active_days / per_hour)
    daily = seen * calls_per_visit(contract_calls, active_days, contract_every) / active_days + others_daily
    return Turns(active_days, others_days, delay, queue=_queue(daily, budget))


def _queue(daily_calls: float, budget: float) -> dt.timedelta:
    """How long the quota takes to serve the day's calls, with the reserve's (first collections, retries) among
    them, and the hour of the morning's spread (the meters due within it go in their order): a day and that hour
    at most, when the turns take the whole budget (1 000 calls/h), not cut to a day, which no queue would keep."""
    return dt.timedelta(hours=24 * daily_calls / budget + MORNING_SPREAD_H)


def seen_recently(seen_at: dt.datetime | None, now: dt.datetime) -> bool:
    return seen_at is not None and now - seen_at <= SEEN_RECENTLY


def next_due(now: dt.datetime, cycle_time: dt.time, seen_at: dt.datetime | None, turn: Turns,
             jitter_s: float, rng: random.Random | None = None) -> dt.datetime:
    """The next collection of a meter collected at ``now``: its turn's publication (tomorrow's for an active
    resident's while the quota serves them daily), ``others_delay`` after it for the others. Never later than
    ``latest_due``: what the meter card promises."""
    active = seen_recently(seen_at, now)
    every = turn.active_days if active else turn.others_days
    rng = rng or random.Random()
    whole = math.floor(every)
    days = whole + (1 if rng.random() < every - whole else 0)
    first = next_publication(now + dt.timedelta(days=days - 1), cycle_time, jitter_s=jitter_s, rng=rng)
    return first if active else first + turn.others_delay


def update_by(due_at: dt.datetime, turn: Turns) -> dt.datetime:
    """When a meter due at ``due_at`` is collected at the latest: once the quota has served the calls due before it
    (``next_update_at`` in ``GET /meters``, the meter card's next update)."""
    return due_at + turn.queue


def _latest_after(collected_at: dt.datetime, days: float, cycle_time: dt.time, jitter_s: float) -> dt.datetime:
    """The latest publication, with its spread, a turn of ``days`` draws after a collection at ``collected_at``."""
    first = next_publication(collected_at + dt.timedelta(days=math.ceil(days) - 1), cycle_time)
    return first + dt.timedelta(seconds=jitter_s)


def latest_due(now: dt.datetime, cycle_time: dt.time, turn: Turns, jitter_s: float) -> dt.datetime:
    """The latest a meter collected at ``now`` is due again under ``turn``: the publication ``guarantee_days``
    after, with its spread and the others' delay."""
    return _latest_after(now, turn.guarantee_days, cycle_time, jitter_s) + turn.others_delay


def pulled_due(at: dt.datetime, collected_at: dt.datetime | None, due_at: dt.datetime, cycle_time: dt.time,
               turn: Turns, jitter_s: float) -> dt.datetime | None:
    """A look at ``at`` on a meter due at ``due_at`` that lacks published days: its resident is active, so it goes
    onto the active residents' turn counted from its last collection (at the latest of that turn's draws), due at
    once if that has passed; None when it is due by then already. Never sooner: a meter looked at every day costs
    no more calls than the active residents' turn ``turns`` planned, so the others' promises hold."""
    due = at if collected_at is None else max(at, _latest_after(collected_at, turn.active_days, cycle_time, jitter_s))
    return due if due < due_at else None


def contract_refresh_days(base_days: int, every_days: float) -> float:
    """A meter collected every n days checks its contract every n × base days (the contract rarely changes), so
    that its visits are not spent on three contract calls each."""
    return base_days * max(every_days, 1)
