"""Statistical secrecy of the Métropole's aggregates (issue 23 item 5), on crafted populations: the primary rule
(≥ 10 homes, no home above 85 % of a cell) and the secondary one (no published total minus published cells
gives a suppressed cell away)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from consumption.aggregates import DIMENSIONS, Cell, Cells, construction_period, secure, view


@dataclass(frozen=True)
class HomeYear:
    area: str
    energy: str
    kwh: float
    kwh_m2: float
    dimensions: dict[str, str]


def homes(area: str, n: int, kwh: float = 5000, *, dwelling: str = "apartment", heating: str = "gas",
          year: int = 1970, surface: float = 60, energy: str = "gas") -> list[HomeYear]:
    return [HomeYear(area=area, energy=energy, kwh=kwh, kwh_m2=kwh / surface, dimensions={
        "dwelling_type": dwelling, "heating_energy": heating, "construction_period": construction_period(year)})
        for _ in range(n)]


def build(population: list[HomeYear]) -> Cells:
    """The cells PostgreSQL's grouping sets give for this population (aggregates.cells_of), secrecy applied."""
    groups: dict[tuple, list[HomeYear]] = defaultdict(list)
    for h in population:
        groups[("total", h.energy)].append(h)
        groups[("area", h.area, h.energy)].append(h)
        for dim in DIMENSIONS:
            groups[("breakdown", h.area, h.energy, dim, h.dimensions[dim])].append(h)

    def cell(key: dict[str, str], members: list[HomeYear]) -> Cell:
        return Cell.of(key, [h.kwh for h in members], [h.kwh_m2 for h in members])
    totals = {k[1]: cell({"energy": k[1]}, v) for k, v in groups.items() if k[0] == "total"}
    cells = {k[1:]: cell({"area": k[1], "energy": k[2]}, v) for k, v in groups.items() if k[0] == "area"}
    breakdown = {k[1:]: cell({"area": k[1], "energy": k[2], k[3]: k[4]}, v) for k, v in groups.items()
                 if k[0] == "breakdown"}
    return secure(cells, breakdown, totals)


def test_a_cell_needs_ten_homes():
    cells, _, totals = build(homes("38185", 10) + homes("38421", 9) + homes("38057", 3))
    assert cells[("38185", "gas")].secret is None
    assert cells[("38057", "gas")].secret == "too_few_homes"
    assert cells[("38421", "gas")].secret == "too_few_homes"
    published = view(cells[("38185", "gas")], None)
    assert published["homes"] == 10 and published["total_kwh"] == 50_000
    assert published["kwh_m2"]["median"] == round(5000 / 60, 1)
    hidden = view(cells[("38421", "gas")], None)
    assert hidden["homes"] is None and hidden["total_kwh"] is None and hidden["kwh_m2"] is None


def test_no_single_home_may_weigh_more_than_85_percent_of_a_cell():
    # 11 homes, one of which uses 90 % of the cell's energy: the cell is withheld though it has 11 homes.
    dominated = homes("38185", 10, kwh=100) + homes("38185", 1, kwh=9000)
    spread = homes("38421", 10, kwh=100) + homes("38421", 1, kwh=500)
    cells, _, _ = build(dominated + spread + homes("38151", 12) + homes("38057", 2))
    assert cells[("38185", "gas")].secret == "dominant_home"
    assert cells[("38421", "gas")].secret is None


def test_one_suppressed_area_is_never_the_total_minus_the_published_ones():
    population = homes("38185", 30) + homes("38421", 20) + homes("38151", 4, kwh=7000)
    cells, _, totals = build(population)
    assert totals["gas"].secret is None
    assert cells[("38151", "gas")].secret == "too_few_homes"
    # Without more, total − 38185 − 38421 would give 38151's 28 000 kWh: the smallest other is withheld too.
    assert cells[("38421", "gas")].secret == "secondary"
    assert cells[("38185", "gas")].secret is None


def test_no_combination_of_published_figures_reveals_a_suppressed_cell():
    """Whatever is subtracted from whatever published total, the result is never one suppressed cell alone."""
    population = (homes("38185", 40, dwelling="house") + homes("38185", 3, dwelling="apartment", kwh=9000)
                  + homes("38185", 25, dwelling="apartment", heating="electricity", year=2015)
                  + homes("38185", 2, dwelling="house", heating="wood", year=1900)
                  + homes("38421", 12) + homes("38421", 1, kwh=400_000) + homes("38151", 15) + homes("38057", 2))
    cells, breakdown, totals = build(population)
    groups = [(totals["gas"], [c for (a, e), c in cells.items()])]
    for (area, energy), cell in cells.items():
        for dim in ("dwelling_type", "heating_energy", "construction_period"):
            groups.append((cell, [c for k, c in breakdown.items() if k[:3] == (area, energy, dim)]))
    checked = 0
    for total, parts in groups:
        if total.secret:
            assert all(p.secret for p in parts)  # a withheld total's parts are withheld too
            continue
        hidden = [p for p in parts if p.secret]
        # The total minus every published part is the sum of the hidden ones: never one cell alone.
        assert len(hidden) != 1, (total.key, [p.key for p in hidden])
        shown = sum(p.total for p in parts if not p.secret)
        assert abs(total.total - shown - sum(p.total for p in hidden)) < 1e-6
        checked += bool(hidden)
    assert checked == 3  # the areas, and 38185's heating energies and construction periods
    assert breakdown[("38185", "gas", "heating_energy", "wood")].secret == "too_few_homes"
    assert breakdown[("38185", "gas", "heating_energy", "electricity")].secret == "secondary"
    assert breakdown[("38185", "gas", "heating_energy", "gas")].secret is None
    assert cells[("38421", "gas")].secret == "dominant_home"
    assert cells[("38057", "gas")].secret == "too_few_homes"


def test_the_trend_compares_with_the_year_before_when_both_are_published():
    now, _, _ = build(homes("38185", 10, kwh=4500))
    before, _, _ = build(homes("38185", 10, kwh=5000))
    assert view(now[("38185", "gas")], before[("38185", "gas")])["trend_pct"] == -10.0
    small, _, _ = build(homes("38185", 5, kwh=5000))
    assert view(now[("38185", "gas")], small[("38185", "gas")])["trend_pct"] is None


def test_construction_periods():
    assert [construction_period(y) for y in (None, 1900, 1949, 1974, 1975, 2012, 2013)] == [
        "unknown", "before_1949", "1949_1974", "1949_1974", "1975_2000", "2001_2012", "after_2012"]
