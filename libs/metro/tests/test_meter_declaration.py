"""A meter declaration names a DSO, an energy and a channel that a connector serves together."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from metro.schemas.consent import MeterDeclaration

PRM, PCE = "12345678901234", "GI123456"


@pytest.mark.parametrize("body, channel", [
    ({"energy": "electricity", "dso": "enedis", "identifier": PRM}, "dataconnect"),
    ({"energy": "electricity", "dso": "enedis", "channel": "sge", "identifier": PRM}, "sge"),
    ({"energy": "gas", "dso": "grdf", "identifier": PCE}, "adict"),
])
def test_served_combinations_are_accepted_with_their_default_channel(body, channel):
    assert MeterDeclaration.model_validate(body).channel == channel


@pytest.mark.parametrize("body, code", [
    ({"energy": "gas", "dso": "enedis", "identifier": PRM}, "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "grdf", "identifier": PCE}, "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis", "channel": "adict", "identifier": PRM},
     "channel_not_served_by_dso"),
    ({"energy": "gas", "dso": "grdf", "channel": "sge", "identifier": PCE}, "channel_not_served_by_dso"),
    ({"energy": "electricity", "dso": "greenalp", "identifier": PRM}, "dso_not_served"),
])
def test_combinations_no_connector_serves_are_refused_with_a_stable_code(body, code):
    with pytest.raises(ValidationError) as raised:
        MeterDeclaration.model_validate(body)
    assert raised.value.errors()[0]["ctx"]["code"] == code
