"""Comparison of each home with similar homes over the same period (one energy per call).

Peer group: the homes sharing the criteria of the first level below at which the group (the home included)
has at least `min_group_size` members (never fewer than 10: statistical secrecy). Levels widen step by step:

    0  heating energy, heating mode, hot water, dwelling type, surface band, occupants band, municipality
    1  the same with the climate area instead of the municipality
    2  drop occupants band     (per-occupant figures still compare like with like)
    3  drop surface band       (per-m² figures still compare like with like)
    4  drop hot water energy
    5  drop heating mode (individual / collective)
    6  drop dwelling type      → heating energy + climate area; below that no comparison is given.

A level needing a criterion the home's profile lacks is skipped for that home.

Figures per group (computed on sorted values; bisect for ranks, so O(n log n) for the whole population):
  median, efficient = 20th percentile (the best 20 % consume at most this), both linearly interpolated
  between order statistics (position (n − 1)·p); rank = 1 + number of peers strictly below (1 = lowest,
  ties share the best rank); percentile = 100·(rank − 1)/(n − 1) (0 = lowest, 100 = highest).
Per m² and per occupant use the same group restricted to homes that give a surface / occupants, and are
withheld when that subset is under the minimum.

Weather normalisation: when the compared energy is the home's heating energy and degree days are given
for its climate area, kWh are normalised before comparing:
    kWh_norm = kWh × (1 − s) + kWh × s × DJU_reference / DJU_period
with s the heating share of the energy (profile "heating_share" if measured, else `heating_share`, default
0.7, a typical share of heating in the consumption of a home heated with that energy).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from consumption.climate import normalise_heating

MIN_GROUP_SIZE = 10
DEFAULT_HEATING_SHARE = 0.7
EFFICIENT_QUANTILE = 0.2

_FULL = ("heating_energy", "heating_mode", "hot_water", "dwelling_type", "surface_band", "occupants_band")
LEVELS: tuple[tuple[str, ...], ...] = (
    _FULL + ("municipality",),
    _FULL + ("climate_area",),
    ("heating_energy", "heating_mode", "hot_water", "dwelling_type", "surface_band", "climate_area"),
    ("heating_energy", "heating_mode", "hot_water", "dwelling_type", "climate_area"),
    ("heating_energy", "heating_mode", "dwelling_type", "climate_area"),
    ("heating_energy", "dwelling_type", "climate_area"),
    ("heating_energy", "climate_area"),
)
SURFACE_BANDS_M2 = (40, 70, 100, 150)
DEFAULT_CLIMATE_AREA = "H1c"


@dataclass(frozen=True)
class Home:
    id: str
    profile: Mapping[str, Any]
    kwh: float | None


@dataclass(frozen=True)
class MetricComparison:
    value: float
    median: float
    efficient: float
    rank: int
    percentile: float
    group_size: int


@dataclass(frozen=True)
class HomeComparison:
    home_id: str
    level: int | None
    criteria: tuple[str, ...]
    group_size: int
    weather_normalised: bool
    kwh: MetricComparison | None
    per_m2: MetricComparison | None
    per_occupant: MetricComparison | None
    reason: str | None = None


def surface_band(surface_m2: float | None) -> str | None:
    if not surface_m2 or surface_m2 <= 0:
        return None
    bounds = (0,) + SURFACE_BANDS_M2
    for low, high in zip(bounds, SURFACE_BANDS_M2):
        if surface_m2 < high:
            return f"{low}-{high}"
    return f"{SURFACE_BANDS_M2[-1]}+"


def occupants_band(occupants: int | None) -> str | None:
    if not occupants or occupants <= 0:
        return None
    return {1: "1", 2: "2", 3: "3-4", 4: "3-4"}.get(occupants, "5+")


def quantile(sorted_values: Sequence[float], p: float) -> float:
    position = (len(sorted_values) - 1) * p
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _criteria_values(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "heating_energy": profile.get("heating_energy"),
        "heating_mode": profile.get("heating_mode"),
        "hot_water": profile.get("hot_water"),
        "dwelling_type": profile.get("dwelling_type"),
        "surface_band": surface_band(profile.get("surface_m2")),
        "occupants_band": occupants_band(profile.get("occupants")),
        "municipality": profile.get("municipality"),
        "climate_area": profile.get("climate_area") or DEFAULT_CLIMATE_AREA,
    }


class _Group:
    __slots__ = ("kwh", "per_m2", "per_occupant", "_stats")

    def __init__(self) -> None:
        self.kwh: list[float] = []
        self.per_m2: list[float] = []
        self.per_occupant: list[float] = []
        self._stats: dict[str, tuple[float, float]] = {}

    def seal(self) -> None:
        self.kwh.sort()
        self.per_m2.sort()
        self.per_occupant.sort()

    def metric(self, name: str, value: float | None, min_size: int) -> MetricComparison | None:
        values = getattr(self, name)
        if value is None or len(values) < min_size:
            return None
        if name not in self._stats:
            self._stats[name] = (quantile(values, 0.5), quantile(values, EFFICIENT_QUANTILE))
        median, efficient = self._stats[name]
        rank = bisect_left(values, value) + 1
        n = len(values)
        return MetricComparison(value, median, efficient, rank, 100.0 * (rank - 1) / (n - 1), n)


def compare_homes(
    homes: Iterable[Home | tuple[str, Mapping[str, Any], float | None]],
    *,
    energy: str | None = None,
    degree_days: Mapping[str, tuple[float, float]] | None = None,
    heating_share: float = DEFAULT_HEATING_SHARE,
    min_group_size: int = MIN_GROUP_SIZE,
) -> dict[str, HomeComparison]:
    """Compare every home with its peers. `energy` names the energy of the kWh figures (e.g. "gas");
    `degree_days` maps a climate area to (period DJU, reference DJU). Returns one result per home id."""
    min_size = max(MIN_GROUP_SIZE, min_group_size)
    prepared = []
    for home in homes:
        home_id, profile, kwh = (home.id, home.profile, home.kwh) if isinstance(home, Home) else home
        criteria = _criteria_values(profile)
        normalised = False
        if kwh is not None and energy is not None and degree_days and criteria["heating_energy"] == energy:
            dju = degree_days.get(criteria["climate_area"])
            if dju and dju[0] > 0:
                share = float(profile.get("heating_share", heating_share))
                kwh = normalise_heating(kwh, dju[0], dju[1], share)
                normalised = True
        surface, occupants = profile.get("surface_m2"), profile.get("occupants")
        per_m2 = kwh / surface if kwh is not None and surface and surface > 0 else None
        per_occupant = kwh / occupants if kwh is not None and occupants and occupants > 0 else None
        prepared.append((str(home_id), criteria, kwh, per_m2, per_occupant, normalised))

    groups: list[dict[tuple, _Group]] = []
    for level in LEVELS:
        by_key: dict[tuple, _Group] = {}
        for _, criteria, kwh, per_m2, per_occupant, _ in prepared:
            if kwh is None:
                continue
            key = tuple(criteria[c] for c in level)
            if None in key:
                continue
            group = by_key.get(key)
            if group is None:
                group = by_key[key] = _Group()
            group.kwh.append(kwh)
            if per_m2 is not None:
                group.per_m2.append(per_m2)
            if per_occupant is not None:
                group.per_occupant.append(per_occupant)
        for group in by_key.values():
            group.seal()
        groups.append(by_key)

    results: dict[str, HomeComparison] = {}
    for home_id, criteria, kwh, per_m2, per_occupant, normalised in prepared:
        if kwh is None:
            results[home_id] = HomeComparison(home_id, None, (), 0, False, None, None, None, "no_consumption")
            continue
        chosen = None
        for index, level in enumerate(LEVELS):
            key = tuple(criteria[c] for c in level)
            if None in key:
                continue
            group = groups[index][key]
            if len(group.kwh) >= min_size:
                chosen = (index, level, group)
                break
        if chosen is None:
            reason = "profile_incomplete" if criteria["heating_energy"] is None else "too_few_peers"
            results[home_id] = HomeComparison(home_id, None, (), 0, normalised, None, None, None, reason)
            continue
        index, level, group = chosen
        results[home_id] = HomeComparison(
            home_id, index, level, len(group.kwh), normalised,
            group.metric("kwh", kwh, min_size),
            group.metric("per_m2", per_m2, min_size),
            group.metric("per_occupant", per_occupant, min_size),
        )
    return results
