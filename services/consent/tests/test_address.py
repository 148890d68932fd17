from types import SimpleNamespace

from consent.address import address_warnings, outcome, withheld

DWELLING = SimpleNamespace(street="5 place Grenette", postal_code="38000", insee_code="38185")


def test_a_meter_in_another_municipality_is_a_mismatch_naming_only_the_part():
    warnings = address_warnings(DWELLING, {"street": "5 place Grenette", "postal_code": "38400",
                                           "insee_code": "38421"})
    assert outcome(warnings) == ("mismatch", ["municipality"])


def test_the_same_address_matches_and_an_unavailable_one_is_unknown_not_withheld():
    assert outcome(address_warnings(DWELLING, {"street": "5, Place Grenette", "postal_code": "38000",
                                               "insee_code": "38185"})) == ("match", [])
    assert outcome(address_warnings(DWELLING, None)) == ("unknown", [])
    assert outcome(address_warnings(None, {"insee_code": "38185"})) == ("unknown", [])


def test_only_an_unresolved_or_rejected_mismatch_withholds_the_data():
    checks = ("mismatch", "resident_confirmed", "rejected", "confirmed", "cleared", "match", "unknown", None)
    assert [withheld(SimpleNamespace(address_check=c)) for c in checks] == \
        [True, True, True, False, False, False, False, False]
    assert not withheld(None)
