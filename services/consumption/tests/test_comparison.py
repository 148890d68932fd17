import random

from consumption.comparison import (EXACT_VALUES, LEVELS, Home, _criteria_values, build_groups, choose, compare_homes,
                                    prepare, quantile)

ENERGIES = ["gas", "electricity", "heat_network"]
MUNICIPALITIES = ["38185", "38151", "38421", "38229", "38169", "38057"]


def synthetic_population(n: int, seed: int = 7) -> list[Home]:
    rng = random.Random(seed)
    homes = []
    for i in range(n):
        profile = {
            "heating_energy": rng.choices(ENERGIES, weights=[6, 3, 1])[0],
            "heating_mode": rng.choices(["individual", "collective"], weights=[4, 1])[0],
            "hot_water": rng.choices(["gas", "electricity"], weights=[4, 1])[0],
            "dwelling_type": rng.choices(["apartment", "house"], weights=[3, 1])[0],
            "surface_m2": rng.choice([None, rng.uniform(45, 95), rng.uniform(20, 220)]),
            "occupants": rng.choices([None, 1, 2, 3, 4, 5, 6], weights=[1, 3, 4, 2, 2, 1, 1])[0],
            "municipality": rng.choices(MUNICIPALITIES, weights=[10, 3, 3, 2, 1, 1])[0],
        }
        homes.append(Home(f"h{i}", profile, round(rng.uniform(1_000, 25_000), 1)))
    return homes


def brute_force(homes: list[tuple[Home, dict]], home: Home, criteria: tuple[str, ...]):
    """Direct computation: scan every home, count those below, sort the peers."""
    mine = _criteria_values(home.profile)
    peers = [h.kwh for h, values in homes if all(values[c] == mine[c] for c in criteria)]
    below = sum(1 for v in peers if v < home.kwh)
    ordered = sorted(peers)
    percentile = 100 * below / (len(peers) - 1) if len(peers) > 1 else 0.0
    return len(peers), below + 1, percentile, quantile(ordered, 0.5), quantile(ordered, 0.2)


def test_population_of_5000_homes_matches_brute_force_and_never_shows_small_groups():
    homes = synthetic_population(5_000)
    results = compare_homes(homes)
    shown = [r for r in results.values() if r.kwh is not None]
    assert len(shown) == 5_000
    assert all(r.group_size >= 10 and r.kwh.group_size >= 10 for r in shown)
    assert all(r.per_m2 is None or r.per_m2.group_size >= 10 for r in shown)
    levels = {r.level for r in shown}
    assert 0 in levels and len(levels) >= 3, "some homes need a wider group, some do not"
    indexed = [(h, _criteria_values(h.profile)) for h in homes]
    for home in random.Random(1).sample(homes, 150):
        result = results[home.id]
        size, rank, percentile, median, efficient = brute_force(indexed, home, result.criteria)
        assert (result.group_size, result.kwh.rank) == (size, rank)
        assert abs(result.kwh.percentile - percentile) < 1e-9
        assert abs(result.kwh.median - median) < 1e-9 and abs(result.kwh.efficient - efficient) < 1e-9
        if result.level > 0:
            narrower = LEVELS[result.level - 1]
            if all(home.profile.get(c) is not None for c in ("surface_m2", "occupants")):
                assert brute_force(indexed, home, narrower)[0] < 10


def test_home_with_too_few_peers_gets_a_wider_group_not_a_wrong_answer():
    base = {"heating_energy": "gas", "heating_mode": "individual", "hot_water": "gas",
            "dwelling_type": "house", "surface_m2": 90, "occupants": 3, "municipality": "38185"}
    homes = [Home(f"twin{i}", dict(base), 10_000 + 500 * i) for i in range(3)]
    homes += [Home(f"near{i}", dict(base, municipality="38151"), 8_000 + 400 * i) for i in range(12)]
    result = compare_homes(homes)["twin0"]
    assert result.level == 1 and "municipality" not in result.criteria and "climate_area" in result.criteria
    assert result.group_size == 15
    # values below twin0's 10 000: near0..near4 (8 000 … 9 600) → rank 6 of 15
    assert result.kwh.rank == 6 and result.kwh.percentile == 100 * 5 / 14
    # the efficient reference is the 20th percentile: sorted position 14 × 0.2 = 2.8 → 8 800 + 0.8 × 400
    assert abs(result.kwh.efficient - 9_120) < 1e-9


def test_no_comparison_below_ten_even_when_asked_for_less():
    homes = [Home(f"h{i}", {"heating_energy": "fioul"}, 1_000 * i) for i in range(9)]
    results = compare_homes(homes, min_group_size=3)
    assert all(r.kwh is None and r.reason == "too_few_peers" for r in results.values())


def test_per_m2_and_per_occupant_and_degree_day_normalisation():
    homes = [Home(f"h{i}", {"heating_energy": "gas", "dwelling_type": "apartment", "surface_m2": 50,
                            "occupants": 2}, 10_000 + 1_000 * i) for i in range(10)]
    results = compare_homes(homes, energy="gas", degree_days={"H1c": (2_000, 2_500)}, heating_share=0.6)
    r = results["h0"]
    # 10 000 × 0.4 + 10 000 × 0.6 × 2 500 / 2 000 = 4 000 + 7 500 = 11 500 kWh normalised
    assert r.weather_normalised and abs(r.kwh.value - 11_500) < 1e-9
    assert abs(r.per_m2.value - 230) < 1e-9 and abs(r.per_occupant.value - 5_750) < 1e-9
    assert r.kwh.rank == 1 and r.kwh.percentile == 0
    assert r.criteria == ("heating_energy", "dwelling_type", "climate_area")


def stored(groups):
    """The groups as the worker stores them (comparison.build_groups with the cap) and a request reads them."""
    return lambda level, key: groups[level].get(key)


def test_stored_groups_place_every_home_as_the_whole_computation_does():
    """The worker's groups (values beyond EXACT_VALUES kept as quantiles): the same level and group, the same
    median and efficient figure, the same rank within exact groups and within a thousandth of larger ones."""
    homes = synthetic_population(20_000, seed=11)
    whole = compare_homes(homes)
    prepared = [prepare(h, energy=None, degree_days=None) for h in homes]
    groups = build_groups(prepared, cap=EXACT_VALUES)
    sketched = 0
    for home in prepared:
        got, want = choose(home, stored(groups)), whole[home.id]
        assert (got.level, got.group_size, got.reason) == (want.level, want.group_size, want.reason)
        for name in ("kwh", "per_m2", "per_occupant"):
            g, w = getattr(got, name), getattr(want, name)
            assert (g is None) == (w is None)
            if g is None:
                continue
            assert (g.median, g.efficient, g.group_size) == (w.median, w.efficient, w.group_size)
            if g.group_size <= EXACT_VALUES:
                assert (g.rank, g.percentile) == (w.rank, w.percentile)
            else:
                sketched += 1
                assert abs(g.rank - w.rank) <= g.group_size / 1000 + 1, (g.rank, w.rank, g.group_size)
    assert sketched > 1_000, "some homes are compared within groups larger than EXACT_VALUES"


def test_a_home_described_since_the_groups_were_computed_is_placed_as_if_it_were_in_them():
    homes = synthetic_population(3_000, seed=5)
    newcomer, others = homes[0], homes[1:]
    groups = build_groups([prepare(h, energy=None, degree_days=None) for h in others], cap=EXACT_VALUES)
    home = prepare(newcomer, energy=None, degree_days=None)
    got = choose(home, lambda level, key: None if (g := groups[level].get(key)) is None else g.including(home))
    want = compare_homes(homes)[newcomer.id]
    assert (got.level, got.group_size) == (want.level, want.group_size) and got.kwh == want.kwh
    assert got.per_m2 == want.per_m2 and got.per_occupant == want.per_occupant
