"""Reading an operator's file strictly by its profile: encoding, header, trailer, every value; the first thing
out of place refuses the whole file (``BadFile`` with a stable reason and the line)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ingest_local.profiles import Layout, Profile

NUMBER = {",": re.compile(r"^-?\d+(,\d+)?$"), ".": re.compile(r"^-?\d+(\.\d+)?$")}
TO_WH = {"Wh": Decimal(1), "kWh": Decimal(1000), "MWh": Decimal(1_000_000)}
SHARE_KEYS = ("surface", "tantiemes")


class BadFile(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a data file, its value in the platform's unit: Wh of energy, or litres of water.

    ``identifier`` is the meter (for district heat, the substation); ``last_day`` is the period's end for a
    meter read monthly (the same day otherwise); ``install_index`` is the new meter's start after an exchange.
    """
    line: int
    identifier: str
    day: dt.date
    last_day: dt.date
    value: int
    holder: str | None = None
    serial: str | None = None
    install_index: int | None = None


@dataclass(frozen=True, slots=True)
class Share:
    line: int
    substation: str
    dwelling: str
    share: Decimal
    key: str | None
    holder: str | None


def decode(profile: Profile, data: bytes) -> str:
    try:
        text = data.decode(profile.encoding)
    except UnicodeDecodeError as exc:
        raise BadFile("wrong_encoding", f"not {profile.encoding} at byte {exc.start}") from exc
    return text.removeprefix("\ufeff")


def _lines(profile: Profile, layout: Layout, text: str) -> Iterator[tuple[int, list[str]]]:
    rows = list(csv.reader(io.StringIO(text), delimiter=profile.delimiter, strict=True))
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise BadFile("empty_file", "no header")
    if tuple(c.strip() for c in rows[0]) != layout.header:
        raise BadFile("unexpected_header", f"header {rows[0][:12]!r}, expected {list(layout.header)!r}")
    last = rows[-1]
    if len(rows) < 2 or last[0] != layout.trailer:
        raise BadFile("truncated", f"no {layout.trailer} line closes the file: it was cut short")
    if len(last) != 2 or not last[1].isdigit() or int(last[1]) != len(rows) - 2:
        raise BadFile("truncated", f"the {layout.trailer} line announces {last[1:]!r} rows, the file holds "
                                   f"{len(rows) - 2}")
    width = len(layout.header)
    for n, fields in enumerate(rows[1:-1], start=2):
        if len(fields) != width:
            raise BadFile("bad_line", f"line {n}: {len(fields)} fields, expected {width}")
        yield n, [f.strip() for f in fields]


def _number(profile: Profile, text: str, n: int, what: str) -> Decimal:
    if not NUMBER[profile.decimal].match(text):
        raise BadFile("bad_value", f"line {n}: {what} {text!r} is not a number written with {profile.decimal!r}")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise BadFile("bad_value", f"line {n}: {what} {text!r}") from exc


def _day(profile: Profile, text: str, n: int) -> dt.date:
    try:
        value = dt.datetime.strptime(text, profile.date_format)
    except ValueError as exc:
        raise BadFile("bad_date", f"line {n}: {text!r} does not match {profile.date_format!r}") from exc
    if value.tzinfo is None:
        return value.date()
    local = value.astimezone(profile.zone)
    if local.time() != profile.day_boundary:
        raise BadFile("bad_date", f"line {n}: {text!r} is not at the day boundary "
                                  f"{profile.day_boundary.isoformat('minutes')} {profile.time_zone}")
    day = local.date()
    return day - dt.timedelta(days=1) if profile.instant_marks == "end" else day


def _platform_unit(profile: Profile, value: Decimal, coefficient: Decimal | None) -> int:
    if profile.unit != "m3":
        return int((value * TO_WH[profile.unit]).to_integral_value())
    if profile.energy == "gas":
        return int((value * coefficient * 1000).to_integral_value())
    return int((value * 1000).to_integral_value())  # water: litres


def read_rows(profile: Profile, data: bytes) -> list[Row]:
    layout = profile.data
    at = {role: layout.index(role) for role in layout.columns}
    ident_col = at.get("identifier", at.get("substation"))
    out = []
    for n, f in _lines(profile, layout, decode(profile, data)):
        ident = f[ident_col]
        if not ident:
            raise BadFile("bad_value", f"line {n}: no meter identifier")
        day = _day(profile, f[at["day"]], n)
        last_day = _day(profile, f[at["period_end"]], n) if "period_end" in at else day
        if last_day < day or (last_day - day).days > 31:
            raise BadFile("bad_period", f"line {n}: period {day} to {last_day}")
        value = _number(profile, f[at["value"]], n, "value")
        if value < 0:
            raise BadFile("bad_value", f"line {n}: negative value {value}")
        coefficient = None
        if "coefficient" in at:
            coefficient = _number(profile, f[at["coefficient"]], n, "coefficient")
            if not Decimal(8) <= coefficient <= Decimal(13):
                raise BadFile("bad_value", f"line {n}: conversion coefficient {coefficient} kWh/m3 out of 8 to 13")
        install = None
        if "install_index" in at and f[at["install_index"]]:
            install = _platform_unit(profile, _number(profile, f[at["install_index"]], n, "install index"), None)
        out.append(Row(n, ident, day, last_day, _platform_unit(profile, value, coefficient),
                       holder=f[at["holder"]] if "holder" in at else None,
                       serial=f[at["serial"]] if "serial" in at else None, install_index=install))
    return out


def read_shares(profile: Profile, data: bytes) -> list[Share]:
    layout = profile.shares
    assert layout is not None
    at = {role: layout.index(role) for role in layout.columns}
    out = []
    for n, f in _lines(profile, layout, decode(profile, data)):
        share = _number(profile, f[at["share"]], n, "share")
        key = f[at["share_key"]].lower() if "share_key" in at else None
        if share <= 0 or (key is not None and key not in SHARE_KEYS):
            raise BadFile("bad_value", f"line {n}: share {share} with key {key!r} (keys: {', '.join(SHARE_KEYS)})")
        out.append(Share(n, f[at["substation"]], f[at["dwelling"]], share, key,
                         f[at["holder"]] if "holder" in at else None))
    return out


def spread(row: Row) -> list[tuple[dt.date, int]]:
    """A period's volume over its days, evenly in whole units, the remainder on the last day."""
    days = (row.last_day - row.day).days + 1
    each, rest = divmod(row.value, days)
    return [(row.day + dt.timedelta(days=i), each + (rest if i == days - 1 else 0)) for i in range(days)]
