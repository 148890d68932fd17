"""The R151 reader against files the SGE sandbox's own generator writes (the real producer is Enedis)."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from ingest_sge.energy import IndexState, daily_energy
from ingest_sge.r151 import BadFile, KeyRing, Limits, decrypt, open_xml, parse_file_name, parse_r151, read_file
from tests.sandboxes.sge import generator as gen

START = dt.date(2026, 2, 1)
DAYS = [START + dt.timedelta(days=i) for i in range(30)]
KEYS = KeyRing(aes_keys=(bytes(32), gen.SANDBOX_AES_KEY))
QUIRKY = {
    "09111642617347": gen.Scenario(replacement_day=dt.date(2026, 2, 10)),
    "17745151915440": gen.Scenario(missing_days={dt.date(2026, 2, 14)}),
    "14290738060355": gen.Scenario(jump_day=dt.date(2026, 2, 20)),
    "99740456235087": gen.Scenario(unknown_calendar_days={dt.date(2026, 2, 5)}),
    "30000000000017": gen.Scenario(calendar_change_day=dt.date(2026, 2, 25)),
}
PRMS = sorted(set(QUIRKY) | {f"{20000000000000 + i * 7919:014d}" for i in range(40)})


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> gen.Publisher:
    pub = gen.Publisher(tmp_path_factory.mktemp("sge"))
    pub.subscribe(PRMS)
    pub.scenarios.update(QUIRKY)
    pub.publish_days(DAYS)
    return pub


def _files(pub: gen.Publisher) -> list[Path]:
    return sorted(pub.drop.glob("ERDF_R151_*"), key=lambda p: parse_file_name(p.name).sequence)


def _all_energy(pub: gen.Publisher, states: dict | None = None):
    """File by file, the way the worker runs: states carried between files."""
    states = dict(states or {})
    days = []
    kva = {prm: gen.profile(prm).kva for prm in PRMS}
    for path in _files(pub):
        batch = daily_energy(read_file(path.name, path.read_bytes(), KEYS), states, kva)
        states.update(batch.states)
        days += batch.days
    return days, states


def test_energy_equals_ground_truth_over_30_days_for_every_prm_and_quirk(drop):
    days, _ = _all_energy(drop)
    got = {(d.prm, d.day): d.energy_wh for d in days}
    for prm in PRMS:
        truth = drop.ground_truth(prm, DAYS[0], DAYS[-1])
        mine = {day: got.get((prm, day)) for day in truth}
        assert mine == truth, prm
    measured = sum(1 for d in days if d.quality == "measured")
    assert measured >= len(PRMS) * 28 - 12


def test_each_break_carries_its_reason_and_is_never_differenced(drop):
    days, _ = _all_energy(drop)
    quality = {(d.prm, d.day): d.quality for d in days}
    assert quality[("09111642617347", dt.date(2026, 2, 10))] == "index_decreased"
    assert quality[("09111642617347", dt.date(2026, 2, 11))] == "measured"
    assert quality[("17745151915440", dt.date(2026, 2, 14))] == "reading_missing"
    assert quality[("17745151915440", dt.date(2026, 2, 15))] == "previous_index_missing"
    assert quality[("14290738060355", dt.date(2026, 2, 20))] == "implausible_jump"
    assert quality[("14290738060355", dt.date(2026, 2, 21))] == "measured"
    assert quality[("99740456235087", dt.date(2026, 2, 5))] == "calendar_unknown"
    assert quality[("99740456235087", dt.date(2026, 2, 6))] == "previous_index_missing"
    assert quality[("30000000000017", dt.date(2026, 2, 25))] == "calendar_changed"
    assert quality[(PRMS[-1], DAYS[0])] == "previous_index_missing"


def test_state_from_an_earlier_file_lets_the_first_day_of_a_new_file_be_measured(drop):
    prm = PRMS[-1]
    p = gen.profile(prm)
    previous = gen.reading(p, gen.Scenario(), DAYS[0] - dt.timedelta(days=1))
    state = {prm: IndexState(previous.day, previous.calendar, previous.registers)}
    days, states = _all_energy(drop, state)
    first = next(d for d in days if d.prm == prm and d.day == DAYS[0])
    assert first.quality == "measured"
    assert first.energy_wh == sum(gen.reading(p, gen.Scenario(), DAYS[0]).registers.values()) \
        - sum(previous.registers.values())
    assert states[prm].day == DAYS[-1]


def test_republished_file_with_same_name_changes_nothing(drop):
    _, states = _all_energy(drop)
    path = _files(drop)[-1]
    before = path.read_bytes()
    drop.republish(path.name)
    after = path.read_bytes()
    assert before != after
    batch = daily_energy(read_file(path.name, after, KEYS), states)
    assert batch.days == [] and batch.states == {}
    assert len(batch.ignored) == len(PRMS)


def test_a_batch_out_of_order_with_a_day_read_twice_keeps_the_newest_reading_in_day_order(drop):
    files = [list(read_file(p.name, p.read_bytes(), KEYS)) for p in _files(drop)]
    kva = {prm: gen.profile(prm).kva for prm in PRMS}
    sequential, states = _all_energy(drop)
    batch = [r for f in reversed(files) for r in f]
    whole = daily_energy(batch, {}, kva)
    assert whole.days == sorted(sequential) and whole.states == states

    r = next(r for r in files[4] if r.prm not in QUIRKY)
    newer = r._replace(registers={c: v + 7 for c, v in r.registers.items()}, created=r.created + dt.timedelta(hours=1))
    want = {(d.prm, d.day): (d.energy_wh, d.quality) for d in sequential}
    moved = 7 * len(r.registers)
    day, next_day = (r.prm, r.day), (r.prm, r.day + dt.timedelta(days=1))
    want[day] = (want[day][0] + moved, "measured")
    want[next_day] = (want[next_day][0] - moved, "measured")
    for readings in ([newer, *batch], [*batch, newer]):
        assert {(d.prm, d.day): (d.energy_wh, d.quality) for d in daily_energy(readings, {}, kva).days} == want


def test_readings_carry_quirks_of_real_files(drop):
    readings = [r for path in _files(drop)[:1] for r in read_file(path.name, path.read_bytes(), KEYS)]
    assert {r.prm for r in readings} == set(PRMS)
    by_prm = {r.prm: r for r in readings}
    for prm, r in by_prm.items():
        p = gen.profile(prm)
        assert (r.max_power_va is None) == (not p.max_power_published)
        if p.supplier_unknown:
            assert set(r.supplier_registers) == {"INCONNU"}
            assert sum(r.supplier_registers.values()) != sum(r.registers.values())
    assert any(gen.profile(prm).mojibake_labels for prm in by_prm)
    assert {r.calendar for r in readings} >= {"DI000001", "DI000002", "DI000003"}


def test_file_name_grammar_and_split_at_3000_prms(tmp_path):
    pub = gen.Publisher(tmp_path)
    pub.subscribe(f"{30000000000000 + i:014d}" for i in range(3001))
    names = pub.publish_days([START])
    parsed = [parse_file_name(n) for n in names]
    assert [(f.x, f.y) for f in parsed] == [(1, 2), (2, 2)]
    assert len({f.sequence for f in parsed}) == 1
    counts = [len({r.prm for r in read_file(n, (pub.drop / n).read_bytes(), KEYS)}) for n in names]
    assert counts == [3000, 1]
    first = next(read_file(names[0], (pub.drop / names[0]).read_bytes(), KEYS))
    assert first.created.replace(tzinfo=None) == parsed[0].created
    assert first.created.utcoffset() == dt.timedelta(hours=1)


@pytest.mark.parametrize("kind, reason", [
    ("wrong_key", "decrypt_failed"),
    ("truncated_zip", "bad_zip"),
    ("invalid_xml", "invalid_xml"),
    ("xml_bomb", "xml_entities_forbidden"),
])
def test_bad_files_fail_with_a_stable_reason(drop, kind, reason):
    name = drop.inject(kind)
    with pytest.raises(BadFile) as err:
        list(read_file(name, (drop.drop / name).read_bytes(), KEYS))
    assert err.value.reason == reason


def test_200_mb_file_is_refused_as_too_large_without_inflating_it(drop):
    name = drop.inject("large_file")
    data = (drop.drop / name).read_bytes()
    assert len(data) < 64 * 1024 * 1024
    with pytest.raises(BadFile) as err:
        list(read_file(name, data, KEYS))
    assert err.value.reason == "too_large"


def test_member_lying_about_its_size_is_stopped_while_inflating():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ERDF_R151_x.xml", b"<R151>" + b" " * (8 << 20) + b"</R151>")
    raw = bytearray(buf.getvalue())
    # Rewrite the declared uncompressed size (local header and central directory) to 100 bytes.
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = raw.find(sig)
        raw[at + offset:at + offset + 4] = (100).to_bytes(4, "little")
    with pytest.raises(BadFile) as err:
        list(parse_r151(open_xml(bytes(raw), Limits(max_uncompressed_bytes=1 << 20))))
    assert err.value.reason in {"too_large", "zip_bomb", "bad_zip"}
    with pytest.raises(BadFile) as err:
        list(parse_r151(open_xml(buf.getvalue(), Limits(max_ratio=50))))
    assert err.value.reason == "zip_bomb"


def test_clear_zip_and_unknown_names_are_refused():
    with pytest.raises(BadFile) as err:
        decrypt("ERDF_R151_a.zip", b"PK\x03\x04" + bytes(60), KEYS)
    assert err.value.reason == "decrypt_failed"
    with pytest.raises(BadFile) as err:
        parse_file_name("ENEDIS_R171_foo.zip")
    assert err.value.reason == "not_r151_name"


def test_real_excerpt_a_reads_to_the_published_index():
    xml = (b'<?xml version="1.0" encoding="UTF-8"?><R151 xmlns:xsi ="http://www.w3.org/2001/XMLSchema-instance">'
           b"<En_Tete_Flux><Identifiant_Flux>R151</Identifiant_Flux><Date_Creation>2022-02-04T03:07:26+01:00"
           b"</Date_Creation><Numero_Abonnement>3184182</Numero_Abonnement><Unite_Mesure_Index>Wh"
           b"</Unite_Mesure_Index><Unite_Mesure_Puissance>VA</Unite_Mesure_Puissance></En_Tete_Flux>"
           b"<PRM><Id_PRM>09111642617347</Id_PRM><Donnees_Releve><Date_Releve>2022-02-02</Date_Releve>"
           b"<Id_Calendrier_Distributeur>DI000001</Id_Calendrier_Distributeur><Id_Affaire>M02SXIXD</Id_Affaire>"
           b"<Classe_Temporelle_Distributeur><Id_Classe_Temporelle>BASE</Id_Classe_Temporelle><Rang_Cadran>1"
           b"</Rang_Cadran><Valeur>9744495</Valeur></Classe_Temporelle_Distributeur><Puissance_Maximale>"
           b"<Valeur>3817</Valeur></Puissance_Maximale></Donnees_Releve></PRM></R151>")
    (r,) = list(parse_r151(io.BytesIO(xml)))
    state = {r.prm: IndexState(dt.date(2022, 2, 1), "DI000001", {"BASE": 9_723_814})}
    batch = daily_energy([r], state, {r.prm: 36})
    assert [(d.day, d.energy_wh, d.quality) for d in batch.days] == [(dt.date(2022, 2, 2), 20_681, "measured")]
    assert batch.days[0].max_power_va == 3817


_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><R151><En_Tete_Flux><Identifiant_Flux>R151</Identifiant_Flux>'
         b"<Date_Creation>2022-02-04T03:07:26+01:00</Date_Creation><Unite_Mesure_Index>kWh</Unite_Mesure_Index>"
         b"<Unite_Mesure_Puissance>kVA</Unite_Mesure_Puissance></En_Tete_Flux>")


def test_unusual_but_valid_layouts_read_the_same_values():
    """Elements out of the usual order, a field given twice (the last counts), a class with two ids (the first
    counts), comments: what the R151 says is read whatever the layout, in the file's units."""
    xml = _HEAD + (
        b"<PRM><Donnees_Releve><Id_Affaire>A1</Id_Affaire><Date_Releve>2022-02-01</Date_Releve>"
        b"<Classe_Temporelle_Distributeur><Valeur>12</Valeur><!-- c --><Rang_Cadran>1</Rang_Cadran>"
        b"<Id_Classe_Temporelle>HC</Id_Classe_Temporelle><Id_Classe_Temporelle>XX</Id_Classe_Temporelle>"
        b"<Valeur>99</Valeur></Classe_Temporelle_Distributeur>"
        b"<Classe_Temporelle_Distributeur><Id_Classe_Temporelle>HP</Id_Classe_Temporelle><Valeur>30</Valeur>"
        b"</Classe_Temporelle_Distributeur><Date_Releve> 2022-02-02 </Date_Releve>"
        b"<Puissance_Maximale><Valeur>6</Valeur></Puissance_Maximale>"
        b"<Id_Calendrier_Distributeur> DI000002 </Id_Calendrier_Distributeur></Donnees_Releve>"
        b"<Id_PRM>09111642617347</Id_PRM></PRM></R151>")
    (r,) = list(parse_r151(io.BytesIO(xml)))
    assert (r.prm, r.day, r.calendar, dict(r.registers), r.supplier_calendar, dict(r.supplier_registers),
            r.max_power_va, r.affaire) == ("09111642617347", dt.date(2022, 2, 2), "DI000002",
                                           {"HC": 12_000, "HP": 30_000}, "", {}, 6_000, "A1")
    assert r.created == dt.datetime.fromisoformat("2022-02-04T03:07:26+01:00")


@pytest.mark.parametrize("register", [b"<Id_Classe_Temporelle>HC</Id_Classe_Temporelle>",
                                      b"<Id_Classe_Temporelle>HC</Id_Classe_Temporelle><Valeur/>",
                                      b"<Id_Classe_Temporelle>HC</Id_Classe_Temporelle><Valeur>1e3</Valeur>"])
def test_a_register_without_a_whole_value_is_a_bad_value(register):
    xml = _HEAD + (b"<PRM><Id_PRM>09111642617347</Id_PRM><Donnees_Releve><Date_Releve>2022-02-02</Date_Releve>"
                   b"<Classe_Temporelle_Distributeur>" + register + b"</Classe_Temporelle_Distributeur>"
                   b"</Donnees_Releve></PRM></R151>")
    with pytest.raises(BadFile) as err:
        list(parse_r151(io.BytesIO(xml)))
    assert err.value.reason == "bad_value"


def _zip_of(xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ERDF_R151_x.xml", xml)
    return buf.getvalue()


def _inflating_threads() -> list:
    import threading
    import time

    deadline = time.monotonic() + 5
    while (alive := [t for t in threading.enumerate() if t.name == "sge-inflate"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def test_a_file_read_in_part_or_refused_midway_leaves_no_inflating_thread():
    """The member inflates in a thread ahead of the parser: a file quarantined at its 2 000th PRM, or one
    whose reader stops early, must not leave that thread behind (one per file would pile up in the worker)."""
    prm = (b"<PRM><Id_PRM>09111642617347</Id_PRM><Donnees_Releve><Date_Releve>2022-02-02</Date_Releve>"
           b"<Id_Calendrier_Distributeur>DI000001</Id_Calendrier_Distributeur><Classe_Temporelle_Distributeur>"
           b"<Id_Classe_Temporelle>BASE</Id_Classe_Temporelle><Valeur>%s</Valeur></Classe_Temporelle_Distributeur>"
           b"</Donnees_Releve></PRM>\n")
    def prms(n: int) -> bytes:  # values that vary, so the zip deflates like a real R151 (not a bomb's ratio)
        return b"".join(prm % str(i * 7919 % 10**9).encode() for i in range(1, n + 1))

    bad = _zip_of(_HEAD + prms(2000) + prm % b"x" + prms(20000) + b"</R151>")
    with pytest.raises(BadFile) as err:
        list(parse_r151(open_xml(bad)))
    assert err.value.reason == "bad_value"
    assert _inflating_threads() == []
    good = parse_r151(open_xml(_zip_of(_HEAD + prms(20000) + b"</R151>")))
    assert next(good).registers == {"BASE": 7_919_000}
    good.close()
    assert _inflating_threads() == []


def test_unusual_prms_among_usual_ones_read_as_lxml_elements_read_them():
    """The usual layout is read from the bytes; a PRM with a comment, an attribute, a reference, eleven supplier
    registers or CRLF line ends, anywhere in the file, reads to what lxml's elements say, and an error found
    after 2 000 usual PRMs names the line of the whole file."""
    from ingest_sge.r151_xml import _parse_tree

    usual = (b"<PRM><Id_PRM>%014d</Id_PRM>\n<Donnees_Releve><Date_Releve>2022-02-02</Date_Releve>\n"
             b"<Id_Calendrier_Distributeur>DI000002</Id_Calendrier_Distributeur>\n<Classe_Temporelle_Distributeur>"
             b"<Id_Classe_Temporelle>HC</Id_Classe_Temporelle><Libelle_Classe_Temporelle>Heures Creuses"
             b"</Libelle_Classe_Temporelle><Valeur>%d</Valeur></Classe_Temporelle_Distributeur>\n%s"
             b"<Puissance_Maximale><Valeur>6</Valeur></Puissance_Maximale></Donnees_Releve>\n</PRM>\n")
    supplier = b"<Classe_Temporelle><Id_Classe_Temporelle>S%d</Id_Classe_Temporelle><Valeur>%d</Valeur></Classe_Temporelle>"
    eleven = b"".join(supplier % (i, i) for i in range(11))
    unusual = [usual.replace(b"<Valeur>6", b"<!-- x --><Valeur>6"), usual.replace(b"<Valeur>6", b"<Valeur a='1'>6"),
               usual.replace(b"Heures Creuses", b"Heures &amp; Creuses"), usual.replace(b"\n", b"\r\n")]
    prms = []
    for i in range(1, 41):
        layout = unusual[i % 4] if i % 7 == 0 else usual
        prms.append(layout % (9111642617300 + i, i * 7919, eleven if i % 5 == 0 else supplier % (1, i)))
    xml = _HEAD + b"".join(prms) + b"</R151>"
    assert list(parse_r151(io.BytesIO(xml))) == list(_parse_tree(io.BytesIO(xml)))
    broken = _HEAD + b"".join(usual % (9111642617300 + i, i, b"") for i in range(1, 2001)) + b"<PRM><Id_PRM>"
    with pytest.raises(BadFile) as err:
        list(parse_r151(io.BytesIO(broken)))
    with pytest.raises(BadFile) as expected:
        list(_parse_tree(io.BytesIO(broken)))
    assert (err.value.reason, err.value.detail) == (expected.value.reason, expected.value.detail)
    assert "line 12001" in err.value.detail
