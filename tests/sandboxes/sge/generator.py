"""Deterministic R151 producer: meter indexes, Enedis file naming, zip, AES-CBC or OpenPGP, fault files.

Built from /work/shared/dso/enedis-sge.md only. Every value is derived from the PRM (and the day), so the
same PRM publishes the same indexes in every run and the ground truth is computable at any time.
"""
from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import io
import os
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PARIS = ZoneInfo("Europe/Paris")
EPOCH = dt.date(2015, 1, 1)
MAX_PRMS_PER_FILE = 3000
DROP_SUBDIR = "flux_enedis/C5"
DESTINATAIRE = "23X--METRO-GRE-S"
CONTRAT = "GRD-F777"
ABONNEMENT = {"aes": "3184182", "pgp": "3184183"}
AFFAIRE_PREFIX = "M0"
SANDBOX_AES_KEY = bytes.fromhex("5ec0de" * 10 + "5ec0")
LIBELLE_FLUX = "Puissances maximales et index des PRM du segment C5 sur abonnement"

CALENDARS: dict[str, tuple[str, tuple[tuple[str, str, int], ...]]] = {
    "DI000001": ("Sans différenciation temporelle", (("BASE", "Base", 1),)),
    "DI000002": ("Avec différenciation temporelle", (("HC", "Heures Creuses", 1), ("HP", "Heures Pleines", 2))),
    "DI000003": ("Avec différenciation temporelle et saisonnière", (
        ("HCB", "Heures Creuses Saison Basse", 1), ("HPB", "Heures Pleines Saison Basse", 2),
        ("HCH", "Heures Creuses Hiver / Saison Haute", 3), ("HPH", "Heures Pleines Hiver / Saison Haute", 4))),
}
SUPPLIER_CALENDARS = {"DI000001": ("FC000165", "Base"), "DI000002": ("FC020831", "Heures Pleines/Creuses"),
                      "DI000003": ("FC020831", "Heures Pleines/Creuses")}
OFF_PEAK_SHARE = 0.38
_HORIZON = 365 * 30
# "Haute" season = November to March (TURPE); precomputed active-day counts keep any index O(1).
_WINTER_COUNT = [0] * (_HORIZON + 1)
for _n in range(1, _HORIZON + 1):
    _WINTER_COUNT[_n] = _WINTER_COUNT[_n - 1] + ((EPOCH + dt.timedelta(days=_n)).month in (11, 12, 1, 2, 3))


def _mix(*parts: int) -> int:
    """splitmix64 over the parts: a fast, stable per-(PRM, class, day) pseudo-random value."""
    x = 0x9E3779B97F4A7C15
    for p in parts:
        x = (x ^ p) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 31
    return x


def _unit(*parts: int) -> float:
    return _mix(*parts) / 2.0**64


def mojibake(text: str) -> str:
    """UTF-8 read as Latin-1 and re-encoded: the double encoding seen in real R151 labels."""
    return text.encode("utf-8").decode("latin-1")


@dataclass(frozen=True)
class MeterProfile:
    prm: str
    kva: int
    calendar: str
    daily_wh: int
    base_index: int
    affaire: str
    supplier_unknown: bool
    mojibake_labels: bool
    max_power_published: bool


def profile(prm: str) -> MeterProfile:
    seed = int(prm)
    kva = (3, 6, 6, 9, 9, 12)[_mix(seed, 1) % 6]
    return MeterProfile(
        prm=prm, kva=kva,
        calendar=("DI000001", "DI000002", "DI000002", "DI000003")[_mix(seed, 2) % 4],
        daily_wh=int(2500 * kva * (0.5 + _unit(seed, 3))),
        base_index=1_000_000 + _mix(seed, 4) % 40_000_000,
        affaire=AFFAIRE_PREFIX + format(_mix(seed, 5) % 16**6, "06X"),
        supplier_unknown=_mix(seed, 6) % 10 == 0,
        mojibake_labels=_mix(seed, 7) % 3 == 0,
        max_power_published=_mix(seed, 8) % 5 != 0,
    )


@dataclass
class Scenario:
    """Per-PRM faults, each a day (Date_Releve) on which the quirk shows."""
    replacement_day: dt.date | None = None
    missing_days: set[dt.date] = field(default_factory=set)
    unknown_calendar_days: set[dt.date] = field(default_factory=set)
    jump_day: dt.date | None = None
    calendar_change_day: dt.date | None = None


@dataclass(frozen=True)
class Reading:
    """What one Donnees_Releve says: the distributor registers at the END of `day` (Wh)."""
    prm: str
    day: dt.date
    calendar: str
    registers: dict[str, int]
    supplier_registers: dict[str, int]
    max_power_va: int | None


JUMP_WH = 30_000_000


def _class_active(cls: str, day_number: int) -> int:
    if cls.endswith("H") and len(cls) == 3:
        return _WINTER_COUNT[day_number]
    if cls.endswith("B") and len(cls) == 3:
        return day_number - _WINTER_COUNT[day_number]
    return day_number


def _share(calendar: str, cls: str) -> float:
    if calendar == "DI000001":
        return 1.0
    off_peak = cls.startswith("HC")
    share = OFF_PEAK_SHARE if off_peak else 1 - OFF_PEAK_SHARE
    if calendar == "DI000003" and cls.endswith("H"):
        share *= 1.4
    return share


def raw_registers(p: MeterProfile, calendar: str, day: dt.date) -> dict[str, int]:
    """Cumulative Wh per distributor class at the end of `day`, monotone in `day` by construction:
    the jitter is indexed by the count of active days, so it only moves when the register does."""
    n = (day - EPOCH).days
    if not 0 < n <= _HORIZON:
        raise ValueError(f"day {day} outside the simulated horizon")
    seed = int(p.prm)
    out = {}
    for rank, (cls, _label, _r) in enumerate(CALENDARS[calendar][1]):
        active = _class_active(cls, n)
        rate = p.daily_wh * _share(calendar, cls)
        jitter = 0.6 * rate * _unit(seed, 100 + rank, active)
        out[cls] = p.base_index // (rank + 1) + int(rate * active + jitter)
    return out


def reading(p: MeterProfile, sc: Scenario, day: dt.date) -> Reading:
    calendar = p.calendar
    if sc.calendar_change_day and day >= sc.calendar_change_day:
        calendar = "DI000003" if p.calendar != "DI000003" else "DI000001"
    if day in sc.unknown_calendar_days:
        return Reading(p.prm, day, "INCONNU", {}, {"INCONNU": 0}, None)
    regs = raw_registers(p, calendar, day)
    if sc.replacement_day and day >= sc.replacement_day:
        # The new meter starts from zero during the replacement day and only counts from then on.
        at_swap = raw_registers(p, calendar, sc.replacement_day)
        before = raw_registers(p, calendar, sc.replacement_day - dt.timedelta(days=1))
        regs = {c: v - at_swap[c] + (at_swap[c] - before[c]) // 3 for c, v in regs.items()}
    if sc.jump_day and day >= sc.jump_day:
        first = next(iter(regs))
        regs[first] += JUMP_WH
    total = sum(regs.values())
    supplier = ({"INCONNU": total * 57 // 100} if p.supplier_unknown
                else ({"BASE": total} if calendar == "DI000001"
                      else {"HC": sum(v for c, v in regs.items() if c.startswith("HC")),
                            "HP": sum(v for c, v in regs.items() if c.startswith("HP"))}))
    pmax = None
    if p.max_power_published:
        pmax = int(p.kva * 1000 * (0.25 + 0.7 * _unit(int(p.prm), 9, (day - EPOCH).days)))
    return Reading(p.prm, day, calendar, regs, supplier, pmax)


def creation_time(day: dt.date, sequence: int) -> dt.datetime:
    """Enedis creates the R151 for day J on J+2 at about 03:00-03:10 Paris time."""
    publish = day + dt.timedelta(days=2)
    seconds = 3 * 3600 + 180 + (sequence * 37) % 420
    return dt.datetime.combine(publish, dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60), PARIS)


def file_basename(abonnement: str, sequence: int, x: int, y: int, created: dt.datetime) -> str:
    return (f"ERDF_R151_{DESTINATAIRE}_{CONTRAT}_{abonnement}_{sequence:05d}_Q_{x:05d}_{y:05d}_"
            f"{created.strftime('%Y%m%d%H%M%S')}")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _classes_xml(tag: str, regs: dict[str, int], labels: dict[str, tuple[str, int]], moji: bool) -> str:
    parts = []
    for cls, value in regs.items():
        label, rank = labels.get(cls, (cls, 1))
        if moji:
            label = mojibake(label)
        parts.append(f"<{tag}><Id_Classe_Temporelle>{cls}</Id_Classe_Temporelle><Libelle_Classe_Temporelle>"
                     f"{_esc(label)}</Libelle_Classe_Temporelle><Rang_Cadran>{rank}</Rang_Cadran><Valeur>{value}"
                     f"</Valeur><Indice_Vraisemblance>0</Indice_Vraisemblance></{tag}>\n")
    return "".join(parts)


_SUPPLIER_LABELS = {"BASE": ("Base", 1), "HC": ("Heures Creuses", 1), "HP": ("Heures Pleines", 2),
                    "INCONNU": ("INCONNU", 1)}


def releve_xml(p: MeterProfile, r: Reading) -> str:
    if r.calendar == "INCONNU":
        dist_label, labels = "INCONNU", {}
        supplier_id, supplier_label = "INCONNU", "INCONNU"
    else:
        dist_label, classes = CALENDARS[r.calendar]
        labels = {c: (lab, rank) for c, lab, rank in classes}
        supplier_id, supplier_label = SUPPLIER_CALENDARS[r.calendar]
        if p.supplier_unknown:
            supplier_id, supplier_label = "FC022034", "INCONNU"
    if p.mojibake_labels:
        dist_label = mojibake(dist_label)
    pmax = f"<Puissance_Maximale><Valeur>{r.max_power_va}</Valeur></Puissance_Maximale>\n" \
        if r.max_power_va is not None else ""
    return (f"<Donnees_Releve><Date_Releve>{r.day.isoformat()}</Date_Releve>\n"
            f"<Id_Calendrier_Fournisseur>{supplier_id}</Id_Calendrier_Fournisseur>\n"
            f"<Libelle_Calendrier_Fournisseur>{supplier_label}</Libelle_Calendrier_Fournisseur>\n"
            f"<Id_Calendrier_Distributeur>{r.calendar}</Id_Calendrier_Distributeur>\n"
            f"<Libelle_Calendrier_Distributeur>{_esc(dist_label)}</Libelle_Calendrier_Distributeur>\n"
            f"<Id_Affaire>{p.affaire}</Id_Affaire>\n"
            + _classes_xml("Classe_Temporelle_Distributeur", r.registers, labels, p.mojibake_labels)
            + _classes_xml("Classe_Temporelle", r.supplier_registers, _SUPPLIER_LABELS, p.mojibake_labels)
            + pmax + "</Donnees_Releve>\n")


def header_xml(abonnement: str, created: dt.datetime) -> str:
    # One-line header and the "xmlns:xsi =" spacing are verbatim from a real file.
    return ('<?xml version="1.0" encoding="UTF-8"?><R151 xmlns:xsi ="http://www.w3.org/2001/XMLSchema-instance">'
            f"<En_Tete_Flux><Identifiant_Flux>R151</Identifiant_Flux><Libelle_Flux>{LIBELLE_FLUX}</Libelle_Flux>"
            "<Version_XSD>V1</Version_XSD><Identifiant_Emetteur>ERDF</Identifiant_Emetteur>"
            f"<Identifiant_Destinataire>{DESTINATAIRE}</Identifiant_Destinataire>"
            f"<Date_Creation>{created.isoformat()}</Date_Creation><Identifiant_Contrat>{CONTRAT}</Identifiant_Contrat>"
            f"<Numero_Abonnement>{abonnement}</Numero_Abonnement><Unite_Mesure_Index>Wh</Unite_Mesure_Index>"
            "<Unite_Mesure_Puissance>VA</Unite_Mesure_Puissance></En_Tete_Flux>\n")


def r151_xml(abonnement: str, created: dt.datetime, prm_readings: Iterable[tuple[MeterProfile, list[Reading]]]) -> bytes:
    parts = [header_xml(abonnement, created)]
    for p, readings in prm_readings:
        parts.append(f"<PRM><Id_PRM>{p.prm}</Id_PRM>\n")
        parts.extend(releve_xml(p, r) for r in readings)
        parts.append("</PRM>\n")
    parts.append("</R151>\n")
    return "".join(parts).encode("utf-8")


def zip_one(basename: str, xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr(basename + ".xml", xml)
    return buf.getvalue()


def aes_encrypt(plain: bytes, key: bytes, iv: bytes | None = None) -> bytes:
    """AES-CBC, PKCS7, a fresh IV written as the first 16 bytes (the 2026 Enedis scheme)."""
    iv = iv or os.urandom(16)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv + enc.update(padder.update(plain) + padder.finalize()) + enc.finalize()


class PgpEncryptor:
    """Encrypts to the platform's public key with the gpg binary; the keyring lives in a temp home."""

    def __init__(self, public_key_armored: str):
        import gnupg

        self._home = tempfile.TemporaryDirectory(prefix="sge-sandbox-gpg-")
        self._gpg = gnupg.GPG(gnupghome=self._home.name)
        imported = self._gpg.import_keys(public_key_armored)
        if not imported.fingerprints:
            raise ValueError("no OpenPGP public key in the given text")
        self.fingerprint = imported.fingerprints[0]
        self._lock = threading.Lock()
        # gpg starts an agent for the home; it must not outlive the sandbox process.
        atexit.register(subprocess.run, ["gpgconf", "--homedir", self._home.name, "--kill", "gpg-agent"],
                        capture_output=True, timeout=30)

    def encrypt(self, plain: bytes) -> bytes:
        with self._lock:
            out = self._gpg.encrypt(plain, [self.fingerprint], armor=False, always_trust=True)
        if not out.ok:
            raise RuntimeError(f"gpg encryption failed: {out.status}")
        return out.data


@dataclass
class Subscription:
    prm: str
    encryption: str = "aes"


class Publisher:
    """The Enedis side of the drop: subscriptions, per-PRM scenarios, published days and file sequences."""

    def __init__(self, root: Path, aes_key: bytes = SANDBOX_AES_KEY, pgp_public_key: str | None = None):
        self.root = Path(root)
        self.drop = self.root / DROP_SUBDIR
        self.drop.mkdir(parents=True, exist_ok=True)
        self.aes_key = aes_key
        self.pgp = PgpEncryptor(pgp_public_key) if pgp_public_key else None
        self.subscriptions: dict[str, Subscription] = {}
        self.scenarios: dict[str, Scenario] = {}
        self.published: dict[str, set[dt.date]] = {}
        self.sequence: dict[str, int] = {a: 0 for a in ABONNEMENT.values()}
        self.files: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def set_pgp_public_key(self, armored: str) -> None:
        self.pgp = PgpEncryptor(armored)

    def subscribe(self, prms: Iterable[str], encryption: str = "aes") -> None:
        if encryption not in ABONNEMENT:
            raise ValueError(f"unknown encryption {encryption!r}")
        if encryption == "pgp" and self.pgp is None:
            raise ValueError("pgp subscription needs the platform's public key first")
        for prm in prms:
            if len(prm) != 14 or not prm.isdigit():
                raise ValueError(f"bad PRM {prm!r}")
            self.subscriptions[prm] = Subscription(prm, encryption)

    def unsubscribe(self, prms: Iterable[str]) -> None:
        for prm in prms:
            self.subscriptions.pop(prm, None)

    def scenario(self, prm: str) -> Scenario:
        return self.scenarios.setdefault(prm, Scenario())

    def _encrypt(self, encryption: str, plain: bytes) -> bytes:
        if encryption == "pgp":
            assert self.pgp is not None
            return self.pgp.encrypt(plain)
        return aes_encrypt(plain, self.aes_key)

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.drop / f".{name}.part"
        tmp.write_bytes(data)
        os.replace(tmp, self.drop / name)

    def publish_days(self, days: Iterable[dt.date]) -> list[str]:
        """One publication run per day (Date_Releve = day), split in zips of at most 3 000 PRMs."""
        names: list[str] = []
        for day in days:
            names += self._publish_day(day)
        return names

    def _publish_day(self, day: dt.date) -> list[str]:
        names = []
        with self._lock:
            by_mode: dict[str, list[str]] = {}
            for sub in self.subscriptions.values():
                by_mode.setdefault(sub.encryption, []).append(sub.prm)
            runs = []
            for mode, prms in sorted(by_mode.items()):
                abonnement = ABONNEMENT[mode]
                self.sequence[abonnement] += 1
                runs.append((mode, abonnement, self.sequence[abonnement], sorted(prms)))
        for mode, abonnement, seq, prms in runs:
            chunks = [prms[i:i + MAX_PRMS_PER_FILE] for i in range(0, len(prms), MAX_PRMS_PER_FILE)]
            created = creation_time(day, seq)
            for x, chunk in enumerate(chunks, start=1):
                stamp = created + dt.timedelta(seconds=(x - 1) * 67)
                basename = file_basename(abonnement, seq, x, len(chunks), stamp)
                content = []
                for prm in chunk:
                    sc = self.scenarios.get(prm) or Scenario()
                    if day in sc.missing_days:
                        continue
                    p = profile(prm)
                    content.append((p, [reading(p, sc, day)]))
                    self.published.setdefault(prm, set()).add(day)
                plain = zip_one(basename, r151_xml(abonnement, stamp, content))
                name = basename + (".zip.gpg" if mode == "pgp" else ".zip")
                self.files[name] = plain
                self._write(name, self._encrypt(mode, plain))
                names.append(name)
        return names

    def republish(self, name: str) -> str:
        """Same name, same readings, freshly encrypted: byte-different, as a real re-delivery is."""
        plain = self.files[name]
        self._write(name, self._encrypt("pgp" if name.endswith(".gpg") else "aes", plain))
        return name

    def ground_truth(self, prm: str, start: dt.date, end: dt.date) -> dict[dt.date, int | None]:
        """Daily Wh a correct reader derives from what was published; None where it cannot be derived."""
        p = profile(prm)
        sc = self.scenarios.get(prm) or Scenario()
        published = self.published.get(prm, set())
        out: dict[dt.date, int | None] = {}
        day = start
        while day <= end:
            prev = day - dt.timedelta(days=1)
            value = None
            breaks = {sc.replacement_day, sc.jump_day, sc.calendar_change_day}
            if (day in published and prev in published and day not in breaks
                    and not {day, prev} & sc.unknown_calendar_days):
                value = sum(reading(p, sc, day).registers.values()) - sum(reading(p, sc, prev).registers.values())
            out[day] = value
            day += dt.timedelta(days=1)
        return out

    # Bad files. Each keeps a believable R151 name so that only the content can give it away.
    def _bad_name(self, tag: int) -> str:
        with self._lock:
            self.sequence[ABONNEMENT["aes"]] += 1
            seq = self.sequence[ABONNEMENT["aes"]]
        created = creation_time(dt.date(2026, 1, 1) + dt.timedelta(days=tag), seq)
        return file_basename(ABONNEMENT["aes"], seq, 1, 1, created)

    def inject(self, kind: str) -> str:
        basename = self._bad_name(len(self.files))
        name = basename + ".zip"
        if kind == "large_file":
            write_large_file(self.drop / name, basename, self.aes_key, 200 * 1024 * 1024)
            return name
        data = bad_file_bytes(kind, basename, self.aes_key)
        self._write(name, data)
        return name


BAD_KINDS = ("wrong_key", "truncated_zip", "invalid_xml", "xml_bomb", "large_file")

XML_BOMB = (b'<?xml version="1.0"?>\n<!DOCTYPE R151 [\n <!ENTITY lol "lol">\n'
            + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
                       for i in range(1, 10))
            + b']>\n<R151><En_Tete_Flux><Identifiant_Flux>&lol9;</Identifiant_Flux></En_Tete_Flux></R151>\n')


def bad_file_bytes(kind: str, basename: str, aes_key: bytes) -> bytes:
    sample = profile("09111642617347")
    good_xml = r151_xml(ABONNEMENT["aes"], creation_time(dt.date(2026, 1, 1), 1),
                        [(sample, [reading(sample, Scenario(), dt.date(2026, 1, 1))])])
    if kind == "wrong_key":
        return aes_encrypt(zip_one(basename, good_xml), hashlib.sha256(b"rotated away").digest())
    if kind == "truncated_zip":
        z = zip_one(basename, good_xml * 3)
        return aes_encrypt(z[: len(z) // 2], aes_key)
    if kind == "invalid_xml":
        return aes_encrypt(zip_one(basename, good_xml[: len(good_xml) - 40] + b"<PRM><Id_PRM>"), aes_key)
    if kind == "xml_bomb":
        return aes_encrypt(zip_one(basename, XML_BOMB), aes_key)
    raise ValueError(f"unknown bad file kind {kind!r}")


def _large_xml_chunks(total: int) -> Iterator[bytes]:
    head = header_xml(ABONNEMENT["aes"], creation_time(dt.date(2026, 1, 1), 1)).encode()
    yield head
    sample = profile("09111642617347")
    block = ("<PRM><Id_PRM>09111642617347</Id_PRM>\n"
             + releve_xml(sample, reading(sample, Scenario(), dt.date(2026, 1, 1))) + "</PRM>\n").encode() * 400
    written = len(head)
    while written < total:
        yield block
        written += len(block)
    yield b"</R151>\n"


def write_large_file(path: Path, basename: str, aes_key: bytes, uncompressed: int) -> None:
    """A valid but oversized R151, zipped and encrypted chunk by chunk: never whole in memory."""
    zpath = path.with_name(f".{path.name}.zip.part")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(basename + ".xml", "w", force_zip64=True) as member:
            for chunk in _large_xml_chunks(uncompressed):
                member.write(chunk)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(aes_key), modes.CBC(iv)).encryptor()
    tmp = path.with_name(f".{path.name}.part")
    with open(zpath, "rb") as src, open(tmp, "wb") as dst:
        dst.write(iv)
        while chunk := src.read(1 << 20):
            dst.write(enc.update(padder.update(chunk)))
        dst.write(enc.update(padder.finalize()) + enc.finalize())
    zpath.unlink()
    os.replace(tmp, path)
