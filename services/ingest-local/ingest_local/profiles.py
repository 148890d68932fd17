"""The local operators' file formats, declared as data: one TOML file per profile in ``profiles/``.

A profile names the operator and energy, which files it reads (a name pattern), their encoding, separator,
decimal mark, exact header, the role of each column, the unit, whether values are indexes or energies, the
time zone and the day boundary (a gas day runs 06:00→06:00). The reader (``feeds``) is strict: anything the
profile does not describe is refused, and the file is quarantined with the reason.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PROFILES_DIR = Path(__file__).parent / "profiles"
ROLES = ("identifier", "holder", "serial", "day", "period_end", "value", "install_index", "coefficient",
         "substation", "dwelling", "share_key", "share")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Layout(Strict):
    """One kind of file: its name pattern, header and the column of each role."""
    files: str = Field(min_length=1)
    header: tuple[str, ...] = Field(min_length=2)
    columns: dict[str, str]
    # "FIN;<rows>" closes every file: a file without it, or with another count, was cut short.
    trailer: str = "FIN"

    @model_validator(mode="after")
    def _columns_in_header(self):
        unknown = set(self.columns) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown column roles {sorted(unknown)}; roles: {', '.join(ROLES)}")
        missing = [c for c in self.columns.values() if c not in self.header]
        if missing:
            raise ValueError(f"columns {missing} are not in the header")
        return self

    def index(self, role: str) -> int | None:
        name = self.columns.get(role)
        return None if name is None else self.header.index(name)

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.files)


class Profile(Strict):
    name: str = Field(pattern=r"^[a-z_]+$")
    operator: str = Field(pattern=r"^[a-z_]+$")
    energy: Literal["electricity", "gas", "heat", "water"]
    # index: a meter's register at the end of each day; energy: what was used during the day (or period).
    kind: Literal["index", "energy"]
    unit: Literal["Wh", "kWh", "MWh", "m3"]
    encoding: str
    delimiter: str = Field(min_length=1, max_length=1)
    decimal: Literal[",", "."]
    time_zone: str = "Europe/Paris"
    # The local hour a day starts at; a timestamp column must fall exactly on it.
    day_boundary: dt.time = dt.time(0)
    # Dates as written: a day ("%Y-%m-%d", "%d/%m/%Y") or an instant with its offset ("%Y-%m-%dT%H:%M:%S%z").
    date_format: str
    # With an instant: whether it opens the day (a gas day's start) or closes it (an index read at midnight).
    instant_marks: Literal["start", "end"] = "start"
    data: Layout
    # District heat: the list of dwellings of each substation with their share key.
    shares: Layout | None = None
    # Quality of what is published: a dwelling's share of its substation is an estimate, not a measure.
    quality: Literal["measured", "estimated"] = "measured"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        "".encode(v)
        return v

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @model_validator(mode="after")
    def _coherent(self):
        need = {"identifier", "day", "value"} if self.energy != "heat" else {"substation", "day", "value"}
        missing = need - set(self.data.columns)
        if missing:
            raise ValueError(f"{self.name}: data columns {sorted(missing)} are required")
        if self.kind == "index" and self.unit == "m3" and self.energy == "gas":
            raise ValueError("a gas index in m3 needs a daily coefficient: declare energy values")
        if self.energy == "gas" and self.unit == "m3" and "coefficient" not in self.data.columns:
            raise ValueError("gas volumes need the conversion coefficient column (kWh per m3)")
        if self.energy == "heat" and (self.shares is None or
                                      {"substation", "dwelling", "share"} - set(self.shares.columns)):
            raise ValueError("district heat needs the dwellings list with substation, dwelling and share")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def dso(self) -> str:
        return self.operator


def load(path: Path) -> Profile:
    with path.open("rb") as f:
        return Profile.model_validate(tomllib.load(f))


@cache
def all_profiles(directory: Path = PROFILES_DIR) -> tuple[Profile, ...]:
    return tuple(load(p) for p in sorted(directory.glob("*.toml")))


def operators(profiles: tuple[Profile, ...] | None = None) -> tuple[str, ...]:
    return tuple(sorted({p.operator for p in profiles or all_profiles()}))


def profile_of(operator: str, name: str, profiles: tuple[Profile, ...] | None = None) -> tuple[Profile, str] | None:
    """The profile of an operator's file and whether it is a ``data`` or ``shares`` file; None: not ours."""
    for p in profiles or all_profiles():
        if p.operator != operator:
            continue
        if p.data.matches(name):
            return p, "data"
        if p.shares and p.shares.matches(name):
            return p, "shares"
    return None
