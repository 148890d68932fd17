import gzip
import io
import tempfile
from pathlib import Path

import pytest

from consent.addresses import read_rows
from metro.errors import AppError

EXTRACT = Path(__file__).resolve().parents[3] / "tests" / "data" / "adresses-38-extract.csv"


def test_only_the_metropoles_addresses_are_read_with_number_and_repetition_index_joined():
    rows = {r["id"]: r for r in read_rows(io.BytesIO(EXTRACT.read_bytes()))}
    assert len(rows) == 21 and not any(r["insee_code"] == "38563" for r in rows.values())
    bis = rows["38185_1950_00005_bis"]
    assert (bis["number"], bis["street"], bis["postal_code"], bis["municipality"]) == (
        "5 bis", "Place Grenette", "38000", "Grenoble")
    assert bis["search"] == "5 bis place grenette 38000 grenoble"
    assert rows["38185_b001_99999"]["number"] == ""  # a lieu-dit has no street number
    assert rows["38421_1120_00005"]["search"].endswith("38400 saint martin d heres")


def test_a_gzipped_file_reads_the_same_and_a_file_of_another_shape_is_refused_by_code():
    plain = list(read_rows(io.BytesIO(EXTRACT.read_bytes())))
    assert list(read_rows(io.BytesIO(gzip.compress(EXTRACT.read_bytes())))) == plain
    # As the API spools it: a file opened for writing too must still be read, not written, by gzip.
    with tempfile.SpooledTemporaryFile() as spooled:
        spooled.write(gzip.compress(EXTRACT.read_bytes()))
        spooled.seek(0)
        assert list(read_rows(spooled)) == plain
    with pytest.raises(AppError) as refused:
        list(read_rows(io.BytesIO(b"id,numero\n1,2\n")))
    assert refused.value.code == "address_file_missing_column"
