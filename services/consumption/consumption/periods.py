"""The calendar of the series, totals and reports: the periods of a step, their bounds, and the ranges a
request may ask for."""
from __future__ import annotations

import datetime as dt

from metro.errors import AppError
from metro.schemas.consumption import Step

MAX_DAYS = {Step.day: 3 * 366 + 31, Step.week: 10 * 366, Step.month: 20 * 366, Step.year: 50 * 366}
DAY = dt.timedelta(days=1)

def period_start(day: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return day - dt.timedelta(days=day.weekday())
    if step is Step.month:
        return day.replace(day=1)
    if step is Step.year:
        return day.replace(month=1, day=1)
    return day


def next_period(start: dt.date, step: Step) -> dt.date:
    if step is Step.week:
        return start + dt.timedelta(days=7)
    if step is Step.month:
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if step is Step.year:
        return start.replace(year=start.year + 1)
    return start + DAY


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(day=1)
    return first, next_period(first, Step.month)


def same_day_last_year(day: dt.date) -> dt.date:
    # 29 February has no twin: the previous year's 28 February stands in.
    return day.replace(year=day.year - 1, day=28) if (day.month, day.day) == (2, 29) else \
        day.replace(year=day.year - 1)


def check_range(start: dt.date, end: dt.date, step: Step) -> None:
    if end <= start:
        raise AppError("'to' must be after 'from' (to is exclusive)", code="invalid_period", status_code=422)
    if (end - start).days > MAX_DAYS[step]:
        raise AppError(f"period too long for step {step.value}", code="period_too_long", status_code=422)


def last_complete_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    first, nxt = month_bounds(as_of)
    if as_of + DAY == nxt:
        return first, nxt
    return month_bounds(first - DAY)
