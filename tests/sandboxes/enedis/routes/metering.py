"""Daily metering data: consumption, maximum power and production, in the v5 and the 2026 (v1, v2) shapes."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..customers import PRM_PATTERN
from ..dates import curve_history_deadline, history_deadline
from ..gateway import ApiError, Client, Sandbox, finish, v2_error, v5_error
from ..state import SandboxState

CURVE_MAX_DAYS = 7
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")

router = APIRouter()


def parse_window(prm: str | None, start: str | None, end: str | None, shape: str) -> tuple[str, dt.date, dt.date]:
    french = shape == "v2"
    if not prm:
        raise v2_error(400, "Le paramètre usage_point_id est obligatoire") if french else \
            v5_error("usage_point_id parameter is required.")
    if not PRM_PATTERN.match(prm):
        raise v2_error(400, "Le paramètre usage_point_id doit comporter 14 chiffres") if french else \
            v5_error("usage_point_id parameter must be 14 digits long.")
    parsed = []
    for name, value in (("Start", start), ("End", end)):
        if not value:
            raise v2_error(400, f"Le paramètre date{'Debut' if name == 'Start' else 'Fin'} est obligatoire") \
                if french else v5_error(f"{name} date parameter is required.", "invalid_request")
        try:
            if not DATE_PATTERN.match(value):
                raise ValueError(value)
            parsed.append(dt.date.fromisoformat(value))
        except ValueError:
            raise v2_error(400, "Le format de date attendu est AAAA-MM-JJ") if french else \
                v5_error(f"{name.lower()} date parameter must be in the format yyyy-mm-dd.", "invalid_request")
    return prm, parsed[0], parsed[1]


def check_period(state: SandboxState, client_id: str, prm: str, start: dt.date, end: dt.date, shape: str,
                 direction: str, curve: bool = False):
    french = shape == "v2"
    today = state.clock.today()
    if start >= end:
        raise v2_error(400, "La date de début doit être antérieure à la date de fin") if french else \
            v5_error("Start date should be before end date.")
    if end > today:
        raise v2_error(400, "La date de fin doit être antérieure ou égale à la date du jour") if french else \
            v5_error("The end date parameter must be earlier than the current date.")
    if curve and (end - start).days > CURVE_MAX_DAYS:
        raise v5_error("The requested period must be less than 7 days for an access to the load curve.",
                       "ADAM-ERR0126")
    limit = None if curve else state.config.max_daily_span_days
    if limit is not None and (end - start).days > limit:
        raise v2_error(400, f"La période demandée doit être inférieure à {limit} jours") if french else \
            v5_error(f"The requested period must be less than {limit} days.")
    if start < (curve_history_deadline(today) if curve else history_deadline(today)):
        raise v5_error("The start date must be greater than the history deadline.", "ADAM-ERR0125")
    meter = state.meters.get(prm)
    if meter is not None and start < meter.activation_date:
        raise v5_error("The requested period cannot be anterior to the meter's last activation date",
                       "ADAM-ERR0123")
    if meter is None or not state.consent_valid(client_id, prm):
        raise v2_error(403, "Le client n'est pas titulaire du point demandé") if french else \
            v5_error("No consent can be found for this customer and this usage point.", "ADAM-DC-0008", 403)
    if meter.contract.status == "terminated":
        raise v5_error("Le client n'est pas titulaire du point demandé.", "ADAM-DC-0007")
    if meter.direction != direction:
        raise v5_error("Le sens de la mesure ne correspond pas pour le PRM demandé", "ADAM-ERR0069")
    return meter


def published_series(state: SandboxState, meter, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    last = state.clock.last_published_day()
    return meter.daily_series(start, min(end, last + dt.timedelta(days=1)))


def no_data(shape: str) -> ApiError:
    if shape == "v2":
        return v2_error(404, "Pas de mesure trouvée pour ce point")
    return v5_error("no measure found for this usage point", "no_data_found", 404)


async def daily(request: Request, state: SandboxState, client_id: str, measure: str, shape: str) -> Response:
    q = request.query_params
    if shape == "v2":
        prm, start, end = parse_window(q.get("pointId"), q.get("dateDebut"), q.get("dateFin"), shape)
        if measure == "max_power":
            if q.get("mesuresPas") != "P1D":
                raise v2_error(400, "Le paramètre mesuresPas est obligatoire (P1D)")
            if q.get("grandeurPhysique") not in ("PMA", "TOUT"):
                raise v2_error(400, "Le paramètre grandeurPhysique est obligatoire")
    else:
        prm, start, end = parse_window(q.get("usage_point_id"), q.get("start"), q.get("end"), shape)
    state.count_prm(prm, "data")
    if measure == "max_power":
        state.counters["max_power_calls"] += 1
    meter = check_period(state, client_id, prm, start, end, shape,
                         "production" if measure == "production" else "consumption")
    series = published_series(state, meter, start, end)
    if not series:
        raise no_data(shape)
    if measure == "max_power":
        peaks = [meter.max_power(day, wh) for day, wh in series]
        points = [(moment.strftime("%Y-%m-%d %H:%M:%S"), va) for va, moment in peaks]
    else:
        points = [(day.isoformat(), wh) for day, wh in series]
    if shape == "v2":
        grandeur = {"grandeurMetier": "PROD" if measure == "production" else "CONS",
                    "grandeurPhysique": "PMA" if measure == "max_power" else "EA",
                    "unite": "VA" if measure == "max_power" else "Wh",
                    "points": [{"v": str(v), "d": d} for d, v in points], "calendrier": []}
        body: dict[str, Any] = {"idPrm": prm, "etapeMetier": "BRUT",
                                "periode": {"dateDebut": start.isoformat(), "dateFin": end.isoformat()},
                                "modeCalcul": "MESURE" if measure == "max_power" else "DIFF.INDEX",
                                "pas": "P1D", "grandeur": [grandeur], "contexte": []}
        if measure != "max_power":
            body["typeValeur"] = "GLOBALE"
        return finish(state, body)
    reading_type = ({"unit": "VA", "measurement_kind": "power", "aggregate": "maximum", "measuring_period": "P1D"}
                    if measure == "max_power" else
                    {"unit": "Wh", "measurement_kind": "energy", "aggregate": "sum", "measuring_period": "P1D"})
    return finish(state, {"meter_reading": {
        "usage_point_id": prm, "start": start.isoformat(), "end": end.isoformat(), "quality": "BRUT",
        "reading_type": reading_type, "interval_reading": [{"value": str(v), "date": d} for d, v in points]}})


def bind(measure: str, shape: str):
    async def endpoint(request: Request, state: Sandbox, client_id: Client) -> Response:
        return await daily(request, state, client_id, measure, shape)
    return endpoint


V5_PATHS = {"daily_consumption": "/metering_data_dc/v5/daily_consumption",
            "daily_consumption_max_power": "/metering_data_dcmp/v5/daily_consumption_max_power",
            "daily_production": "/metering_data_dp/v5/daily_production"}
for name, measure in (("daily_consumption", "consumption"), ("daily_consumption_max_power", "max_power"),
                      ("daily_production", "production")):
    for path in (V5_PATHS[name], f"/mesure_synchrone_auto/v1/metering_data/{name}"):
        router.add_api_route(path, bind(measure, "v5"), methods=["GET"])
for name, measure in (("consommation_quotidienne", "consumption"), ("puissance_conso_max_quotidienne", "max_power"),
                      ("production_quotidienne", "production")):
    router.add_api_route(f"/mesure_synchrone_auto/v2/{name}", bind(measure, "v2"), methods=["GET"])
