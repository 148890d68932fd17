"""SGE R151 reading speed: PRM-days per second from encrypted zip to daily energies, against a bare lxml
iterparse of the same decrypted XML in the same run.  Run: uv run python -m bench.sge_parse [PRMS] [DAYS]"""
from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from lxml import etree

from ingest_sge.r151 import KeyRing, daily_energy, decrypt, parse_file_name, read_file
from tests.sandboxes.sge import generator as gen


def main() -> None:
    n_prms = int(sys.argv[1]) if len(sys.argv) > 1 else 3500
    n_days = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    keys = KeyRing(aes_keys=(gen.SANDBOX_AES_KEY,))
    with tempfile.TemporaryDirectory() as tmp:
        pub = gen.Publisher(Path(tmp))
        pub.subscribe(f"{10000000000000 + i * 7919:014d}" for i in range(n_prms))
        t0 = time.perf_counter()
        names = pub.publish_days(dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n_days))
        publish_s = time.perf_counter() - t0
        names.sort(key=lambda n: parse_file_name(n).sequence)
        files = [(n, (pub.drop / n).read_bytes()) for n in names]
        xml = []
        for n, data in files:
            with zipfile.ZipFile(io.BytesIO(decrypt(n, data, keys))) as zf:
                xml.append(zf.read(zf.namelist()[0]))

        t0 = time.perf_counter()
        bare = 0
        for doc in xml:
            for _, el in etree.iterparse(io.BytesIO(doc), events=("end",), tag="Donnees_Releve",
                                         resolve_entities=False, no_network=True):
                bare += 1
                el.clear()
        bare_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        states: dict = {}
        prm_days = measured = 0
        for n, data in files:
            batch = daily_energy(read_file(n, data, keys), states)
            states.update(batch.states)
            prm_days += len(batch.days)
            measured += sum(1 for d in batch.days if d.quality == "measured")
        ours_s = time.perf_counter() - t0

    assert prm_days == bare == n_prms * n_days, (prm_days, bare)
    mb = sum(len(x) for x in xml) / 1e6
    print(f"SGE R151: {n_prms} PRMs x {n_days} days, {len(files)} files, {mb:.0f} MB of XML")
    print(f"  sandbox publish (generate+zip+AES) : {publish_s:8.2f} s")
    print(f"  bare lxml iterparse (decrypted XML) : {bare / bare_s:10.0f} PRM-days/s")
    print(f"  r151 pipeline (AES+unzip+parse+energy): {prm_days / ours_s:8.0f} PRM-days/s"
          f"  ({measured} measured)")
    print(f"  ratio pipeline / bare iterparse     : {prm_days / ours_s / (bare / bare_s):10.2f}")


if __name__ == "__main__":
    main()
