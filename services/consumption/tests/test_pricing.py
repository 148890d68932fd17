from datetime import date, timedelta
from decimal import Decimal

import pytest

from consumption.pricing import Contract, period_total, price_days, to_date_totals
from consumption.tariffs import Catalogue, TariffCsvError, TariffNotFound

CATALOGUE = Catalogue.bundled()
BASE_6 = Contract(energy="electricity", option="BASE", kva=6)
HEADER = "valid_from,valid_to,option,kva,period,subscription_eur_ttc_year,price_eur_ttc_kwh,source\n"


def days(start: date, end: date, wh: int | None) -> list[tuple[date, int | None]]:
    return [(start + timedelta(days=i), wh) for i in range((end - start).days)]


def test_year_spanning_two_tariff_versions_prices_each_day_with_the_version_in_force():
    readings = days(date(2024, 8, 1), date(2025, 8, 1), 10_000)
    prices = price_days(readings, BASE_6, CATALOGUE)
    by_day = {p.day: p for p in prices}
    # 2025-01-31 (last day of the 2024-02-01 version):
    # 10 kWh × 0.2516 + 151.86 / 365 = 2.516 + 0.416055 → 2.93
    assert by_day[date(2025, 1, 31)].eur == Decimal("2.93")
    # 2025-02-01 (new version from 00:00): 10 kWh × 0.2016 + 165.17 / 365 = 2.016 + 0.452521 → 2.47
    assert by_day[date(2025, 2, 1)].eur == Decimal("2.47")
    assert by_day[date(2025, 2, 1)].tariff_valid_from == date(2025, 2, 1)

    total = period_total(prices, date(2024, 8, 1), date(2025, 8, 1))
    # 184 days (Aug 2024 – Jan 2025) at 0.2516, 181 days (Feb – Jul 2025) at 0.2016, 10 kWh a day
    energy = 184 * 10 * Decimal("0.2516") + 181 * 10 * Decimal("0.2016")  # 462.944 + 364.896 = 827.84
    # subscription: 153 days of 2024 at 151.86/366, 31 days of Jan 2025 at 151.86/365, 181 days at 165.17/365
    subscription = (153 * Decimal("151.86") / 366 + 31 * Decimal("151.86") / 365
                    + 181 * Decimal("165.17") / 365)  # 63.482459 + 12.897699 + 81.906219 = 158.286378
    assert total.energy_eur == Decimal("827.84")
    assert total.subscription_eur == subscription.quantize(Decimal("0.01")) == Decimal("158.29")
    assert total.eur == (energy + subscription).quantize(Decimal("0.01")) == Decimal("986.13")
    assert total.wh == 365 * 10_000 and not total.partial and not total.estimated


def test_leap_day_carries_one_366th_of_the_annual_subscription():
    [leap] = price_days([(date(2024, 2, 29), 5_000)], BASE_6, CATALOGUE)
    # 151.86 / 366 = 0.414918; 5 kWh × 0.2516 = 1.258; 1.672918 → 1.67
    assert leap.subscription_eur == Decimal("0.414918")
    assert leap.energy_eur == Decimal("1.258000")
    assert leap.eur == Decimal("1.67")
    [ordinary] = price_days([(date(2025, 1, 15), 5_000)], BASE_6, CATALOGUE)
    assert ordinary.subscription_eur == Decimal("0.416055")  # 151.86 / 365


def test_whole_leap_year_sums_subscriptions_to_the_annual_figures():
    prices = price_days(days(date(2024, 1, 1), date(2025, 1, 1), 0), BASE_6, CATALOGUE)
    total = period_total(prices)
    # January at the 2023-08 version (149.96 €/yr), the 335 other days at 151.86 €/yr, each /366
    expected = 31 * Decimal("149.96") / 366 + 335 * Decimal("151.86") / 366  # 12.701530 + 138.995082
    assert total.subscription_eur == expected.quantize(Decimal("0.01")) == Decimal("151.70")


def test_missing_days_make_the_total_partial_and_are_listed():
    readings = [(date(2025, 3, 1), 8_000), (date(2025, 3, 2), None), (date(2025, 3, 4), 8_000)]
    prices = price_days(readings, BASE_6, CATALOGUE)
    assert prices[1].eur is None and prices[1].method == "no reading"
    total = period_total(prices, date(2025, 3, 1), date(2025, 3, 5))
    assert total.partial
    assert total.missing_days == [date(2025, 3, 2), date(2025, 3, 3)]
    assert total.priced_days == 2 and total.days == 4
    # 2 × (8 kWh × 0.2016 + 165.17/365) = 2 × (1.6128 + 0.452521) = 4.130642 → 4.13
    assert total.eur == Decimal("4.13")


def test_offpeak_contract_with_daily_totals_only_is_estimated_and_says_how():
    contract = Contract(energy="electricity", option="HPHC", kva=6, offpeak_hours=Decimal(8))
    [day] = price_days([(date(2025, 9, 10), 12_000)], contract, CATALOGUE)
    # HC share 8/24 = 1/3: 4 kWh × 0.1635 (HC) + 8 kWh × 0.2081 (HP) = 0.654 + 1.6648 = 2.3188
    # + 188.88 / 365 = 0.517479 → 2.836279 → 2.84
    assert day.estimated
    assert "8 off-peak hours / 24 h" in day.method
    assert day.energy_eur == Decimal("2.318800")
    assert day.eur == Decimal("2.84")
    [measured] = price_days([(date(2025, 9, 10), 12_000)], contract, CATALOGUE,
                            split={date(2025, 9, 10): {"HP": 6_000, "HC": 6_000}})
    # measured: 6 × 0.2081 + 6 × 0.1635 = 1.2486 + 0.981 = 2.2296 (+ 0.517479 = 2.747079 → 2.75)
    assert not measured.estimated and measured.eur == Decimal("2.75")


def test_tempo_subscription_missing_in_the_data_is_carried_and_flagged():
    contract = Contract(energy="electricity", option="TEMPO", kva=6,
                        tempo_colours={date(2026, 9, 1): "BLEU"})
    [day] = price_days([(date(2026, 9, 1), 9_000)], contract, CATALOGUE,
                       split={date(2026, 9, 1): {"HP": 6_000, "HC": 3_000}})
    # 6 × 0.1654 + 3 × 0.1356 = 0.9924 + 0.4068 = 1.3992
    # + subscription 187.08 (2026-02 version) / 365 = 0.512548 → 1.911748 → 1.91
    assert day.eur == Decimal("1.91")
    assert day.estimated and "carried" in day.method


def test_gas_benchmark_price_and_carried_forward_month():
    contract = Contract(energy="gas", gas_band=12_000)
    [december, june] = price_days([(date(2025, 12, 5), 100_000), (date(2026, 6, 5), 100_000)], contract,
                                  CATALOGUE)
    # 100 kWh × 0.10282 + 330.8 / 365 = 10.282 + 0.906301 → 11.19
    assert december.eur == Decimal("11.19") and not december.estimated
    assert june.estimated and "carried forward" in june.method


def test_day_before_the_catalogue_is_unpriced_not_zero():
    prices = price_days([(date(2022, 12, 31), 5_000)], BASE_6, CATALOGUE)
    assert prices[0].eur is None
    assert period_total(prices).unpriced_days == [date(2022, 12, 31)]


@pytest.mark.parametrize("body, code", [
    ("valid_from,option\n2025-01-01,BASE\n", "tariff_csv_missing_column"),
    (HEADER + "2025-02-01,,BASE,7,BASE,100,0.2,src\n", "tariff_csv_bad_kva"),
    (HEADER + "2025-02-01,,BASE,6,BASE,100,abc,src\n", "tariff_csv_bad_number"),
    (HEADER + "2025-02-01,,BASE,6,BASE,100,20.16,src\n", "tariff_csv_out_of_range"),
    (HEADER + "2025-02-01,,BASE,6,BASE,100,0.2,\n", "tariff_csv_missing_source"),
    (HEADER + "2025-02-01,,HPHC,6,HP,100,0.2,src\n", "tariff_csv_incomplete_version"),
    (HEADER + "2025-02-01,,BASE,6,BASE,100,0.2,src\n2025-08-01,,BASE,6,BASE,110,0.2,src\n",
     "tariff_csv_overlap"),
    (HEADER + "2025-13-01,,BASE,6,BASE,100,0.2,src\n", "tariff_csv_bad_date"),
    (HEADER, "tariff_csv_empty"),
    (b"\xff\xfe\x00", "tariff_csv_encoding"),
    (HEADER + "2025-02-01,,BASE,6,BASE,100,0.2,s\x00rc\n", "tariff_csv_control_character"),
])
def test_uploaded_tariff_file_is_rejected_with_a_stable_code(body, code):
    with pytest.raises(TariffCsvError) as error:
        CATALOGUE.with_electricity_csv(body)
    assert error.value.code == code


def test_uploaded_tariff_file_replaces_the_catalogue_and_keeps_sources():
    body = HEADER + ("2025-02-01,2025-07-31,BASE,6,BASE,120.00,0.2000,CRE test grid\n"
                     "2025-08-01,,BASE,6,BASE,130.00,0.1900,CRE next grid\n")
    catalogue = CATALOGUE.with_electricity_csv(body.encode())
    tariff = catalogue.electricity(date(2030, 1, 1), "BASE", 6)
    assert tariff.price("BASE") == Decimal("0.1900") and tariff.sources == ("CRE next grid",)
    with pytest.raises(TariffNotFound):
        catalogue.electricity(date(2025, 1, 31), "BASE", 6)
    assert CATALOGUE.electricity(date(2025, 1, 31), "BASE", 6).price("BASE") == Decimal("0.2516")


def test_month_to_date_and_forecast_from_daily_mean():
    values = days(date(2025, 3, 1), date(2025, 3, 11), 10_000)
    values[4] = (date(2025, 3, 5), None)
    result = to_date_totals(values, date(2025, 3, 10))
    assert result.month_total == 90_000 and result.month_missing_days == [date(2025, 3, 5)]
    # mean of 9 days with data = 10 000 Wh × 31 days = 310 000
    assert result.month_forecast == 310_000 and result.forecast_method.startswith("daily mean")
    assert result.year_days_with_data == 9 and len(result.year_missing_days) == 69 - 9


def test_month_forecast_follows_last_years_profile_when_complete():
    last_year = (days(date(2024, 3, 1), date(2024, 3, 11), 10_000)
                 + days(date(2024, 3, 11), date(2024, 4, 1), 14_286))
    this_year = days(date(2025, 3, 1), date(2025, 3, 11), 10_000)
    result = to_date_totals(last_year + this_year, date(2025, 3, 10))
    # last year: 100 000 in the first 10 days, 100 000 + 21 × 14 286 = 400 006 over March
    # forecast = 10 000 × 10 × 400 006 / 100 000 = 400 006
    assert result.month_forecast == Decimal("400006.00")
    assert result.forecast_method.startswith("same period last year")


@pytest.mark.parametrize("contract", [
    BASE_6,
    Contract(energy="electricity", option="HPHC", kva=9, offpeak_hours=Decimal(8)),
    Contract(energy="electricity", option="TEMPO", kva=6, offpeak_hours=Decimal(8),
             tempo_colours={date(2025, 1, 15): "ROUGE"}),
    Contract(energy="gas", gas_band="chauffage"),
])
def test_the_daily_pricer_gives_the_same_euros_as_price_day_across_versions_and_a_leap_year(contract):
    from consumption.pricing import DailyPricer, price_day
    pricer = DailyPricer(contract, CATALOGUE)
    for day, _ in days(date(2023, 12, 1), date(2026, 12, 1), None)[::4]:
        wh = 7_777 + day.toordinal() % 5_000
        slow, fast = price_day(day, wh, contract, CATALOGUE), pricer.price(day, wh)
        assert (fast.eur, fast.energy_eur, fast.subscription_eur, fast.estimated, fast.tariff_valid_from) == \
            (slow.eur, slow.energy_eur, slow.subscription_eur, slow.estimated, slow.tariff_valid_from), day
