"""A meter declaration names a DSO, an energy and a channel that a connector serves together."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from metro.schemas.consent import MeterDeclaration

PRM, PCE = "12345678901234", "GI123456"
HOLDER = {"holder_name": "Dupont", "postal_code": "38000", "email": "jeanne@example.org"}


@pytest.mark.parametrize("body, channel", [
    ({"energy": "electricity", "dso": "enedis", "identifier": PRM}, "dataconnect"),
    ({"energy": "electricity", "dso": "enedis", "channel": "sge", "identifier": PRM}, "sge"),
    ({"energy": "gas", "dso": "grdf", "identifier": PCE, "grdf_holder": HOLDER}, "adict"),
    ({"energy": "electricity", "dso": "enedis", "identifier": " 1234 5678 9012 34 "}, "dataconnect"),
    ({"energy": "fuel_oil", "dso": "manual"}, "manual"),
    ({"energy": "gas", "dso": "manual", "channel": "manual", "label": "old meter"}, "manual"),
])
def test_served_combinations_are_accepted_with_their_default_channel(body, channel):
    assert MeterDeclaration.model_validate(body).channel == channel


@pytest.mark.parametrize("body, code", [
    ({"energy": "gas", "dso": "enedis", "identifier": PRM}, "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "grdf", "identifier": PCE}, "energy_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis", "channel": "adict", "identifier": PRM},
     "channel_not_served_by_dso"),
    ({"energy": "gas", "dso": "grdf", "channel": "sge", "identifier": PCE}, "channel_not_served_by_dso"),
    ({"energy": "electricity", "dso": "regie_inconnue", "identifier": PRM}, "dso_not_served"),
    ({"energy": "electricity", "dso": "greenalp", "identifier": PRM}, "local_holder_required"),
    ({"energy": "water", "dso": "greenalp", "identifier": "AB123456"}, "energy_not_served_by_dso"),
    ({"energy": "gas", "dso": "grdf", "identifier": PCE}, "grdf_holder_required"),
    ({"energy": "electricity", "dso": "enedis", "identifier": "١٢٣٤٥٦٧٨٩٠١٢٣٤"}, "invalid_identifier"),
    ({"energy": "wood", "dso": "manual", "identifier": "123"}, "invalid_identifier"),
    ({"energy": "wood", "dso": "enedis", "channel": "manual"}, "channel_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis", "channel": "manual"}, "channel_not_served_by_dso"),
    ({"energy": "electricity", "dso": "enedis"}, "missing_field"),
])
def test_combinations_no_connector_serves_are_refused_with_a_stable_code(body, code):
    with pytest.raises(ValidationError) as raised:
        MeterDeclaration.model_validate(body)
    assert raised.value.errors()[0]["ctx"]["code"] == code


def test_the_schema_states_each_served_combination_as_the_validator_enforces_it():
    import re
    schema = MeterDeclaration.model_json_schema()
    variants = {v["properties"]["dso"]["const"]: v for v in schema["oneOf"]}
    assert schema["properties"]["dso"]["enum"] == sorted(variants) == [
        "cciag", "eau_de_grenoble", "enedis", "grdf", "greenalp", "manual"]
    greenalp = [v for v in schema["oneOf"] if v["properties"]["dso"]["const"] == "greenalp"]
    assert sorted(v["properties"]["energy"]["const"] for v in greenalp) == ["electricity", "gas"]
    assert all(v["required"] == ["identifier", "local_holder"] for v in greenalp)
    assert variants["grdf"]["required"] == ["grdf_holder", "identifier"]
    assert variants["manual"]["properties"]["identifier"] == {"type": "null"}
    prm = variants["enedis"]["properties"]["identifier"]["pattern"]
    pce = variants["grdf"]["properties"]["identifier"]["pattern"]
    for typed, valid in [(" 1234 5678 9012 34 ", True), ("1234567890123", False), ("١٢٣٤٥٦٧٨٩٠١٢٣٤", False)]:
        assert bool(re.match(prm, typed)) is valid
    assert re.match(pce, "GI 123 456") and not re.match(pce, "gi123456")
