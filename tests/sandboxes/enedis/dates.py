"""Calendar arithmetic as Data Connect does it: month steps, the history deadline, Paris offsets."""
from __future__ import annotations

import datetime as dt

from .state import PARIS


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def history_deadline(today: dt.date) -> dt.date:
    """Oldest start the daily endpoints accept: 36 months and 15 days back."""
    return add_months(today, -36) - dt.timedelta(days=15)


def curve_history_deadline(today: dt.date) -> dt.date:
    """Oldest start the load-curve endpoints accept: 24 months and 15 days back."""
    return add_months(today, -24) - dt.timedelta(days=15)


def paris_datetime(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=PARIS).strftime("%Y-%m-%dT%H:%M:%S%z")


def offset_date(day: dt.date) -> str:
    """v5 customers dates look like `2017-07-15+02:00`."""
    offset = dt.datetime.combine(day, dt.time(), PARIS).strftime("%z")
    return f"{day.isoformat()}{offset[:3]}:{offset[3:]}"
