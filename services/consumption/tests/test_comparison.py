import random

from consumption.comparison import LEVELS, Home, _criteria_values, compare_homes, quantile

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
