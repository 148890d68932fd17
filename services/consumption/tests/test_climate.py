from datetime import date
from decimal import Decimal

import pytest

from consumption import climate
from consumption.climate import (
    DegreeDayCsvError, DegreeDays, co2e_days, daily_degree_days, dj_costic, dj_meteo, normalise_heating,
)


def test_degree_day_formulas_match_the_hand_computation():
    assert dj_meteo(-2.0, 6.0) == 16.0  # 18 − (−2 + 6)/2
    assert dj_meteo(15.0, 25.0) == 0.0  # mean 20 > 18
    assert dj_costic(2.0, 10.0) == 12.0  # Tx ≤ 18: 18 − 6
    assert dj_costic(19.0, 28.0) == 0.0  # Tn ≥ 18
    # Tn < 18 < Tx: (18 − 10)·(0.08 + 0.42·(18 − 10)/(24 − 10)) = 8·(0.08 + 0.24) = 2.56
    assert abs(dj_costic(10.0, 24.0) - 2.56) < 1e-9


def test_missing_temperature_is_a_gap_not_a_warm_day():
    result = daily_degree_days([(date(2025, 1, 1), -1.0, 5.0), (date(2025, 1, 2), None, 4.0)])
    assert result == {date(2025, 1, 1): 16.0, date(2025, 1, 2): None}


def test_bundled_degree_days_report_gaps_and_the_conventional_climate():
    dju = DegreeDays.load()
    assert dju.monthly("38384001", "2024-01") is None
    assert ("38384001", "2024-01") in dju.gaps()
    assert dju.conventional_month(1).value == 452.3 and dju.conventional_month(1).base_c == 19
    spread = dju.daily_from_monthly("38384001", date(2024, 1, 1), date(2024, 1, 3))
    assert spread == {date(2024, 1, 1): None, date(2024, 1, 2): None}


def test_normalisation_scales_only_the_heating_share():
    # 10 000 kWh, 70 % heating, a mild year (2 000 DJU) against a 2 500 DJU reference:
    # 3 000 + 7 000 × 2 500 / 2 000 = 3 000 + 8 750 = 11 750
    assert normalise_heating(10_000, 2_000, 2_500, 0.7) == 11_750


def test_co2e_per_day_uses_the_sourced_factor():
    days, factor = co2e_days([(date(2025, 1, 1), 12_000), (date(2025, 1, 2), None)], "electricity")
    # 12 kWh × 0.0461 kgCO2e/kWh (Base Empreinte 2025 mix) = 0.5532 kg
    assert days == [(date(2025, 1, 1), Decimal("0.553")), (date(2025, 1, 2), None)]
    assert factor.kg_per_kwh == Decimal("0.0461") and "publicodes-commun" in factor.source
    gas_days, gas = co2e_days([(date(2025, 1, 1), 30_000)], "gas")
    assert gas_days[0][1] == Decimal("6.450") and "PCS" in gas.unit_basis  # 30 × 0.215
    heat_days, heat = co2e_days([(date(2025, 1, 1), 40_000)], "heat_network", heat_network_id="3802C")
    assert heat.kg_per_kwh == Decimal("0.091") and heat_days[0][1] == Decimal("3.640")  # 40 × 0.091
    _, dpe_gas = co2e_days([], "gas", scheme="dpe")
    assert dpe_gas.kg_per_kwh == Decimal("0.2045")  # 0.227 per kWh PCI ÷ 1.11


HEADER = "station_id,station_name,kind,period,base_c,dju_value,raw_value,status_source\n"


def dju_csv(rows: list[tuple[str, str, str]]) -> str:
    """(kind, period, value) rows of station 38538002."""
    return HEADER + "".join(f"38538002,GRENOBLE - LVD,{k},{p},18,{v},,test\n" for k, p, v in rows)


def test_degree_days_over_a_period_are_spread_by_month_and_set_beside_the_normals():
    dju = DegreeDays.load(dju_csv([("actual", "2025-01", "400"), ("actual", "2025-02", "280"),
                                   ("normal_1991_2020", "01", "360"), ("normal_1991_2020", "02", "300")]))
    observed, normal = dju.period_and_reference("38538002", date(2025, 1, 16), date(2025, 2, 15))
    # 16 January days × 400/31 + 14 February days × 280/28; normals 16 × 360/31 + 14 × 300/28
    assert abs(observed - (16 * 400 / 31 + 140)) < 1e-9 and abs(normal - (16 * 360 / 31 + 150)) < 1e-9
    # A month without its observed value, or without its normal, means no normalisation, not a wrong one.
    assert dju.period_and_reference("38538002", date(2025, 2, 1), date(2025, 3, 2)) is None
    gap = DegreeDays.load(dju_csv([("actual", "2025-01", "400"), ("normal_1991_2020", "01", "")]))
    assert gap.period_and_reference("38538002", date(2025, 1, 1), date(2025, 2, 1)) is None
    assert DegreeDays.load().period_and_reference("38538002", date(2025, 1, 1), date(2025, 2, 1)) is None


def test_a_period_s_degree_days_are_kept_per_catalogue_and_their_number_bounded(monkeypatch):
    dju = DegreeDays.load(dju_csv([("actual", "2025-01", "400"), ("normal_1991_2020", "01", "360")]))
    first = dju.period_and_reference("38538002", date(2025, 1, 1), date(2025, 2, 1))
    assert first == pytest.approx((400, 360))
    calls = []
    monkeypatch.setattr(DegreeDays, "_period_and_reference", lambda self, *key: calls.append(key) or (1.0, 1.0))
    assert dju.period_and_reference("38538002", date(2025, 1, 1), date(2025, 2, 1)) == first and calls == []
    # Another catalogue version computes its own.
    other = DegreeDays.load(dju_csv([("actual", "2025-01", "300"), ("normal_1991_2020", "01", "360")]))
    assert other.period_and_reference("38538002", date(2025, 1, 1), date(2025, 2, 1)) == (1.0, 1.0)
    # Periods named by requests are many: the kept ones never pass the bound.
    monkeypatch.setattr(climate, "PERIODS_KEPT", 10)
    for day in range(1, 26):
        dju.period_and_reference("38538002", date(2025, 1, day), date(2025, 2, 1))
    assert len(dju._periods) <= 10


@pytest.mark.parametrize("content,code", [
    ("station_id,kind,period\n", "degree_days_csv_missing_column"),
    (dju_csv([("actual", "2025-13", "400")]), "degree_days_csv_invalid_period"),
    (dju_csv([("normal_1991_2020", "2025-01", "400")]), "degree_days_csv_invalid_period"),
    (dju_csv([("forecast", "2025-01", "400")]), "degree_days_csv_invalid_kind"),
    (dju_csv([("actual", "2025-01", "cold")]), "degree_days_csv_invalid_number"),
    (dju_csv([("actual", "2025-01", "-3")]), "degree_days_csv_invalid_number"),
    (dju_csv([("actual", "2025-01", "400"), ("actual", "2025-01", "410")]), "degree_days_csv_duplicate"),
    (b"\xff\xfe" + "x".encode("utf-16-le"), "degree_days_csv_encoding"),
    # Found by the API fuzzing as 500s: a short line, and control characters PostgreSQL refuses.
    (dju_csv([("actual", "2025-01", "400")]).rsplit(",", 2)[0] + "\n", "degree_days_csv_invalid_row"),
    (dju_csv([("actual", "2025-01", "400")]).replace("GRENOBLE", "GRE\x00NOBLE"),
     "degree_days_csv_control_character"),
])
def test_a_bad_degree_day_file_is_refused_with_its_reason(content, code):
    with pytest.raises(DegreeDayCsvError) as error:
        DegreeDays.load(content)
    assert error.value.code == code
