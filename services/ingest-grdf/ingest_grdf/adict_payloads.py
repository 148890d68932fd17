"""What ADICT sends, read: NDJSON bodies, access rights, informative daily lines, contract and technical data,
and the outcome of `metro.dso` each error answer maps to.

ADICT reports consent and no-data problems inside HTTP 200 bodies (`statut_restitution`), so a 200 is not a
success until every line has been read. A body that cannot be read to its end raises: half the data is never
returned.
"""
from __future__ import annotations

import datetime as dt
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

import httpx

from metro.dso import BadRequest, ConsentRevoked, DsoError, NoData, QuotaExceeded, Transient, retry_after

ACCESS_STATES = {
    "ACTIVE": "active",
    "A VALIDER": "awaiting_holder",
    "REFUSEE": "refused",
    "REVOQUEE": "revoked",
    "OBSOLETE": "obsolete",
    "A REVERIFIER": "to_recheck",
}

# statut_restitution codes (7 digits) of the data endpoints, grdf-adict.md §5.3
NO_CONSENT_CODES = {"1000000", "1000001", "1000002", "1000003", "1000011", "1000012", "1000014"}
NO_DATA_CODES = {"1000008"}
OUT_OF_PERIMETER_CODES = {"1000009", "1000010", "1000015", "1000016"}
RETRY_CODES = {"2000000", "2000100"}
# Several consent messages have no documented code: recognise them by their words.
NO_CONSENT_WORDS = ("REVOQUE", "OBSOLETE", "EXPIRE", "DEMENAGE", "PAS AUTORISE", "PLUS AUTORISE",
                    "AUCUN DROIT", "SUSPENDU")


@dataclass(frozen=True)
class DailyReading:
    """One gas day (06:00 to 06:00 local time) of informative consumption."""
    day: dt.date
    wh: int
    volume_m3: float | None
    conversion_coefficient: float | None  # kWh per m³
    quality: str  # measured | estimated | corrected | missing
    final: bool  # Définitive (True) or Provisoire


def fold(text: Any) -> str:
    """ADICT spells states and flags with or without accents and in any case (À valider, vrai)."""
    raw = unicodedata.normalize("NFKD", str(text or ""))
    return " ".join("".join(c for c in raw if not unicodedata.combining(c)).upper().split())


def access_state(raw: Any) -> str:
    return ACCESS_STATES.get(fold(raw), "unknown")



def parse_objects(body: bytes) -> list[Any]:
    """NDJSON as ADICT sends it, also pretty-printed objects glued as `}{`, a single object or an array.
    Raises Transient when the body does not parse to its very end (truncated or malformed line)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Transient("ADICT body is not UTF-8", code="undecodable_body") from exc
    text = text.replace("\ufeff", "").replace("\u00a0", " ")
    decoder = json.JSONDecoder()
    out: list[Any] = []
    pos, size = 0, len(text)
    while True:
        while pos < size and text[pos] in " \t\r\n":
            pos += 1
        if pos >= size:
            return out
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise Transient(f"ADICT body unreadable at character {exc.pos}: truncated or malformed line",
                            code="malformed_body") from exc
        out.extend(value if isinstance(value, list) else [value])


def business_error(status: dict[str, Any] | None) -> DsoError | None:
    """The outcome of a data line's statut_restitution; None or {} mean success."""
    if not status or not isinstance(status, dict) or not status.get("code"):
        return None
    code, message = str(status["code"]), str(status.get("message") or "")
    words = fold(message)
    if code in NO_CONSENT_CODES:
        return ConsentRevoked(message, code=code, status=200)
    if code in NO_DATA_CODES:
        return NoData(message, code=code, status=200)
    if code in OUT_OF_PERIMETER_CODES or "NE COUVRE PAS" in words:
        return BadRequest(message, code=code, status=200)
    if code in RETRY_CODES or code.startswith("2"):
        return Transient(message, code=code, status=200)
    if any(w in words for w in NO_CONSENT_WORDS):
        return ConsentRevoked(message, code=code, status=200)
    return BadRequest(message, code=code, status=200)


def retry_periods(line: dict[str, Any], start: dt.date, end: dt.date,
                  returned: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """What a retry line (2000100: "retry your call on the period mentioned above") leaves to ask again: the
    days of its `periode` within the one asked that no good line of the stream returned. A line that echoes
    the whole request names, in effect, the days missing around it."""
    periode = line.get("periode") if isinstance(line.get("periode"), dict) else {}
    lo = max(start, _day(periode.get("date_debut")) or start)
    hi = min(end, _day(periode.get("date_fin")) or end)
    periods: list[tuple[dt.date, dt.date]] = []
    day = lo
    while day < hi:
        if day not in returned:
            if periods and periods[-1][1] == day:
                periods[-1] = (periods[-1][0], day + dt.timedelta(days=1))
            else:
                periods.append((day, day + dt.timedelta(days=1)))
        day += dt.timedelta(days=1)
    return periods


def http_error(response: httpx.Response) -> DsoError:
    """Non-2xx answers. 4xx bodies carry either a GDA code or a statut_restitution."""
    status = response.status_code
    code: str | None = None
    message = response.reason_phrase
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if body.get("code_statut_traitement"):
            code, message = str(body["code_statut_traitement"]), str(body.get("message_retour_traitement"))
        elif isinstance(body.get("statut_restitution"), dict):
            code = str(body["statut_restitution"].get("code"))
            message = str(body["statut_restitution"].get("message"))
        elif body.get("error"):
            code = str(body["error"])
            message = str(body.get("error_description") or body.get("message") or message)
    text = f"ADICT HTTP {status}: {message}"
    if status == 429:
        return QuotaExceeded(text, code=code, retry_after=retry_after(response), status=status)
    if status >= 500 or status == 408:
        return Transient(text, code=code, retry_after=retry_after(response), status=status)
    return BadRequest(text, code=code, status=status)


def _day(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def reading_from_line(line: dict[str, Any]) -> DailyReading | None:
    conso = line.get("consommation")
    if not isinstance(conso, dict):
        return None
    day = _day(conso.get("journee_gaziere"))
    if day is None:
        start = _day(conso.get("date_debut_consommation"))
        if start is None:
            raise Transient("ADICT informative line without a gas day", code="malformed_line")
        day = start
    energy_kwh = _number(conso.get("energie"))
    qualification = fold(conso.get("type_qualif_conso"))
    if energy_kwh is None or qualification == "ABSENCE DE DONNEES":
        return None
    quality = {"MESURE": "measured", "ESTIME": "estimated", "CORRIGE": "corrected"}.get(qualification, "measured")
    coeff = (conso.get("coeff_calcul") or {}).get("coeff_conversion")
    return DailyReading(day=day, wh=int(round(energy_kwh * 1000)), volume_m3=_number(conso.get("volume_brut")),
                        conversion_coefficient=_number(coeff), quality=quality,
                        final=fold(conso.get("statut_conso")) == "DEFINITIVE")


def readings_in(lines: list[Any], start: dt.date, end: dt.date) -> list[DailyReading]:
    """The gas days in [start, end) of an answer's lines, in day order; a final value wins over a provisional
    one. Lines that are no reading (status, error) are left to the caller to judge."""
    readings: dict[dt.date, DailyReading] = {}
    for line in lines:
        if not isinstance(line, dict) or "code_statut_traitement" in line or business_error(
                line.get("statut_restitution")) is not None:
            continue
        reading = reading_from_line(line)
        if reading is None or not start <= reading.day < end:
            continue
        known = readings.get(reading.day)
        if known is None or (reading.final and not known.final):
            readings[reading.day] = reading
    return [readings[day] for day in sorted(readings)]


def normalise_access_right(raw: dict[str, Any]) -> dict[str, Any]:
    flags = {key: fold(raw.get(f"perim_donnees_{key}")) == "VRAI"
             for key in ("informatives", "publiees", "contractuelles", "techniques")}
    return {
        "access_right_id": raw.get("id_droit_acces"),
        "pce": raw.get("id_pce"),
        "status": access_state(raw.get("etat_droit_acces")),
        "state": raw.get("etat_droit_acces"),
        "role": raw.get("role_tiers"),
        "start": _day(raw.get("date_debut_droit_acces")),
        "end": _day(raw.get("date_fin_droit_acces")),
        "history_from": _day(raw.get("perim_donnees_conso_debut")),
        "history_to": _day(raw.get("perim_donnees_conso_fin")),
        "scope": flags,
        "created_at": raw.get("date_creation") or raw.get("date_creation_droit_acces"),
        "revoked_at": raw.get("date_revocation"),
        "revocation_source": raw.get("source_revocation"),
        "refused_at": raw.get("date_passage_a_refuse"),
        "refusal_source": raw.get("source_passage_a_refuse"),
        "obsolete_at": raw.get("date_passage_a_obsolete"),
        "journey": raw.get("parcours"),
        "proof_status": raw.get("statut_controle_preuve"),
    }


def contract_from(pce: str, data: dict[str, Any]) -> dict[str, Any]:
    """donnees_contractuelles, normalised; `car` and `cja` come as numbers (v1.6) or objects (v1.9)."""
    car = data.get("car")
    cja = data.get("cja")
    profile = data.get("profil") or {}
    if not isinstance(profile, dict):
        profile = {"profil_type_actuel": profile}
    car_kwh = _number(car.get("car_actuelle") if isinstance(car, dict) else car)
    cja_kwh = _number(cja.get("cja") if isinstance(cja, dict) else cja)
    return {
        "pce": pce,
        "status": "active",
        "tariff": data.get("tarif_acheminement"),
        "annual_consumption_kwh": int(round(car_kwh)) if car_kwh is not None else None,
        "daily_capacity_kwh": cja_kwh,
        "profile": profile.get("profil_type_actuel"),
        "profile_start": _day(profile.get("date_debut_profil_type_actuel")),
        "profile_end": _day(profile.get("date_fin_profil_type_actuel")),
        "commissioning_date": _day(data.get("date_mes")),
        "published_on": _day(data.get("date_publication")),
    }


def technical_from(pce: str, data: dict[str, Any]) -> dict[str, Any]:
    place = data.get("situation_compteur") or {}
    meter = data.get("caracteristiques_compteur") or {}
    pitd = data.get("pitd") or {}
    street = " ".join(str(p) for p in (place.get("numero_rue"), place.get("nom_rue")) if p)
    return {
        "pce": pce,
        "frequency": meter.get("frequence"),
        "daily_data": meter.get("frequence") in ("1M", "MM"),
        "meter_calibre": meter.get("code_calibre"),
        "meter_serial": meter.get("matricule_compteur"),
        "address": street or None,
        "postal_code": place.get("code_postal"),
        "city": place.get("commune"),
        "pitd": pitd.get("identifiant_pitd"),
    }
