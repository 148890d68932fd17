"""Quota-bound Data Connect collection at the Métropole's scale, on a simulated clock: N PRMs (154 000 by default)
over D days (30), newcomers arriving every day, under 5 calls/s and a given hourly quota (10 000 and 1 000).

What runs is the scheduler of ingest-enedis itself, with the clock it is given: `Collector.plan` (which windows
a meter needs, none when its days are all collected), `history_start` (a first collection in whole 365-day
windows), `contract_stale` (the contract's three calls), `due_after` / priority.py (active residents first,
the others in turn so the day's calls fit), `served_ranges` (late days asked again), the TokenBucket's
`reserve` (the pacing every replica shares) and the claim order of `claim_due` (the earliest next_due_at first).
The DSO is the Enedis sandbox's quota window (`QuotaWindow`, sliding second and hour, as the gateway counts)
on the same clock, and its publication rule (D at 08:00 on D+1, some meters' days on D+2). PostgreSQL is left
out (a cursor per meter in memory): it does not change what is asked or when. No wall-clock waiting.

Prints, per quota: the share of meter-days whose yesterday is stored by 10:00, by 18:00, within 2 and 7 days;
the share of the quota used; the 429s (target 0); calls per first collection against the API's lower bound;
and beside it the baseline: the same run with every meter due daily at the cycle (no priorities).

    uv run python -m bench.collection_sim --prms 154000 --days 30
"""
from __future__ import annotations

import argparse
import datetime as dt
import heapq
import math
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from types import SimpleNamespace

from ingest_enedis import priority
from ingest_enedis.app import Settings
from ingest_enedis.dataconnect_calendar import CAPABILITIES, PARIS
from ingest_enedis.service import Collector, contract_calls
from metro.collection.collector import served_ranges
from metro.collection.quota import TokenBucket, reserve
from tests.sandboxes.enedis.state import QuotaWindow

START = dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC)  # 1 November 00:00 Paris
BUCKETS = ("10:00", "18:00", "+2 days", "+7 days")
newest_day = CAPABILITIES.newest_day


class Meter:
    __slots__ = ("collected_at", "contract_checked_at", "due_at", "from_day", "have_end", "hist_start", "i", "promise",
                 "seen_at", "since")

    def __init__(self, i: int, since: dt.datetime):
        self.i = i
        self.have_end: dt.date | None = None
        self.hist_start: dt.date | None = None
        self.contract_checked_at: dt.datetime | None = None
        self.collected_at: dt.datetime | None = None
        self.seen_at: dt.datetime | None = None
        self.since = since
        # The first day measured: the run's first, or the day after its consent.
        self.from_day = max(START.astimezone(PARIS).date(), (since.astimezone(PARIS) + dt.timedelta(days=1)).date())
        self.due_at = since
        self.promise: dt.datetime | None = None  # its next_update_at: what the meter card says


class Dso:
    """The sandbox's publication rule and quota, on the simulated clock."""

    def __init__(self, per_second: int, per_hour: int, late_share: float, rng: random.Random):
        self.t = 0.0
        self.window = QuotaWindow(clock=lambda: self.t)
        self.per_second, self.per_hour = per_second, per_hour
        self.late_share, self.rng = late_share, rng
        self.calls = self.throttled = 0
        self.hour: dt.datetime | None = None
        self.last = START.date()

    def call(self, at: float) -> bool:
        self.t = at
        self.calls += 1
        refused, _ = self.window.admit(self.per_second, self.per_hour)
        if refused:
            self.throttled += 1
        return refused is None

    def published_until(self, meter: Meter, now: dt.datetime) -> dt.date:
        """The last day this meter's data is published at ``now``: D at 08:00 on D+1, D+2 for late ones."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        if hour != self.hour:  # the publication is on the hour: the same for the whole hour
            local = now.astimezone(PARIS)
            self.hour, self.last = hour, local.date() - dt.timedelta(days=1 if local.hour >= 8 else 2)
        last = self.last
        # A late meter-day, the same for every call of that day (a hash of meter and day, uniform on [0, 1[).
        if ((meter.i * 2_654_435_761 + last.toordinal() * 40_503) * 0x9E3779B1 >> 7) % 1_000_003 / 1_000_003 \
                < self.late_share:
            last -= dt.timedelta(days=1)
        return last


class Bucket:
    """The TokenBucket's row, reserved by the real ``reserve`` on the simulated clock."""

    def __init__(self, per_second: float, per_hour: int):
        rate = TokenBucket(None, None, "sim", per_second=per_second, per_hour=per_hour).rate  # type: ignore[arg-type]
        self.row = SimpleNamespace(name="enedis:sim", capacity=1.0, tokens=1.0, rate=rate, updated_at=START,
                                   per_day=None, day_start=None, day_taken=0, hour_start=START, hour_taken=0)

    def take(self, now: dt.datetime) -> float:
        """Seconds to wait before the call."""
        taken = reserve(self.row, now)
        self.row.tokens, self.row.updated_at = taken.tokens, now
        self.row.hour_start, self.row.hour_taken = taken.hour_start, taken.hour_taken
        return taken.wait


class Plans:
    """``Collector.plan``, asked once per distinct input of the hour: it reads ``now`` only as the Paris day and
    the last published day (``plan``'s first lines), which change on the hour (midnight, 08:00 Paris), so the
    answer for the same ranges in the same hour is the same; one answer in CHECK_EVERY is asked again and must
    agree (the simulation stops otherwise)."""
    CHECK_EVERY = 97

    def __init__(self, collector: Collector):
        self.collector = collector
        self.memo: dict = {}
        self.hour: dt.datetime | None = None
        self.asked = self.computed = 0

    def __call__(self, cursor, contract: dict, have: list, now: dt.datetime):
        hour = now.replace(minute=0, second=0, microsecond=0)
        if hour != self.hour:
            self.memo.clear()
            self.hour = hour
        key = tuple(have)
        self.asked += 1
        hit = self.memo.get(key)
        if hit is None or self.asked % self.CHECK_EVERY == 0:
            fresh = self.collector.plan(cursor, contract, have, [], now)
            self.computed += 1
            if hit is not None and fresh != hit:
                raise AssertionError(f"Collector.plan reads more of now than the day: {hit} != {fresh} at {now}")
            self.memo[key] = hit = fresh
        return hit


def simulate(args: argparse.Namespace, per_hour: int, prioritised: bool) -> dict:
    rng = random.Random(args.seed)
    settings = Settings(quota_per_hour=per_hour, quota_per_second=args.per_second)
    now = START
    collector = Collector(SimpleNamespace(settings=settings), None, None, "sim", rng=random.Random(args.seed),
                          clock=lambda: now)
    dso = Dso(int(args.per_second), per_hour, args.late_share, random.Random(args.seed))
    plans = Plans(collector)
    served_memo: dict = {}
    bucket = Bucket(args.per_second, per_hour)
    end = START + dt.timedelta(days=args.days)
    meters: list[Meter] = []
    due: list[tuple[dt.datetime, int]] = []
    # Who looks at their meters: the engaged share of residents, each one day in three (a visit counts a week).
    engaged = int(args.prms * args.active_share)
    # The meters already collected up to yesterday when the run starts, as in the scheduler's steady state: the
    # engaged residents' looks of the last week stamped, each meter's turn (the active residents' or the others')
    # spread over its interval from the first morning it lacks a day (the others' delay after the publication
    # included), its contract checked over the interval
    # of checks (contract_refresh_days × the others' turn) before its last collection.
    turn0 = collector.turns(priority.Demand(args.prms, int(engaged * (1 - (2 / 3) ** 7)))) if prioritised \
        else priority.Turns(1, 1)
    for i in range(args.prms):
        m = Meter(i, START - dt.timedelta(days=400))
        m.have_end = START.astimezone(PARIS).date() - dt.timedelta(days=1)
        m.hist_start = m.have_end - dt.timedelta(days=3 * 365)
        looked = [back for back in range(1, 8) if i < engaged and rng.random() < 1 / 3]
        if looked:
            m.seen_at = START - dt.timedelta(days=looked[0], seconds=-rng.uniform(6 * 3600, 22 * 3600))
        meters.append(m)
        every = turn0.active_days if m.seen_at is not None else turn0.others_days
        m.due_at = collector.next_cycle(START + dt.timedelta(days=1 + int(rng.uniform(0, every))))
        m.due_at += turn0.others_delay if m.seen_at is None else dt.timedelta(0)
        m.collected_at = m.due_at - dt.timedelta(days=every)
        m.contract_checked_at = m.collected_at - dt.timedelta(days=rng.uniform(0, priority.contract_refresh_days(
            settings.contract_refresh_days, turn0.others_days)))
        heapq.heappush(due, (m.due_at, i))
    arrivals = sorted(START + dt.timedelta(seconds=rng.uniform(0, args.days * 86400))
                      for _ in range(args.newcomers_per_day * args.days))
    first_day = START.astimezone(PARIS).date()
    last_day = (end - dt.timedelta(days=8)).astimezone(PARIS).date()
    limits = list(zip(BUCKETS, (dt.timedelta(hours=10), dt.timedelta(hours=18), dt.timedelta(days=2),
                                dt.timedelta(days=7))))
    latencies: Counter = Counter()
    active_latencies: Counter = Counter()

    # Each measured day's deadlines (D+1 00:00 Paris + each limit), computed once.
    deadlines: dict[dt.date, list[tuple[str, dt.datetime]]] = {}
    day = first_day
    while day <= last_day:
        base = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS)
        deadlines[day] = [(name, base + limit) for name, limit in limits]
        day += dt.timedelta(days=1)

    def stored(m: Meter, a: dt.date, b: dt.date, at: dt.datetime) -> None:
        """Days a..b (inclusive) of m stored at ``at``: each one's delay against D+1 10:00, 18:00, D+2, D+7."""
        d = max(a, m.from_day)
        while d <= min(b, last_day):
            for name, deadline in deadlines[d]:
                if at <= deadline:
                    latencies[name] += 1
                    if m.i < engaged:
                        active_latencies[name] += 1
            d += dt.timedelta(days=1)
    meter_days = 0
    skipped = visits = late_turns = 0
    latest = dt.timedelta(0)
    first_calls: list[int] = []
    next_visit_day = START
    looks: list[tuple[dt.datetime, int]] = []
    wall, cpu = time.perf_counter(), time.process_time()

    waiting_first = [0]  # newcomers not collected yet (the scheduler counts them with the demand)

    def count_demand(at: dt.datetime) -> priority.Demand:
        seen = sum(1 for m in meters if priority.seen_recently(m.seen_at, at))
        return priority.Demand(len(meters), seen, waiting_first[0])

    while now < end:
        # The day's looks of the engaged residents (one day in three, between 07:00 and 23:00), and the count of
        # meters and active residents (the scheduler counts it every DEMAND_TTL; it moves by the day).
        while next_visit_day <= now:
            for i in range(engaged):
                if rng.random() < 1 / 3:
                    heapq.heappush(looks, (next_visit_day + dt.timedelta(seconds=rng.uniform(6 * 3600, 22 * 3600)), i))
            collector._demand = (now, count_demand(now) if prioritised else priority.Demand(0, 0))
            next_visit_day += dt.timedelta(days=1)
        # A look stamps the meter; with the priorities, one waiting for its turn and lacking published days goes
        # onto the active residents' turn, due at once if that has passed (repository.mark_seen, pulled_due).
        while looks and looks[0][0] <= now:
            at, i = heapq.heappop(looks)
            m = meters[i]
            m.seen_at = at
            if prioritised and m.due_at > at and m.have_end is not None and m.have_end < newest_day(at):
                pulled = collector.pulled_due(at, m.collected_at, m.due_at, collector._demand[1])
                if pulled is not None:
                    m.due_at = pulled
                    m.promise = collector.update_by(pulled, collector._demand[1])
                    heapq.heappush(due, (pulled, i))
        # The newcomers' consents, due at once (as upsert_cursor sets).
        while arrivals and arrivals[0] <= now:
            m = Meter(len(meters), arrivals.pop(0))
            meters.append(m)
            if prioritised:
                waiting_first[0] += 1
                collector._demand = (now, priority.Demand(len(meters), collector._demand[1].seen, waiting_first[0]))
            heapq.heappush(due, (m.since, m.i))
        if not due or due[0][0] > now:
            nxt = min(due[0][0] if due else end, arrivals[0] if arrivals else end, next_visit_day,
                      looks[0][0] if looks else end)
            now = max(nxt, now + dt.timedelta(seconds=1))
            continue
        at, i = heapq.heappop(due)
        m = meters[i]
        if at != m.due_at:
            continue  # pulled forward by a look since
        visits += 1
        if m.promise is not None and now > m.promise:
            late_turns += 1
            latest = max(latest, now - m.promise)
        cursor = SimpleNamespace(meter_id=i, history_from=None, contract_checked_at=m.contract_checked_at)
        calls = 0

        def one_call() -> None:
            nonlocal now, calls
            wait = bucket.take(now)
            now += dt.timedelta(seconds=max(wait, 0.0))
            dso.call((now - START).total_seconds())
            calls += 1

        contract = {"activation_date": "2010-05-04"}
        if m.contract_checked_at is None or collector.contract_stale(cursor, now):
            for _ in range(contract_calls(settings.api_generation)):
                one_call()
            m.contract_checked_at = now
        have = [] if m.have_end is None else [(m.hist_start, m.have_end + dt.timedelta(days=1))]
        windows, _known, late_from = plans(cursor, contract, have, now)
        if not windows:
            skipped += 1
        first = m.have_end is None
        for window in reversed(windows):
            one_call()
            last = min(window[1] - dt.timedelta(days=1), dso.published_until(m, now))
            key = (window, last if last >= window[0] else None, late_from)
            served = served_memo.get(key)
            if served is None:  # a pure function of its arguments: asked once for each
                served = served_memo[key] = served_ranges(window, [], key[1], late_from)
            for a, b in served:
                b_last = b - dt.timedelta(days=1)
                if m.have_end is None:
                    m.hist_start, m.have_end = a, b_last
                    stored(m, a, b_last, now)
                elif b_last > m.have_end:
                    stored(m, m.have_end + dt.timedelta(days=1), b_last, now)
                    m.have_end = b_last
                else:
                    m.hist_start = min(m.hist_start, a)
        m.collected_at = now
        if first:
            first_calls.append(calls)
            waiting_first[0] -= m.have_end is not None
        if prioritised:
            m.due_at = collector.due_after(now, m.seen_at, collector._demand[1])
            m.promise = collector.update_by(m.due_at, collector._demand[1])
        else:
            m.due_at = collector.next_cycle(now)
        heapq.heappush(due, (m.due_at, i))

    # The meter-days measured: from the run's first day (or the day after a newcomer's consent) to a week before
    # its end, so that +7 days is observed for each.
    active_days = 0
    for m in meters:
        since = max(first_day, (m.since.astimezone(PARIS) + dt.timedelta(days=1)).date())
        meter_days += max(0, (last_day - since).days + 1)
        if m.i < engaged:
            active_days += max(0, (last_day - since).days + 1)
    hours = (end - START).total_seconds() / 3600
    return {"per_hour": per_hour, "prioritised": prioritised, "meters_end": len(meters),
            "shares": {b: latencies[b] / max(meter_days, 1) for b in BUCKETS},
            "active_shares": {b: active_latencies[b] / max(active_days, 1) for b in BUCKETS}, "calls": dso.calls,
            "quota_used": dso.calls / (per_hour * hours), "throttled": dso.throttled, "visits": visits,
            "skipped": skipped, "first_calls": (sum(first_calls) / len(first_calls)) if first_calls else 0.0,
            "first_collections": len(first_calls), "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "turns": collector.turns(count_demand(end)) if prioritised else priority.Turns(1, 1),
            "late_turns": late_turns, "latest_h": latest.total_seconds() / 3600, "plans": plans.computed}


def report(r: dict, label: str) -> None:
    shares = "  ".join(f"{b}: {r['shares'][b]:6.1%}" for b in BUCKETS)
    active = "  ".join(f"{b}: {r['active_shares'][b]:6.1%}" for b in BUCKETS)
    turn = r["turns"]
    print(f"  {label:<22} all meters        {shares}")
    print(f"  {'':<22} active residents  {active}")
    print(f"  {'':<22} quota used: {r['quota_used']:5.1%}  429: {r['throttled']}  calls: {r['calls']}  "
          f"visits without a call (already fresh): {r['skipped']}", flush=True)
    if r["prioritised"]:
        print(f"  {'':<22} turns: active residents every {turn.active_days:.1f} d, the others every "
              f"{turn.others_days:.1f} d, each meter at least every {turn.guarantee_days} d; collections later than "
              f"promised (next_update_at): {r['late_turns']} of {r['visits']} (latest by {r['latest_h']:.1f} h)")
    print(f"  {'':<22} simulated in {r['wall_s']:.0f} s, {r['cpu_s']:.0f} s of CPU ({r['plans']} plans computed)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prms", type=int, default=154_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-hour", type=int, nargs="+", default=[10_000, 1_000])
    parser.add_argument("--per-second", type=float, default=5.0)
    parser.add_argument("--newcomers-per-day", type=int, default=300)
    parser.add_argument("--active-share", type=float, default=0.2,
                        help="share of residents who look at their meters in a given week")
    parser.add_argument("--late-share", type=float, default=0.03, help="meter-days Enedis publishes on D+2")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--jobs", type=int, default=2, help="runs simulated at once, one process each")
    args = parser.parse_args()
    lower = math.ceil(3 * 365 / 365) + contract_calls("2026")
    print(f"{args.prms} PRMs, {args.days} simulated days, {args.newcomers_per_day} newcomers a day, "
          f"{args.active_share:.0%} of residents active in a week, {args.late_share:.0%} of days published D+2")
    print("share of meter-days whose yesterday is stored by D+1 10:00, 18:00, within 2 and 7 days:", flush=True)
    runs = [(per_hour, prioritised) for per_hour in args.per_hour for prioritised in (True, False)
            if prioritised or not args.no_baseline]
    # Each run on its own process (the runs share nothing): the report keeps their order.
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = [pool.submit(simulate, args, per_hour, prioritised) if args.jobs > 1 else None
                   for per_hour, prioritised in runs]
        for (per_hour, prioritised), result in zip(runs, results):
            r = result.result() if result else simulate(args, per_hour, prioritised)
            if prioritised:
                print(f"{per_hour} calls/h, {args.per_second:g} calls/s:")
                report(r, "scheduler (priorities)")
                print(f"  first collections: {r['first_collections']}, {r['first_calls']:.2f} calls each "
                      f"(API lower bound: {lower} = 3 windows of 365 days + 3 contract calls)")
            else:
                report(r, "baseline (all daily)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
