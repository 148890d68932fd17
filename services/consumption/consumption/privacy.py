"""Personal data held by the consumption service: every table with an account or a meter reference."""
from __future__ import annotations

from consumption.models import (anomaly_episodes, anomaly_scan_queue, contracts, load_curve_days, meter_summaries, meters,
                                monthly_rollups, price_queue, priced_days, profiles, readings, renovations, statements)
from consumption import repository
from metro.errors import AddressUnconfirmed
from metro.personal_data import PersonalTable

# Children before parents: erasure walks the list top to bottom.
PERSONAL_DATA: list[PersonalTable] = [
    PersonalTable(readings, "daily consumption shown to the resident, priced and compared",
                  "while the account exists; at most 3 years of history", meter_column="meter_id", measured=True),
    PersonalTable(load_curve_days, "the load curve (average power per half-hour or the DSO's step) and each day's "
                  "maximum power, shown to the resident as a day or a week",
                  "while the account exists; at most 24 months of history", meter_column="meter_id", measured=True),
    PersonalTable(priced_days, "each day's euros, priced once from its reading and the contract, to serve series fast",
                  "as the reading it was priced from", meter_column="meter_id", measured=True),
    PersonalTable(monthly_rollups, "each month's kWh, euros and days present, for comparisons and aggregates",
                  "as the readings it sums", meter_column="meter_id", measured=True),
    PersonalTable(meter_summaries, "the summary's figures of each meter as last computed, to serve the app's home "
                  "page fast", "until the meter's next pricing replaces it", meter_column="meter_id", measured=True),
    PersonalTable(price_queue, "meters waiting to be priced after new readings, a contract or a catalogue",
                  "until priced, minutes", meter_column="meter_id"),
    PersonalTable(statements, "the indexes and deliveries the resident stated for a meter no channel reads, and the "
                  "accuracy control's findings they confirmed", "while the account exists",
                  account_column="account_id", meter_column="meter_id"),
    PersonalTable(contracts, "tariff option, subscribed power and off-peak hours to compute euros",
                  "while the account exists", meter_column="meter_id"),
    PersonalTable(anomaly_episodes, "consumption anomalies already announced to the resident (never twice)",
                  "while the account exists", meter_column="meter_id", measured=True),
    PersonalTable(anomaly_scan_queue, "meters waiting for an anomaly scan after new readings",
                  "until the scan, minutes", meter_column="meter_id"),
    PersonalTable(renovations, "works declared on the dwelling, to weigh consumption before and after them",
                  "while the account exists", account_column="holder_id"),
    PersonalTable(profiles, "dwelling profile (municipality, surface, occupants, heating) for peer groups",
                  "while the account exists", account_column="account_id"),
    PersonalTable(meters, "which account owns which meter, to authorise every read",
                  "while the account exists", account_column="account_id", meter_column="meter_id"),
]


async def withheld_meters(session, account_id, meter_ids) -> dict:
    """Meters held by consent's accuracy control: their measurements are exported to nobody, as they are shown to
    nobody, until the resident confirms the meter or corrects the dwelling."""
    return {m: AddressUnconfirmed.code for m in await repository.held_meters(session, account_id, meter_ids)}


async def before_erase(session, account_id, meter_ids) -> None:
    # An anomaly scan or a pricing under way commits first (its events are then published before the erasure
    # goes on, its rows go with the rest); one that starts later finds no meter.
    await repository.lock_meters(session, account_id, meter_ids)


async def after_erase(session, account_id, meter_ids) -> None:
    await repository.mark_erased(session, meter_ids)
