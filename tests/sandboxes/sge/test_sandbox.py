"""The SGE sandbox as a receiver meets it: SFTP with its key, Enedis names, AES or OpenPGP, ground truth."""
from __future__ import annotations

import datetime as dt
import io
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import asyncssh
import gnupg
import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from tests.sandboxes.sge import generator as gen

ROOT = Path(__file__).resolve().parents[3]
DAY = dt.date(2026, 3, 10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def platform_keys(tmp_path_factory):
    home = tmp_path_factory.mktemp("gpg")
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(gpg.gen_key_input(key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH",
                                        subkey_curve="cv25519", name_email="sge@metroenergies.test",
                                        no_protection=True))
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    yield gpg, gpg.export_keys(str(key)), client_key
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, platform_keys):
    _, public, client_key = platform_keys
    work = tmp_path_factory.mktemp("sge-sandbox")
    (work / "authorized_keys").write_bytes(client_key.export_public_key())
    (work / "platform.asc").write_text(public)
    sftp_port, control_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sandboxes.sge", "--sftp-port", str(sftp_port), "--control-port",
         str(control_port), "--root", str(work / "drop"), "--authorized-keys", str(work / "authorized_keys"),
         "--pgp-public-key", str(work / "platform.asc")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{control_port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(base + "/_sandbox/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "sandbox did not start"
        time.sleep(0.1)
    yield {"base": base, "sftp_port": sftp_port, "root": work / "drop", "client_key": client_key}
    proc.terminate()
    proc.wait(10)


async def _download(sandbox, key=None) -> dict[str, bytes]:
    async with asyncssh.connect("127.0.0.1", sandbox["sftp_port"], username="metro", known_hosts=None,
                                client_keys=[key or sandbox["client_key"]]) as conn:
        async with conn.start_sftp_client() as sftp:
            out = {}
            for name in await sftp.listdir(gen.DROP_SUBDIR):
                if name.startswith("ERDF_R151_"):
                    async with sftp.open(f"{gen.DROP_SUBDIR}/{name}", "rb") as f:
                        out[name] = await f.read()
            return out


def _aes_open(data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(gen.SANDBOX_AES_KEY), modes.CBC(data[:16])).decryptor()
    unpad = padding.PKCS7(128).unpadder()
    return unpad.update(dec.update(data[16:]) + dec.finalize()) + unpad.finalize()


def _xml(zip_bytes: bytes, name: str) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        assert zf.namelist() == [name.split(".zip")[0] + ".xml"]
        return etree.fromstring(zf.read(zf.namelist()[0]))


async def test_unknown_ssh_key_is_refused(sandbox):
    with pytest.raises(asyncssh.PermissionDenied):
        await _download(sandbox, asyncssh.generate_private_key("ssh-ed25519"))


async def test_drop_is_read_only(sandbox):
    async with asyncssh.connect("127.0.0.1", sandbox["sftp_port"], username="metro", known_hosts=None,
                                client_keys=[sandbox["client_key"]]) as conn:
        async with conn.start_sftp_client() as sftp:
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                async with sftp.open(f"{gen.DROP_SUBDIR}/evil.zip", "wb") as f:
                    await f.write(b"x")


async def test_published_day_arrives_encrypted_under_enedis_names(sandbox):
    prms = ["09111642617347", "17745151915440"]
    async with httpx.AsyncClient(base_url=sandbox["base"]) as http:
        assert (await http.post("/_sandbox/subscriptions", json={"prms": prms})).status_code == 200
        assert (await http.post("/_sandbox/subscriptions", json={"prms": ["25000000000001"],
                                                                 "encryption": "pgp"})).status_code == 200
        files = (await http.post("/_sandbox/publish", json={"start": str(DAY - dt.timedelta(days=1)),
                                                            "end": str(DAY)})).json()["files"]
        truth = (await http.get(f"/_sandbox/ground_truth/{prms[0]}",
                                params={"start": str(DAY), "end": str(DAY)})).json()
    assert len(files) == 4
    got = await _download(sandbox)
    assert set(files) <= set(got)
    aes = sorted(n for n in files if n.endswith(".zip"))
    for name in aes:
        assert re.fullmatch(r"ERDF_R151_[^_]+_[^_]+_3184182_\d{5}_Q_00001_00001_2026031[12]030\d{3}\.zip", name)
        assert not got[name].startswith(b"PK")
    root = _xml(_aes_open(got[aes[-1]]), aes[-1])
    assert root.findtext("En_Tete_Flux/Unite_Mesure_Index") == "Wh"
    assert root.findtext("En_Tete_Flux/Date_Creation").startswith(str(DAY + dt.timedelta(days=2)) + "T03:0")
    assert sorted(p.findtext("Id_PRM") for p in root.iter("PRM")) == prms
    previous = _xml(_aes_open(got[aes[0]]), aes[0])

    def total(doc):
        prm = next(p for p in doc.iter("PRM") if p.findtext("Id_PRM") == prms[0])
        return sum(int(v.text) for v in prm.iterfind("Donnees_Releve/Classe_Temporelle_Distributeur/Valeur"))

    assert truth["days"] == [{"day": str(DAY), "energy_wh": total(root) - total(previous)}]
    assert 0 < truth["days"][0]["energy_wh"] < 24 * 12_000


async def test_pgp_subscription_file_opens_with_platform_private_key(sandbox, platform_keys):
    gpg = platform_keys[0]
    got = await _download(sandbox)
    pgp = [n for n in got if n.endswith(".zip.gpg")]
    assert pgp
    plain = gpg.decrypt(got[pgp[0]])
    assert plain.ok
    root = _xml(bytes(plain.data), pgp[0])
    assert [p.findtext("Id_PRM") for p in root.iter("PRM")] == ["25000000000001"]


async def test_scenario_and_ground_truth_mark_underivable_days(sandbox):
    prm = "30000000000017"
    start = dt.date(2026, 4, 1)
    async with httpx.AsyncClient(base_url=sandbox["base"]) as http:
        await http.post("/_sandbox/subscriptions", json={"prms": [prm]})
        await http.put(f"/_sandbox/scenario/{prm}", json={"replacement_day": "2026-04-04",
                                                          "missing_days": ["2026-04-07"]})
        await http.post("/_sandbox/publish", json={"start": str(start), "end": "2026-04-10"})
        truth = (await http.get(f"/_sandbox/ground_truth/{prm}",
                                params={"start": str(start), "end": "2026-04-10"})).json()["days"]
        await http.post("/_sandbox/subscriptions/unsubscribe", json={"prms": [prm]})
        after = (await http.post("/_sandbox/publish", json={"day": "2026-04-11"})).json()["files"]
    missing = {d["day"] for d in truth if d["energy_wh"] is None}
    assert missing == {"2026-04-01", "2026-04-04", "2026-04-07", "2026-04-08"}
    got = await _download(sandbox)
    for name in after:
        assert prm.encode() not in _aes_open(got[name]) if name.endswith(".zip") else True


async def test_republished_file_keeps_its_name_but_not_its_bytes(sandbox):
    before = await _download(sandbox)
    name = sorted(n for n in before if n.endswith(".zip"))[0]
    async with httpx.AsyncClient(base_url=sandbox["base"]) as http:
        assert (await http.post("/_sandbox/republish", json={"name": name})).json() == {"file": name}
    after = await _download(sandbox)
    assert after[name] != before[name]
    assert _aes_open(after[name]) == _aes_open(before[name])


async def test_injected_bad_files_are_broken_in_the_announced_way(sandbox):
    async with httpx.AsyncClient(base_url=sandbox["base"], timeout=60) as http:
        names = {k: (await http.post("/_sandbox/inject", json={"kind": k})).json()["file"]
                 for k in gen.BAD_KINDS}
        bad = await http.post("/_sandbox/inject", json={"kind": "nope"})
    assert bad.status_code == 422
    got = await _download(sandbox)
    dec = Cipher(algorithms.AES(gen.SANDBOX_AES_KEY), modes.CBC(got[names["wrong_key"]][:16])).decryptor()
    assert not dec.update(got[names["wrong_key"]][16:32]).startswith(b"PK")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(_aes_open(got[names["truncated_zip"]]))).read(
            zipfile.ZipFile(io.BytesIO(_aes_open(got[names["truncated_zip"]]))).namelist()[0])
    with zipfile.ZipFile(io.BytesIO(_aes_open(got[names["xml_bomb"]]))) as zf:
        assert b"<!ENTITY" in zf.read(zf.namelist()[0])
    with zipfile.ZipFile(io.BytesIO(_aes_open(got[names["invalid_xml"]]))) as zf:
        with pytest.raises(etree.XMLSyntaxError):
            etree.fromstring(zf.read(zf.namelist()[0]))
    with zipfile.ZipFile(io.BytesIO(_aes_open(got[names["large_file"]]))) as zf:
        assert zf.infolist()[0].file_size >= 200 * 1024 * 1024


def test_data_is_deterministic_per_prm():
    a = gen.reading(gen.profile("09111642617347"), gen.Scenario(), DAY)
    b = gen.reading(gen.profile("09111642617347"), gen.Scenario(), DAY)
    c = gen.reading(gen.profile("09111642617348"), gen.Scenario(), DAY)
    assert a == b and a.registers != c.registers
