import random
from datetime import date, timedelta

from consumption.anomalies import detect_anomalies, expected_days

START = date(2025, 9, 1)


def flat_history(days: int, wh: int = 10_000) -> list[tuple[date, int | None]]:
    return [(START + timedelta(days=i), wh) for i in range(days)]


def test_five_day_spike_is_one_episode_with_its_excess():
    readings = flat_history(70)
    for i in range(56, 61):  # five consecutive days at 25 kWh instead of 10
        readings[i] = (readings[i][0], 25_000)
    episodes = detect_anomalies(readings)
    assert len(episodes) == 1
    [episode] = episodes
    assert episode.kind == "day"
    assert (episode.start, episode.end) == (START + timedelta(days=56), START + timedelta(days=60))
    assert episode.days == 5
    # expected 5 × 10 kWh (median of the same weekday over 6 weeks), actual 5 × 25 kWh → excess 75 kWh
    assert (episode.actual_wh, episode.expected_wh, episode.excess_wh) == (125_000, 50_000, 75_000)
    assert episode.peak_wh == 25_000 and episode.peak_expected_wh == 10_000
    assert episode.key == f"day:{episode.start.isoformat()}"


def test_growing_episode_keeps_its_key_so_it_is_published_once():
    readings = flat_history(70)
    for i in range(56, 61):
        readings[i] = (readings[i][0], 25_000)
    keys_as_days_arrive = {detect_anomalies(readings[:n])[0].key for n in range(57, 62)}
    assert keys_as_days_arrive == {f"day:{(START + timedelta(days=56)).isoformat()}"}


def test_small_rise_below_the_absolute_floor_is_not_an_anomaly():
    readings = flat_history(70, wh=2_000)
    readings[60] = (readings[60][0], 3_500)  # ratio 1.75 but only +1.5 kWh < 2 kWh floor
    assert detect_anomalies(readings) == []


def test_winter_ramp_is_normal_once_weather_normalised():
    rng = random.Random(3)
    readings, dj = [], {}
    for i in range(84):
        day = START + timedelta(days=i)
        # six weeks of mild autumn (2 DJ), then a six-week ramp to 15 DJ;
        # 6 kWh base + 3 kWh per DJ, ±3 % noise
        dj[day] = 2.0 if i < 42 else 2.0 + 13.0 * (i - 41) / 42
        readings.append((day, round((6_000 + 3_000 * dj[day]) * rng.uniform(0.97, 1.03))))
    raw = detect_anomalies(readings)
    assert raw, "without degree days the ramp looks anomalous: the test must be able to fail"
    assert detect_anomalies(readings, dj) == []
    last_day = readings[-1][0]
    wh, expected, normalised = expected_days(readings, dj)[last_day]
    assert normalised and abs(expected - wh) / wh < 0.1


def test_spike_during_a_cold_snap_is_still_found_when_normalised():
    readings, dj = [], {}
    for i in range(84):
        day = START + timedelta(days=i)
        dj[day] = 2.0 + 13.0 * i / 83
        readings.append((day, round(6_000 + 3_000 * dj[day])))
    for i in (80, 81):
        readings[i] = (readings[i][0], readings[i][1] * 2)
    [episode] = detect_anomalies(readings, dj)
    assert (episode.start, episode.end) == (readings[80][0], readings[81][0]) and episode.weather_normalised


def test_a_whole_week_moderately_high_is_a_week_episode():
    readings = flat_history(70)
    monday = next(d for d, _ in readings[49:] if d.weekday() == 0)
    readings = [(d, 14_000 if monday <= d < monday + timedelta(days=7) else wh) for d, wh in readings]
    [episode] = detect_anomalies(readings)
    # each day is only ×1.4 (< 1.5), but the week is 98 kWh against 70 kWh expected (×1.4 ≥ 1.3, +28 kWh)
    assert episode.kind == "week" and episode.start == monday and episode.days == 7
    assert episode.excess_wh == 28_000


def test_missing_days_are_skipped_not_treated_as_zero():
    readings = flat_history(70)
    readings[30] = (readings[30][0], None)
    readings[37] = (readings[37][0], None)
    assert detect_anomalies(readings) == []
