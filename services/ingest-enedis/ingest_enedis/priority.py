"""Which meters the hourly quota serves first when it cannot serve every meter each day.

Data Connect allows 1 000 to 10 000 calls an hour for the whole application; a meter already collected costs one
call a day (its newest days), plus the contract now and then (three calls in the 2026 generation). So:
- a meter whose resident looked at it in the last week is due at the next publication, every day; one waiting
  for its turn is due at once when its resident looks at it and the DSO has published days it lacks
  (``repository.mark_seen``);
- the others go after them each morning when an hour of quota cannot serve every meter (``others_delay``);
- when the quota cannot serve every meter each day, the others share what is left, in turn: each is due every
  ``refresh_every_days`` days, so that the day's demand fits the quota instead of a queue growing day after day
  (and their contract is checked less often, ``contract_refresh_days``);
- a meter whose days are all collected gets no window and costs no call (``Collector.plan``), and a first
  collection asks 365 days a call, the API's most (``plan_windows``).
Pure functions of the clock they are given: the scheduler and bench/collection_sim.py run the same code.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from metro.collection import next_publication

SEEN_RECENTLY = dt.timedelta(days=7)
# Share of the quota kept for first collections and retries (the load curve takes only what is left).
QUOTA_RESERVE = 0.05
# The others keep at least this share of the quota, however many active residents there are.
OTHERS_FLOOR = 0.25
MAX_REFRESH_DAYS = 14


@dataclass(frozen=True)
class Demand:
    """Meters under consent, and how many of them were seen by their resident in the last week."""
    meters: int
    seen: int


def calls_per_refresh(contract_calls: int, contract_refresh_days: int) -> float:
    """A collected meter's daily cost: its newest days, and its contract spread over the days between checks."""
    return 1.0 + contract_calls / max(contract_refresh_days, 1)


def refresh_every_days(per_hour: int, demand: Demand, contract_calls: int, contract_days: int) -> float:
    """Every how many days, on average, a meter its resident did not look at is collected, so that the day's
    calls fit: a fraction, drawn as the whole days on either side of it (``next_due``), so no quota is left."""
    budget = per_hour * 24 * (1 - QUOTA_RESERVE)
    others = max(demand.meters - demand.seen, 0)
    if others == 0:
        return 1
    spare = max(budget - demand.seen * calls_per_refresh(contract_calls, contract_days), budget * OTHERS_FLOOR)
    every = 1.0
    # Their contract is checked every `every` × contract_days days: their cost depends on their turn.
    for _ in range(3):
        cost = calls_per_refresh(contract_calls, contract_refresh_days(contract_days, every))
        every = min(float(MAX_REFRESH_DAYS), max(1.0, others * cost / spare))
    return every


def others_delay(per_hour: int, demand: Demand) -> dt.timedelta:
    """How long after the publication the meters not seen lately are due: none when an hour of quota serves every
    meter, else the time the quota takes to serve the active residents' (one call each), so that they come
    first and the quota is never idle waiting for the others."""
    if demand.meters <= per_hour:
        return dt.timedelta(0)
    return dt.timedelta(hours=demand.seen / per_hour)


def seen_recently(seen_at: dt.datetime | None, now: dt.datetime) -> bool:
    return seen_at is not None and now - seen_at <= SEEN_RECENTLY


def next_due(now: dt.datetime, cycle_time: dt.time, seen_at: dt.datetime | None, every_days: float,
             jitter_s: float, rng: random.Random | None = None,
             delay: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
    """The next collection of a meter collected at ``now``: tomorrow's publication for an active resident's;
    ``every_days`` publications later for the others, ``delay`` after it (``others_delay``)."""
    if seen_recently(seen_at, now):
        return next_publication(now, cycle_time, jitter_s=jitter_s, rng=rng)
    rng = rng or random.Random()
    whole = math.floor(every_days)
    days = whole + (1 if rng.random() < every_days - whole else 0)
    first = next_publication(now + dt.timedelta(days=days - 1), cycle_time, jitter_s=jitter_s, rng=rng)
    return first + delay


def contract_refresh_days(base_days: int, every_days: float) -> float:
    """A meter collected every n days checks its contract every n × base days (the contract rarely changes), so
    that its visits are not spent on three contract calls each."""
    return base_days * max(every_days, 1)
