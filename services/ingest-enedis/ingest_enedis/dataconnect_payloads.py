"""The pure mapping of Data Connect payloads (either generation) to our values: consent redirects, daily
readings, load-curve intervals, peaks, contracts' codes and error bodies. No I/O."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ingest_enedis.dataconnect_calendar import PARIS
from metro.dso import Transient

PRM_PATTERN = re.compile(r"^\d{14}$")
CURVE_NOT_RECORDED = "ADAM-ERR0075"
_DISTRIBUTION_TARIFF_OPTION = {"ST": "BASE", "DT": "HC", "U4": "HC_SEASONAL"}


@dataclass(frozen=True)
class ConsentRedirect:
    """What the consent page sent back to our redirect URI."""
    state: str | None
    prms: tuple[str, ...] = ()
    autorisation_id: str | None = None
    error: str | None = None
    error_description: str | None = None

    @property
    def granted(self) -> bool:
        return self.error is None and (bool(self.prms) or self.autorisation_id is not None)


@dataclass(frozen=True)
class DailyMaxPower:
    day: dt.date
    va: int
    at: dt.datetime | None = field(default=None)


@dataclass(frozen=True)
class CurvePoint:
    """One load-curve interval: its start (UTC), length in minutes and average power in W."""
    start: dt.datetime
    minutes: int
    w: int


def _step_minutes(value: Any) -> int:
    match = re.fullmatch(r"PT(\d+)M", str(value or "PT30M"))
    if not match:
        raise Transient(f"unexpected load-curve step {value!r}", code="unexpected_body")
    return int(match.group(1))


def load_curve_points(body: Any) -> list[CurvePoint]:
    """A load-curve answer (either generation) as intervals. The DSO stamps each point with the END of its
    interval in local time without an offset: on the October DST day 02:00 and 02:30 come twice, told apart
    by their order; the step may change from one point to the next."""
    try:
        if isinstance(body, dict) and "meter_reading" in body:
            raw = [(r["date"], r["value"], r.get("interval_length"))
                   for r in body["meter_reading"].get("interval_reading") or []]
        elif isinstance(body, dict) and "grandeur" in body:
            raw = [(p["d"], p["v"], p.get("p")) for g in body["grandeur"] or [] for p in g.get("points") or []]
        else:
            raise Transient("unexpected load-curve body", code="unexpected_body")
    except (AttributeError, KeyError, TypeError) as exc:
        raise Transient(f"unexpected load-curve body: {exc!r}", code="unexpected_body") from exc
    points: list[CurvePoint] = []
    previous: dt.datetime | None = None
    for stamp, value, step in raw:
        if value in (None, ""):
            continue
        local = dt.datetime.fromisoformat(str(stamp))
        end = local.replace(tzinfo=PARIS).astimezone(dt.UTC)
        if previous is not None and end <= previous:
            end = local.replace(tzinfo=PARIS, fold=1).astimezone(dt.UTC)
        minutes = _step_minutes(step)
        points.append(CurvePoint(end - dt.timedelta(minutes=minutes), minutes, int(value)))
        previous = end
    return points


def parse_consent_redirect(params: Mapping[str, str]) -> ConsentRedirect:
    """v1 callbacks carry `usage_point_id` (`;` since late 2023, `,` before), v2 callbacks `autorisation_id`."""
    raw = params.get("usage_point_id") or ""
    prms = tuple(dict.fromkeys(p.strip() for p in re.split(r"[;,]", raw) if p.strip()))
    error = params.get("error")
    if error is None and raw and not all(PRM_PATTERN.match(p) for p in prms):
        error = "invalid_usage_point_id"
    return ConsentRedirect(state=params.get("state"), prms=prms if error is None else (),
                           autorisation_id=params.get("autorisation_id") or None, error=error,
                           error_description=params.get("error_description"))


def error_fields(body: Any) -> tuple[str | None, str]:
    """The error code and text of any of the DSO's body shapes (business, WSO2 fault, 2026 `code/message`)."""
    if not isinstance(body, dict):
        return None, ""
    if isinstance(body.get("fault"), dict):
        body = body["fault"]
    code = body.get("error") if body.get("error") is not None else body.get("code")
    text = " ".join(str(body[k]) for k in ("error_description", "message", "description") if body.get(k))
    return (str(code) if code is not None else None), text


def parse_day(value: str) -> dt.date:
    return dt.date.fromisoformat(value[:10])


def kva_of(value: Any) -> int | None:
    if isinstance(value, dict):
        value = value.get("value")
    match = re.search(r"\d+", str(value or ""))
    return int(match.group()) if match else None


def distribution_tariff_option(distribution_tariff: str | None) -> str | None:
    """The DSO only knows the distribution tariff (TURPE option), not the supplier offer (Tempo is invisible)."""
    if not distribution_tariff:
        return None
    code = distribution_tariff.upper()
    for suffix, option in _DISTRIBUTION_TARIFF_OPTION.items():
        if code.startswith("BTINF") and code.endswith(suffix):
            return option
    text = code.lower()
    if "deux saisons" in text:
        return "HC_SEASONAL"
    if "heures creuses" in text:
        return "HC"
    if "sans différenciation" in text or "sans differenciation" in text:
        return "BASE"
    return None


def contract_status(code: str | None) -> str | None:
    return {"SERVC": "active", "RESIL": "terminated", "ECRES": "terminating", "ECRAC": "connecting",
            "INACCE": "inaccessible"}.get((code or "").upper(), (code or None) and code.lower())


def customer_usage_point(body: Any) -> dict[str, Any]:
    """v5 customers payloads, with or without the `customer` wrapper."""
    if isinstance(body, dict) and isinstance(body.get("customer"), dict):
        body = body["customer"]
    points = body.get("usage_points") if isinstance(body, dict) else None
    if not points:
        raise Transient("customers payload without usage_points", code="unexpected_body")
    return points[0]


def daily_consumption_readings(body: Any) -> list[tuple[dt.date, int]]:
    """A daily consumption answer (either generation) as (day, Wh); replays read kept answers with it."""
    return [(parse_day(d), int(v)) for d, v in metering_points(body)]


def metering_points(body: Any) -> list[tuple[str, str]]:
    try:
        if isinstance(body, dict) and "meter_reading" in body:
            readings = body["meter_reading"].get("interval_reading") or []
            return [(str(r["date"]), str(r["value"])) for r in readings if r.get("value") not in (None, "")]
        if isinstance(body, dict) and "grandeur" in body:
            points = [p for g in body["grandeur"] or [] for p in g.get("points") or []]
            return [(str(p["d"]), str(p["v"])) for p in points if p.get("v") not in (None, "")]
    except (AttributeError, KeyError, TypeError) as exc:
        raise Transient(f"unexpected metering body: {exc!r}", code="unexpected_body") from exc
    raise Transient("metering body has neither meter_reading nor grandeur", code="unexpected_body")
