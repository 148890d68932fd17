"""Bodies exchanged over REST, one module per owning service: the gateway forwards and documents them in
OpenAPI, the owner validates them. A service's bodies that never leave it stay in its own ``schemas.py``."""
from __future__ import annotations

import calendar
import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import PydanticCustomError

PARIS = ZoneInfo("Europe/Paris")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"


def _iso_date(value: Any) -> Any:
    # pydantic alone also reads 0 or "0" (Unix time) and "2025-01-01T00:00" as dates.
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("date_format", "a date is written YYYY-MM-DD")


def _clock_time(value: Any) -> Any:
    if isinstance(value, dt.time) or (isinstance(value, str) and re.match(TIME_PATTERN, value)):
        return value
    raise PydanticCustomError("time_format", "a time of day is written HH:MM or HH:MM:SS")


# What a date or a time of day is at the edge, exactly as the schema states it.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
ClockTime = Annotated[dt.time, BeforeValidator(_clock_time), WithJsonSchema({"type": "string",
                                                                              "pattern": TIME_PATTERN})]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than silently ignored."""
    model_config = ConfigDict(extra="forbid")


class Energy(StrEnum):
    electricity = "electricity"
    gas = "gas"
    heat = "heat"
    water = "water"
    # Read by nobody but the resident: meters declared on the `manual` channel (deliveries, old meters).
    fuel_oil = "fuel_oil"
    wood = "wood"


def local_today() -> dt.date:
    """Today where the residents live: days are Europe/Paris dates."""
    return dt.datetime.now(PARIS).date()


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it has no such day (31 August + 6 → 28/29
    February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
