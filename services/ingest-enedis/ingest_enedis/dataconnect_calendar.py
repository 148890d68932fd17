"""The Data Connect calendar: what the channel serves (capabilities), when a day is published, how far back
history goes and how a period is split into calls. Pure functions, no I/O."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from metro.dso import Capabilities

PARIS = ZoneInfo("Europe/Paris")
# Integrators' documentation gives 365 days per call on daily endpoints; the Swagger says nothing.
MAX_DAILY_WINDOW_DAYS = 365
# Load curves: at most 7 days a call, 24 months + 15 days of history.
MAX_CURVE_WINDOW_DAYS = 7

CAPABILITIES = Capabilities(
    dso="enedis",
    channel="dataconnect",
    energies=("electricity",),
    granularities=("P1D",),
    history_days=3 * 365 + 15,
    publication_time=dt.time(8, 0),
    lag_days_min=1,
    lag_days_max=2,
    notes=(
        "day D is published from 08:00 Europe/Paris on D+1, late meters on D+2",
        "history: 36 months + 15 days back, never before the meter's last activation date",
        f"at most {MAX_DAILY_WINDOW_DAYS} days per daily call, end date exclusive and not after today",
        "quota per application: 5 calls/s and 1 000 to 10 000 calls/h, shared by every meter",
    ),
)


def plan_windows(start: dt.date, end: dt.date, max_days: int = MAX_DAILY_WINDOW_DAYS) -> list[tuple[dt.date, dt.date]]:
    """Split [start, end[ into consecutive half-open windows of at most max_days days, oldest first."""
    if max_days < 1:
        raise ValueError("max_days must be at least 1")
    windows = []
    cursor = start
    while cursor < end:
        stop = min(cursor + dt.timedelta(days=max_days), end)
        windows.append((cursor, stop))
        cursor = stop
    return windows


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def earliest_history_day(today: dt.date) -> dt.date:
    """Oldest `start` the daily endpoints accept (36 months + 15 days back), one day of margin kept."""
    return add_months(today, -36) - dt.timedelta(days=14)


def latest_published_day(now: dt.datetime) -> dt.date:
    """Last day Data Connect is expected to serve at `now`: D appears at 08:00 Paris time on D+1."""
    local = now.astimezone(PARIS)
    return local.date() - dt.timedelta(days=1 if local.time() >= CAPABILITIES.publication_time else 2)
