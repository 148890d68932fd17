"""The DSOs' days: Europe/Paris calendar dates, and ranges of them [first, end[ collected or missing."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

Range = tuple[dt.date, dt.date]  # [first, end[


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    merged: list[Range] = []
    for first, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((first, end))
    return merged


def missing_ranges(wanted: Range, collected: Iterable[Range]) -> list[Range]:
    """The parts of ``wanted`` not covered by ``collected``, oldest first."""
    start, end = wanted
    gaps: list[Range] = []
    cursor = start
    for first, stop in merge_ranges(collected):
        if stop <= cursor:
            continue
        if first >= end:
            break
        if first > cursor:
            gaps.append((cursor, min(first, end)))
        cursor = max(cursor, stop)
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


def covered_until(window: Range, last_returned: dt.date | None, late_from: dt.date) -> dt.date:
    """End of the part of ``window`` the DSO has answered for good. Days from ``late_from`` on may still be
    published late, so they count only when returned; older days the DSO did not return are holes it will
    not fill, and asking again every day would spend the quota for nothing."""
    start, end = window
    if end <= late_from:
        return end
    if last_returned is not None:
        return max(min(late_from, end), last_returned + dt.timedelta(days=1))
    return max(start, min(late_from, end))
