from decimal import Decimal

import pytest

from consumption import models
from consumption.privacy import PERSONAL_DATA
from consumption.contracts import offpeak_hours_per_day


def test_every_table_with_an_account_a_holder_or_a_meter_is_in_the_personal_data_registry():
    listed = {entry.table.name for entry in PERSONAL_DATA}
    personal = {t.name for t in models.metadata.tables.values()
                if {"account_id", "meter_id", "holder_id"} & set(t.c.keys())}
    assert personal == listed
    assert all(entry.purpose and entry.retention for entry in PERSONAL_DATA)


@pytest.mark.parametrize("text, hours", [
    ("HC (22H00-6H00)", Decimal(8)),
    ("22:00-06:00", Decimal(8)),
    ("HC (1H30-8H00;12H30-14H00)", Decimal(8)),
    ("HC (23H30-7H30)", Decimal(8)),
    ("02:00-07:00", Decimal(5)),
    ("", None),
    ("whenever", None),
])
def test_offpeak_hours_from_dso_and_resident_notations(text, hours):
    assert offpeak_hours_per_day(text) == hours
