"""SGE R151 memory: peak RSS reading one large file the old way (every reading of the file in a list) beside the
streamed way ingest-sge now uses (readings of subscribed PRMs kept, the others counted and dropped), each in a
fresh process, with the process's RSS once the file is loaded as the baseline.
Run: uv run python -m bench.sge_memory [PRMS] [DAYS_PER_FILE] [SUBSCRIBED]"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from ingest_sge.energy import daily_energy
from ingest_sge.r151 import KeyRing, Limits, decrypt, open_xml, parse_r151
from ingest_sge.service import _read

# The sandbox's key, written out: the child processes do not import the generator (its tables weigh on RSS).
KEYS = KeyRing(aes_keys=(bytes.fromhex("5ec0de" * 10 + "5ec0"),))
NAME = "ERDF_R151_23X--METRO-GRE-S_GRD-F777_3184182_00001_Q_00001_00001_20260301030000.zip"


def prms(n: int) -> list[str]:
    return [f"{10000000000000 + i * 7919:014d}" for i in range(n)]


def write(path: Path, n_prms: int, n_days: int) -> None:
    from tests.sandboxes.sge import generator as gen
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(n_days)]
    content = ((p, [gen.reading(p, gen.Scenario(), d) for d in days]) for p in map(gen.profile, prms(n_prms)))
    xml = gen.r151_xml("3184182", dt.datetime(2026, 3, 1, 3, 0), content)
    path.write_bytes(gen.aes_encrypt(gen.zip_one(NAME[:-4], xml), gen.SANDBOX_AES_KEY))
    print(f"one file: {n_prms} PRMs x {n_days} days, {len(xml) / 2**20:.0f} MiB of XML, "
          f"{path.stat().st_size / 2**20:.1f} MiB encrypted")


def rss_mib() -> float:
    """The process's peak RSS (VmHWM: reset at exec, unlike ru_maxrss which a child inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def child(mode: str, path: str, subscribed: int) -> None:
    data = Path(path).read_bytes()
    wanted = set(prms(subscribed * 100)[::100])
    loaded = rss_mib()
    if mode == "list":
        readings = list(parse_r151(open_xml(decrypt(NAME, data, KEYS))))
        kept = [r for r in readings if r.prm in wanted]
    else:
        _, _, kept = _read(NAME, data, KEYS, Limits(), wanted)
    days = daily_energy(kept, {}).days
    print(f"{mode:8s} peak RSS {rss_mib():7.0f} MiB  (file loaded: {loaded:5.0f} MiB; {len(days)} PRM-days kept)")




def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    n_prms = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    n_days = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    subscribed = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / NAME
        write(path, n_prms, n_days)
        for mode in ("list", "streamed"):
            subprocess.run([sys.executable, "-m", "bench.sge_memory", "--child", mode, str(path), str(subscribed)],
                           check=True)


if __name__ == "__main__":
    main()
