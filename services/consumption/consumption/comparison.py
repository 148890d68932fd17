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

import math
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def comparison_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """consent's dwelling profile → the criteria of compare_homes."""
    return {"heating_energy": profile.get("heating_energy"), "heating_mode": profile.get("heating_mode"),
            "hot_water": profile.get("hot_water_energy"), "dwelling_type": profile.get("dwelling_type"),
            "surface_m2": profile.get("surface_m2"), "occupants": profile.get("occupants"),
            "municipality": profile.get("insee_code")}


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


# A group's values are kept as they are up to this many; beyond, as the quantiles at every 0.1 % (1 001 points), so
# that a stored group stays a few kilobytes whatever the population: the median and the efficient figure are among
# the points, exactly; a rank is read between two points (at most a thousandth of the group off).
EXACT_VALUES = 1000
SKETCH_STEPS = 1000


@dataclass(frozen=True)
class Distribution:
    """One metric of a group: its size and sorted values, or the quantiles standing for them (`exact` False)."""
    n: int
    points: Sequence[float]

    @classmethod
    def of(cls, values: Sequence[float], *, cap: int | None = None) -> Distribution:
        """``values`` sorted; kept whole unless there are more than ``cap``."""
        if cap is None or len(values) <= cap:
            return cls(len(values), values)
        return cls(len(values), [quantile(values, i / SKETCH_STEPS) for i in range(SKETCH_STEPS + 1)])

    @property
    def exact(self) -> bool:
        return len(self.points) == self.n

    def with_value(self, value: float) -> Distribution:
        """The group with one more home (one described since it was computed)."""
        if not self.exact:
            return Distribution(self.n + 1, self.points)
        points = list(self.points)
        insort(points, value)
        return Distribution(self.n + 1, points)

    def below(self, value: float) -> int:
        """How many of the group's values are strictly below ``value``."""
        i = bisect_left(self.points, value)
        if self.exact or i == 0:
            return i
        if i == len(self.points):
            return self.n - 1
        low, high = self.points[i - 1], self.points[i]
        position = (i - 1 + (value - low) / (high - low)) * (self.n - 1) / SKETCH_STEPS
        return min(self.n - 1, math.ceil(position - 1e-9))

    def metric(self, value: float | None, min_size: int) -> MetricComparison | None:
        if value is None or self.n < min_size:
            return None
        if self.exact:
            median, efficient = quantile(self.points, 0.5), quantile(self.points, EFFICIENT_QUANTILE)
        else:
            median, efficient = self.points[SKETCH_STEPS // 2], self.points[round(SKETCH_STEPS * EFFICIENT_QUANTILE)]
        rank = self.below(value) + 1
        return MetricComparison(value, median, efficient, rank, 100.0 * (rank - 1) / (self.n - 1), self.n)


METRICS = ("kwh", "per_m2", "per_occupant")


@dataclass(frozen=True)
class PeerGroup:
    """The homes sharing one level's criteria: a distribution per metric (kWh, per m², per occupant)."""
    kwh: Distribution
    per_m2: Distribution
    per_occupant: Distribution

    @property
    def size(self) -> int:
        return self.kwh.n

    def including(self, home: Prepared) -> PeerGroup:
        """The group with ``home`` added (its figures not among those the group was computed from)."""
        return PeerGroup(*(getattr(self, m) if getattr(home, m) is None else getattr(self, m).with_value(
            getattr(home, m)) for m in METRICS))


@dataclass(frozen=True, slots=True)
class Prepared:
    """A home as the groups see it: its criteria and its figures (weather-normalised where that applies)."""
    id: str
    criteria: Mapping[str, Any]
    kwh: float | None
    per_m2: float | None
    per_occupant: float | None
    normalised: bool

    def key(self, level: int) -> tuple | None:
        """Its group's key at that level; None when its profile lacks one of the level's criteria."""
        key = tuple(self.criteria[c] for c in LEVELS[level])
        return None if None in key else key


def prepare(home: Home | tuple[str, Mapping[str, Any], float | None], *, energy: str | None,
            degree_days: Mapping[str, tuple[float, float]] | None,
            heating_share: float = DEFAULT_HEATING_SHARE,
            shared: dict[tuple, dict[str, Any]] | None = None) -> Prepared:
    """``shared``: criteria already met, by their values, so that homes alike hold one dict (a population holds
    far fewer distinct criteria than homes)."""
    home_id, profile, kwh = (home.id, home.profile, home.kwh) if isinstance(home, Home) else home
    criteria = _criteria_values(profile)
    if shared is not None:
        criteria = shared.setdefault(tuple(criteria.values()), criteria)
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
    return Prepared(str(home_id), criteria, kwh, per_m2, per_occupant, normalised)


def build_groups(prepared: Iterable[Prepared], *, cap: int | None = None) -> list[dict[tuple, PeerGroup]]:
    """Per level, the groups of the homes with a figure, by key (values kept whole up to ``cap``)."""
    prepared = [p for p in prepared if p.kwh is not None]
    return [level_groups(prepared, level, cap=cap) for level in range(len(LEVELS))]


def level_groups(prepared: Iterable[Prepared], level: int, *, cap: int | None = None) -> dict[tuple, PeerGroup]:
    """One level's groups of the homes with a figure, by key: a caller that stores them goes level by level, never
    holding every level's values at once."""
    by_key: dict[tuple, tuple[list[float], list[float], list[float]]] = {}
    # Homes alike share their criteria (prepare's ``shared``): each one's key is made once.
    keys: dict[int, tuple | None] = {}
    for home in prepared:
        if home.kwh is None:
            continue
        key = keys.get(id(home.criteria), keys)
        if key is keys:
            key = keys[id(home.criteria)] = home.key(level)
        if key is None:
            continue
        lists = by_key.get(key)
        if lists is None:
            lists = by_key[key] = ([], [], [])
        lists[0].append(home.kwh)
        if home.per_m2 is not None:
            lists[1].append(home.per_m2)
        if home.per_occupant is not None:
            lists[2].append(home.per_occupant)
    return {key: PeerGroup(*(Distribution.of(sorted(v), cap=cap) for v in lists)) for key, lists in by_key.items()}


def choose(home: Prepared, group_of: Callable[[int, tuple], PeerGroup | None],
           min_group_size: int = MIN_GROUP_SIZE) -> HomeComparison:
    """The home against the first level whose group (``group_of(level, key)``, the home in it) is large enough."""
    min_size = max(MIN_GROUP_SIZE, min_group_size)
    if home.kwh is None:
        return HomeComparison(home.id, None, (), 0, False, None, None, None, "no_consumption")
    for index, level in enumerate(LEVELS):
        key = home.key(index)
        group = group_of(index, key) if key is not None else None
        if group is not None and group.size >= min_size:
            return HomeComparison(home.id, index, level, group.size, home.normalised,
                                  group.kwh.metric(home.kwh, min_size), group.per_m2.metric(home.per_m2, min_size),
                                  group.per_occupant.metric(home.per_occupant, min_size))
    reason = "profile_incomplete" if home.criteria["heating_energy"] is None else "too_few_peers"
    return HomeComparison(home.id, None, (), 0, home.normalised, None, None, None, reason)


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
    prepared = [prepare(h, energy=energy, degree_days=degree_days, heating_share=heating_share) for h in homes]
    groups = build_groups(prepared)
    return {p.id: choose(p, lambda level, key: groups[level].get(key), min_group_size) for p in prepared}
