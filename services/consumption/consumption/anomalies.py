"""Days and weeks well above the home's own baseline, grouped into episodes.

Baseline of a day d: the median of the same weekday over the previous `weeks` weeks (d−7, d−14, …), at
least `min_history` of them with a reading. A day is anomalous when
    wh ≥ expected × ratio   and   wh − expected ≥ floor_wh.

Weather normalisation (when daily degree days are given, for a home heated with the metered energy):
the home's heating slope b (Wh per degree day) is fitted by least squares of wh on DJ over the previous
`weeks` × 7 days (clamped at ≥ 0; 0 when the window's degree days span less than 1 DJ), and every
reference day is moved to today's weather before taking the median: ref + b × (DJ_today − DJ_ref).
A cold snap then raises the expectation instead of raising an alert. A day without degree days is
compared unnormalised.

Episodes: a run of consecutive anomalous days is one episode (a missing day ends the run). A week
(Monday–Sunday, all 7 days present) whose total is ≥ expected × week_ratio and ≥ expected + week_floor_wh
is a week episode, unless one of its days already belongs to a day episode; consecutive anomalous weeks
merge. `Episode.key` (kind + start day) is stable while an ongoing episode grows, so the caller publishes
one event per key. The function is pure and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import Iterable, Mapping

DEFAULT_RATIO = 1.5
DEFAULT_FLOOR_WH = 2_000
DEFAULT_WEEKS = 6
MIN_HISTORY = 3
DEFAULT_WEEK_RATIO = 1.3
DEFAULT_WEEK_FLOOR_WH = 7_000
# Below this spread of degree days in the window the heating slope is not identifiable: assume none.
MIN_DJ_SPREAD = 1.0


@dataclass(frozen=True)
class Episode:
    kind: str  # "day" or "week"
    start: date
    end: date  # inclusive
    peak_day: date
    peak_wh: int
    peak_expected_wh: int
    actual_wh: int
    expected_wh: int
    weather_normalised: bool

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.start.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def excess_wh(self) -> int:
        return self.actual_wh - self.expected_wh


def _heating_slope(points: list[tuple[float, float]]) -> float:
    if len(points) < MIN_HISTORY:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    xs = [x for x, _ in points]
    if max(xs) - min(xs) < MIN_DJ_SPREAD or sxx == 0:
        return 0.0
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return max(0.0, sxy / sxx)


def expected_days(readings: Iterable[tuple[date, int | None]],
                  degree_days: Mapping[date, float | None] | None = None,
                  *, weeks: int = DEFAULT_WEEKS,
                  min_history: int = MIN_HISTORY) -> dict[date, tuple[int, float, bool]]:
    """For each day with a reading and enough history: (wh, expected wh, weather-normalised)."""
    series = {day: wh for day, wh in readings if wh is not None}
    dj = degree_days or {}
    out: dict[date, tuple[int, float, bool]] = {}
    for day in sorted(series):
        refs = [day - timedelta(days=7 * k) for k in range(1, weeks + 1)]
        refs = [r for r in refs if r in series]
        if len(refs) < min_history:
            continue
        today_dj = dj.get(day)
        normalised = False
        slope = 0.0
        if today_dj is not None and all(dj.get(r) is not None for r in refs):
            window = [(dj[w], series[w]) for w in (day - timedelta(days=i) for i in range(1, weeks * 7 + 1))
                      if w in series and dj.get(w) is not None]
            slope = _heating_slope(window)
            normalised = True
        adjusted = [series[r] + (slope * (today_dj - dj[r]) if normalised else 0.0) for r in refs]
        out[day] = (series[day], float(median(adjusted)), normalised)
    return out


def _episode(kind: str, days: list[tuple[date, int, float, bool]]) -> Episode:
    peak = max(days, key=lambda d: (d[1] - d[2], d[0]))
    return Episode(kind, days[0][0], days[-1][0], peak[0], peak[1], round(peak[2]),
                   sum(d[1] for d in days), round(sum(d[2] for d in days)), all(d[3] for d in days))


def detect_anomalies(
    readings: Iterable[tuple[date, int | None]],
    degree_days: Mapping[date, float | None] | None = None,
    *,
    ratio: float = DEFAULT_RATIO,
    floor_wh: int = DEFAULT_FLOOR_WH,
    weeks: int = DEFAULT_WEEKS,
    min_history: int = MIN_HISTORY,
    week_ratio: float = DEFAULT_WEEK_RATIO,
    week_floor_wh: int = DEFAULT_WEEK_FLOOR_WH,
) -> list[Episode]:
    """Day and week episodes, sorted by start day."""
    expected = expected_days(readings, degree_days, weeks=weeks, min_history=min_history)
    episodes: list[Episode] = []
    run: list[tuple[date, int, float, bool]] = []
    in_day_episode: set[date] = set()
    for day in sorted(expected):
        wh, exp, normalised = expected[day]
        anomalous = wh >= exp * ratio and wh - exp >= floor_wh
        if anomalous and run and run[-1][0] == day - timedelta(days=1):
            run.append((day, wh, exp, normalised))
            continue
        if run:
            episodes.append(_episode("day", run))
            run = []
        if anomalous:
            run.append((day, wh, exp, normalised))
    if run:
        episodes.append(_episode("day", run))
    for e in episodes:
        in_day_episode.update(e.start + timedelta(days=i) for i in range(e.days))

    week_run: list[tuple[date, int, float, bool]] = []
    week_episodes: list[Episode] = []
    mondays = sorted({d - timedelta(days=d.weekday()) for d in expected})
    for monday in mondays:
        week = [monday + timedelta(days=i) for i in range(7)]
        if not all(d in expected for d in week) or any(d in in_day_episode for d in week):
            if week_run:
                week_episodes.append(_episode("week", week_run))
                week_run = []
            continue
        actual = sum(expected[d][0] for d in week)
        exp = sum(expected[d][1] for d in week)
        if actual >= exp * week_ratio and actual - exp >= week_floor_wh:
            if week_run and week_run[-1][0] != monday - timedelta(days=1):
                week_episodes.append(_episode("week", week_run))
                week_run = []
            week_run.extend((d, expected[d][0], expected[d][1], expected[d][2]) for d in week)
        elif week_run:
            week_episodes.append(_episode("week", week_run))
            week_run = []
    if week_run:
        week_episodes.append(_episode("week", week_run))
    return sorted(episodes + week_episodes, key=lambda e: (e.start, e.kind))
