"""Deterministic files of the local operators, as the interface agreements in docs/interfaces describe them.

Every value derives from the meter's identifier and the day, so the ground truth is computable at any time.
Each operator reads the platform's latest consented-meter list from its ``retour`` folder and writes files
(``depot``) for the meters listed as CONSENTI only. Quirks on demand: a late file (publish an old day), a
corrected file (the same name again with right values after wrong ones), a meter exchange, a truncated file, a
file in the wrong encoding.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import threading
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
OPERATORS = ("greenalp", "cciag", "eau_de_grenoble")
FIRST = ["Élise", "Jean", "Zoé", "Hervé", "Anaïs", "Loïc", "Maëlle", "Noël", "Inès", "Gaël"]
LAST = ["Dupont", "Garçon", "Lefèvre", "Müller", "Boëdec", "Martin", "Nguyen", "Chabert", "Brochier", "Roux"]
# CCIAG substations and their dwellings: SST0001 to SST0040, each with 6 to 14 dwellings.
SUBSTATIONS = [f"SST{i:04d}" for i in range(1, 41)]


def _u(*parts: object) -> float:
    h = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0**64


def holder_of(identifier: str) -> str:
    return f"{FIRST[int(_u('f', identifier) * 10)]} {LAST[int(_u('l', identifier) * 10)]}"


def electricity_wh(prm: str, day: dt.date) -> int:
    winter = day.month in (11, 12, 1, 2, 3)
    return int(4000 + 9000 * _u(prm, "kind") + (5000 if winter else 0) * _u(prm, "heat") + 2500 * _u(prm, day))


def gas_day(pce: str, day: dt.date) -> tuple[str, str]:
    """The gas day's volume (m3, three decimals) and conversion coefficient (kWh/m3, three decimals)."""
    winter = day.month in (11, 12, 1, 2, 3)
    litres = int(400 + 3000 * _u(pce, "size") * (2.5 if winter else 0.6) + 900 * _u(pce, day))
    coef = 11000 + int(600 * _u("coef", day))  # the same for every PCE of the day, as GRDF's zones
    return f"{litres // 1000},{litres % 1000:03d}", f"{coef // 1000},{coef % 1000:03d}"


def gas_wh(pce: str, day: dt.date) -> int:
    vol, coef = gas_day(pce, day)
    return int((Decimal(vol.replace(",", ".")) * Decimal(coef.replace(",", ".")) * 1000).to_integral_value())


def substation_kwh(sst: str, day: dt.date) -> str:
    winter = day.month in (11, 12, 1, 2, 3)
    tenths = int(10 * (150 + 900 * _u(sst, "size") * (3 if winter else 0.5) + 200 * _u(sst, day)))
    return f"{tenths // 10},{tenths % 10}"


def dwellings_of(sst: str) -> list[tuple[str, str, Decimal]]:
    """(dwelling, share key, share): surfaces in m2 with one decimal, or tantièmes."""
    key = "surface" if _u(sst, "key") < 0.5 else "tantiemes"
    out = []
    for i in range(1, 6 + int(_u(sst, "n") * 9)):
        d = f"L{i:03d}"
        share = Decimal(int(300 + 900 * _u(sst, d))) / 10 if key == "surface" else Decimal(int(50 + 250 * _u(sst, d)))
        out.append((d, key, share))
    return out


def dwelling_wh(identifier: str, day: dt.date) -> int:
    sst, _, dwelling = identifier.partition("-")
    total = Decimal(substation_kwh(sst, day).replace(",", ".")) * 1000
    shares = {d: s for d, _, s in dwellings_of(sst)}
    return int((total * shares[dwelling] / sum(shares.values())).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def monthly(meter: str) -> bool:
    return meter.startswith("M")


def water_litres(meter: str, day: dt.date) -> int:
    return int(90 + 350 * _u(meter, "size") + 80 * _u(meter, day))


def month_litres(meter: str, first: dt.date) -> int:
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return sum(water_litres(meter, first + dt.timedelta(days=i)) for i in range((last - first).days))


@dataclass
class Exchange:
    day: dt.date
    old_serial: str
    new_serial: str


@dataclass
class Operators:
    root: Path
    exchanges: dict[str, Exchange] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for op in OPERATORS:
            (self.root / op / "depot").mkdir(parents=True, exist_ok=True)
            (self.root / op / "retour").mkdir(parents=True, exist_ok=True)

    # --- the platform's lists ---------------------------------------------------------------------------

    def consented(self, operator: str) -> dict[str, dict[str, str]]:
        """The latest list the platform left: identifier -> its row (STATUT CONSENTI or RETIRE)."""
        lists = sorted((self.root / operator / "retour").glob("METRO_CONSENTEMENTS_*.csv"))
        if not lists:
            return {}
        rows = list(csv.DictReader(io.StringIO(lists[-1].read_text("utf-8")), delimiter=";"))
        return {r["IDENTIFIANT"]: r for r in rows if r["IDENTIFIANT"] != "FIN"}

    def listed(self, operator: str, energy: str) -> list[str]:
        return sorted(i for i, r in self.consented(operator).items()
                      if r["STATUT"] == "CONSENTI" and r["ENERGIE"] == energy)

    def lists(self, operator: str) -> list[str]:
        return sorted(p.name for p in (self.root / operator / "retour").glob("*.csv"))

    # --- files ------------------------------------------------------------------------------------------

    def _write(self, operator: str, name: str, header: list[str], rows: list[list[str]], encoding: str,
               *, truncate: bool = False) -> str:
        out = io.StringIO()
        w = csv.writer(out, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
        text = out.getvalue()
        if truncate:
            text = text[: max(len(text) * 2 // 3, len(header) + 5)]
        else:
            text += f"FIN;{len(rows)}\r\n"
        path = self.root / operator / "depot" / name
        tmp = path.with_name("." + name)
        tmp.write_bytes(text.encode(encoding))
        tmp.rename(path)
        return name

    def _serial_rows(self, prm: str, day: dt.date) -> list[list[str]]:
        holder = holder_of(prm)
        ex = self.exchanges.get(prm)
        base = 10_000_000 + int(_u(prm, "base") * 5_000_000)
        epoch = dt.date(2025, 1, 1)
        read_at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), PARIS).isoformat()

        def cumul(since: dt.date, until: dt.date) -> int:
            return sum(electricity_wh(prm, since + dt.timedelta(days=i)) for i in range((until - since).days + 1))

        if ex is None or day < ex.day:
            serial = ex.old_serial if ex else f"LKY{prm[-8:]}"
            return [[prm, holder, serial, read_at, str(base + cumul(epoch, day)), ""]]
        before_share = electricity_wh(prm, ex.day) // 3
        if day == ex.day:
            old = base + cumul(epoch, day - dt.timedelta(days=1)) + before_share
            new = electricity_wh(prm, day) - before_share
            return [[prm, holder, ex.old_serial, read_at, str(old), ""],
                    [prm, holder, ex.new_serial, read_at, str(new), "0"]]
        new = electricity_wh(prm, ex.day) - before_share + cumul(ex.day + dt.timedelta(days=1), day)
        return [[prm, holder, ex.new_serial, read_at, str(new), ""]]

    def publish(self, operator: str, energy: str, day: dt.date, *, wrong: dict[str, int] | None = None,
                encoding: str | None = None, truncate: bool = False, suffix: str = "") -> list[str]:
        """The operator's file(s) for one day (a month for monthly water meters, published on the 1st of the
        next); ``wrong`` adds Wh to some meters' values, as a first publication later corrected."""
        wrong = wrong or {}
        stamp = day.strftime("%Y%m%d")
        with self.lock:
            if (operator, energy) == ("greenalp", "electricity"):
                rows = []
                for prm in self.listed(operator, energy):
                    for r in self._serial_rows(prm, day):
                        r[4] = str(int(r[4]) + wrong.get(prm, 0))
                        rows.append(r)
                return [self._write(operator, f"GA_ELEC_INDEX_{stamp}{suffix}.csv",
                                    ["PRM", "TITULAIRE", "NUM_SERIE", "DATE_RELEVE", "INDEX_WH", "INDEX_POSE_WH"],
                                    rows, encoding or "utf-8", truncate=truncate)]
            if (operator, energy) == ("greenalp", "gas"):
                start = dt.datetime.combine(day, dt.time(6), PARIS).isoformat()
                rows = [[pce, holder_of(pce), start, *gas_day(pce, day)] for pce in self.listed(operator, energy)]
                return [self._write(operator, f"GA_GAZ_JOUR_{stamp}{suffix}.csv",
                                    ["PCE", "TITULAIRE", "DEBUT_JOURNEE_GAZIERE", "VOLUME_M3",
                                     "COEF_CONVERSION_KWH_M3"], rows, encoding or "utf-8", truncate=truncate)]
            if operator == "cciag":
                listed = self.listed(operator, "heat")
                stations = sorted({i.partition("-")[0] for i in listed})
                share_rows = [[s, d, holder_of(f"{s}-{d}") if f"{s}-{d}" in listed else "", key,
                               str(share).replace(".", ",")] for s in stations for d, key, share in dwellings_of(s)]
                names = [self._write(operator, f"CCIAG_LOGEMENTS_{stamp}{suffix}.csv",
                                     ["SOUS_STATION", "LOGEMENT", "TITULAIRE", "CLE", "PART"], share_rows,
                                     encoding or "cp1252")]
                rows = [[s, day.strftime("%d/%m/%Y"), substation_kwh(s, day)] for s in stations]
                names.append(self._write(operator, f"CCIAG_SST_{stamp}{suffix}.csv",
                                         ["SOUS_STATION", "DATE", "ENERGIE_KWH"], rows, encoding or "cp1252",
                                         truncate=truncate))
                return names
            if operator == "eau_de_grenoble":
                rows = []
                for meter in self.listed(operator, "water"):
                    if monthly(meter):
                        if day.day != 1:
                            continue
                        first = (day - dt.timedelta(days=1)).replace(day=1)
                        last = day - dt.timedelta(days=1)
                        litres = month_litres(meter, first)
                    else:
                        first = last = day
                        litres = water_litres(meter, day)
                    rows.append([meter, holder_of(meter), first.isoformat(), last.isoformat(),
                                 f"{litres // 1000}.{litres % 1000:03d}"])
                return [self._write(operator, f"EAU_VOLUMES_{stamp}{suffix}.csv",
                                    ["COMPTEUR", "TITULAIRE", "DEBUT", "FIN", "VOLUME_M3"], rows,
                                    encoding or "utf-8", truncate=truncate)]
        raise ValueError(f"{operator} does not deliver {energy}")

    def truth(self, energy: str, identifier: str, start: dt.date, end: dt.date) -> dict[str, int]:
        """Per day: Wh of energy (a dwelling's share of its substation), litres of water; per month for a meter
        read monthly."""
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        if energy == "electricity":
            return {d.isoformat(): electricity_wh(identifier, d) for d in days}
        if energy == "gas":
            return {d.isoformat(): gas_wh(identifier, d) for d in days}
        if energy == "heat":
            return {d.isoformat(): dwelling_wh(identifier, d) for d in days}
        if monthly(identifier):
            months = sorted({d.replace(day=1) for d in days})
            return {m.isoformat()[:7]: month_litres(identifier, m) for m in months}
        return {d.isoformat(): water_litres(identifier, d) for d in days}
