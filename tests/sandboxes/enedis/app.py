"""Enedis Data Connect simulator: consent pages (v1, v2), client-credentials token, metering data (v5 and
2026 shapes), contract and address data, with the real rules and errors, plus a control API under /_sandbox/.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import re
import secrets
import time
from dataclasses import asdict, replace
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from .customers import (CONTRACT_STATUSES, DISTRIBUTION_TARIFF_LABEL, PRM_PATTERN, PROFILES, TARIFF_OPTIONS,
                        Customer, default_meter, mix, with_overrides)
from .state import PARIS, SandboxConfig, SandboxState

DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION_PATTERN = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
TECHNICAL_ERROR = {"error": "technical_error", "error_description": "Technical error. Please try later."}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        self.status, self.body, self.headers = status, body, headers or {}


def json_response(body: Any, status: int = 200, media_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)


def history_deadline(today: dt.date) -> dt.date:
    """Oldest start the daily endpoints accept: 36 months and 15 days back."""
    return add_months(today, -36) - dt.timedelta(days=15)


def paris_datetime(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=PARIS).strftime("%Y-%m-%dT%H:%M:%S%z")


def offset_date(day: dt.date) -> str:
    """v5 customers dates look like `2017-07-15+02:00`."""
    offset = dt.datetime.combine(day, dt.time(), PARIS).strftime("%z")
    return f"{day.isoformat()}{offset[:3]}:{offset[3:]}"


# --- control API bodies -----------------------------------------------------------------------------------

class AddressIn(BaseModel):
    street: str | None = None
    postal_code: str | None = None
    insee_code: str | None = None
    city: str | None = None
    locality: str | None = None


class ContractIn(BaseModel):
    tariff_option: str | None = Field(None, description="BASE, HC or Tempo")
    subscribed_kva: int | None = None
    offpeak_hours: str | None = None
    status: str | None = Field(None, description="active or terminated")
    terminated_on: dt.date | None = None


class CustomerIn(BaseModel):
    customer_id: str | None = None
    prms: list[str] | None = None
    count: int = Field(1, ge=1, le=20, description="PRMs to generate when prms is not given")
    profile: str | None = None
    activation_date: dt.date | None = None
    hole_rate: float | None = Field(None, ge=0.0, le=1.0)
    address: AddressIn | None = None
    contract: ContractIn | None = None
    consent: bool = Field(False, description="grant consent to every registered client without the page")
    consent_days: int = 1095


class BulkIn(BaseModel):
    count: int = Field(..., ge=1, le=100_000)
    seed: int = 0
    profile: str | None = None
    consent: bool = True


class SessionIn(BaseModel):
    customer_id: str | None


class FaultsIn(BaseModel):
    latency_ms: int | None = Field(None, ge=0)
    fail_next_500: int | None = Field(None, ge=0)
    fail_next_429: int | None = Field(None, ge=0)
    truncate_next: int | None = Field(None, ge=0)
    outage_minutes: float | None = Field(None, ge=0)


class QuotasIn(BaseModel):
    per_second: int | None = Field(None, ge=1)
    per_hour: int | None = Field(None, ge=1)


class ClockIn(BaseModel):
    now: dt.datetime
    frozen: bool = True


class AdvanceIn(BaseModel):
    seconds: float


class ConsentIn(BaseModel):
    client_id: str | None = None


def create_app(config: SandboxConfig | None = None) -> FastAPI:
    state = SandboxState(config or SandboxConfig())
    app = FastAPI(title="Enedis Data Connect sandbox", docs_url="/_sandbox/docs", openapi_url="/_sandbox/openapi.json")
    app.state.sandbox = state

    # --- shared request pipeline ------------------------------------------------------------------------

    def authenticate(request: Request) -> str:
        header = request.headers.get("authorization", "")
        client_id = state.token_client(header[7:].strip()) if header[:7].lower() == "bearer " else None
        if client_id is None:
            raise ApiError(401, {"fault": {
                "code": 900901, "message": "Invalid Credentials",
                "description": "Invalid JWT token. Make sure you have provided the correct security credentials"}})
        return client_id

    def throttle_body(kind: str, wait: float) -> tuple[dict[str, Any], dict[str, str]]:
        if kind == "hour":
            # Quotas run on real time (see QuotaWindow), so the instant given back is real time too.
            at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait + 1)
            stamp = at.strftime("%Y-%b-%d %H:%M:%S+0000 UTC")
            return {"code": "900804", "message": "Message throttled out",
                    "description": f"You have exceeded your quota .You can access API after {stamp}",
                    "nextAccessTime": stamp}, {}
        return {"fault": {"code": 900807, "message": "Message throttled out",
                          "description": "You have exceeded your quota"}}, {}

    async def gateway(request: Request) -> str:
        """What every data call goes through before the business rules: auth, quotas, injected faults."""
        state.counters["calls"] += 1
        faults = state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.outage_until is not None and state.clock.now() < faults.outage_until:
            raise ApiError(503, {"error": "Service Unavailable",
                                 "error_description": "Service unavailable for the moment. Please try later."})
        client_id = authenticate(request)
        if faults.fail_next_429:
            faults.fail_next_429 -= 1
            raise ApiError(429, throttle_body("second", 1.0)[0])
        verdict, wait = state.admit(client_id)
        if verdict is not None:
            body, headers = throttle_body(verdict, wait)
            raise ApiError(429, body, headers)
        if faults.fail_next_500:
            faults.fail_next_500 -= 1
            raise ApiError(500, TECHNICAL_ERROR)
        return client_id

    def finish(body: Any, media_type: str = "application/json") -> Response:
        content = orjson.dumps(body)
        if state.faults.truncate_next:
            state.faults.truncate_next -= 1
            content = content[: len(content) // 2]
        return Response(content, media_type=media_type)

    @app.middleware("http")
    async def count_status(request: Request, call_next):
        response = await call_next(request)
        if not request.url.path.startswith("/_sandbox"):
            state.status_counts[response.status_code] += 1
            if response.status_code == 429:
                state.counters["throttled"] += 1
            elif response.status_code < 300 and not request.url.path.startswith(("/oauth2", "/dataconnect")):
                state.counters["served"] += 1
        return response

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> Response:
        return json_response(error.body, error.status, headers=error.headers)

    # --- consent pages ------------------------------------------------------------------------------------

    def duration_end(duration: str | None, start: dt.date) -> dt.date:
        if not duration:
            raise ApiError(400, {"error": "invalid_request", "error_description": "missing_parameter"})
        if duration.startswith("P") and "T" in duration:
            # Units other than D/W/M/Y break the consent page instead of being refused cleanly.
            raise ApiError(500, {"error": "server_error", "error_description": "lincs-internal-server-error"})
        if duration.startswith("-P"):
            raise ApiError(400, {"error": "invalid_request", "error_description": "maximum_duration_exceeded"})
        match = DURATION_PATTERN.match(duration)
        if not match or not any(match.groups()):
            raise ApiError(400, {"error": "invalid_request", "error_description": "invalid_duration_format"})
        years, months, weeks, days = (int(g or 0) for g in match.groups())
        end = add_months(start, 12 * years + months) + dt.timedelta(weeks=weeks, days=days)
        if end <= start or end > add_months(start, 36):
            raise ApiError(400, {"error": "invalid_request", "error_description": "maximum_duration_exceeded"})
        return end

    def consent_customer(state_param: str, login_hint: str | None) -> Customer:
        for candidate in (login_hint, state.session_customer):
            if candidate and candidate in state.customers:
                return state.customers[candidate]
        digit = state_param[-1] if state_param and state_param[-1].isdigit() else "0"
        return state.customers.get(f"sandbox-{digit}", state.customers["sandbox-0"])

    def check_authorize(params: dict[str, str]) -> tuple[Any, dt.date]:
        client = state.clients.get(params.get("client_id") or "")
        if client is None:
            raise ApiError(404, {})
        if not params.get("response_type"):
            raise ApiError(400, {"error": "invalid_request", "error_description": "missing_parameter"})
        if params["response_type"] != "code":
            raise ApiError(400, {"error": "invalid_request", "error_description": "Response type parameter is required"})
        if len(params.get("state", "")) > 100:
            raise ApiError(400, {"error": "invalid_request", "error_description": "invalid_state"})
        return client, duration_end(params.get("duration"), state.clock.today())

    def not_found_page() -> HTMLResponse:
        return HTMLResponse("<html><body><h1>Erreur 404</h1><p>La page que vous recherchez n'existe pas</p>"
                            "</body></html>", status_code=404)

    def consent_page(generation: str, params: dict[str, str], customer: Customer, client, end: dt.date) -> str:
        e = html.escape
        kind = "checkbox" if generation == "v1" else "radio"
        points = "".join(
            f'<li><label><input type="{kind}" name="usage_point_id" value="{m.prm}"'
            f'{" checked" if generation == "v1" or i == 0 else ""}> Compteur {m.prm} — '
            f'{e(m.address.street)}, {m.address.postal_code} {e(m.address.city)}</label></li>'
            for i, m in enumerate(customer.meters))
        hidden = "".join(f'<input type="hidden" name="{k}" value="{e(params.get(k, ""))}">'
                         for k in ("client_id", "response_type", "state", "duration"))
        return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Enedis — Partage de mes données</title></head><body>
<h1>Autorisez-vous {e(client.name)} à accéder à vos données ?</h1>
<p>Client connecté : <span id="customer">{e(customer.customer_id)}</span>.
Durée du consentement : {e(params.get("duration", ""))} (jusqu'au {end.isoformat()}).</p>
<form id="consent" method="post" action="/dataconnect/{generation}/oauth2/authorize">{hidden}
<input type="hidden" name="customer_id" value="{e(customer.customer_id)}">
<ul id="usage-points">{points}</ul>
<button type="submit" name="decision" value="accept" id="accept">Accepter</button>
<button type="submit" name="decision" value="refuse" id="refuse">Refuser</button>
</form></body></html>"""

    async def authorize_get(request: Request, generation: str) -> Response:
        params = dict(request.query_params)
        try:
            client, end = check_authorize(params)
        except ApiError as error:
            if error.status == 404:
                return not_found_page()
            raise
        customer = consent_customer(params.get("state", ""), params.get("login_hint"))
        return HTMLResponse(consent_page(generation, params, customer, client, end))

    async def authorize_post(request: Request, generation: str) -> Response:
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        try:
            client, end = check_authorize(params)
        except ApiError as error:
            if error.status == 404:
                return not_found_page()
            raise
        customer = state.customers.get(params.get("customer_id", ""))
        if customer is None:
            return not_found_page()
        state_param = params.get("state", "")
        if params.get("decision") != "accept":
            if state.config.report_refusal:
                query = {"error": "access_denied", "error_description": "access_denied", "state": state_param}
                return RedirectResponse(f"{client.redirect_uri}?{urlencode(query)}", status_code=302)
            return HTMLResponse("<html><body><h1>Vous avez refusé le partage de vos données.</h1>"
                                "<p>Vous pouvez fermer cette fenêtre.</p></body></html>")
        chosen = [str(p) for p in form.getlist("usage_point_id")] or customer.prms
        prms = [p for p in chosen if p in customer.prms]
        if not prms:
            raise ApiError(400, {"error": "invalid_request", "error_description": "missing_parameter"})
        expires = dt.datetime.combine(end, dt.time(), PARIS).astimezone(dt.UTC)
        if generation == "v1":
            for prm in prms:
                state.grant(client.client_id, prm, expires)
            query = {"code": secrets.token_urlsafe(18), "state": state_param, "usage_point_id": ";".join(prms)}
            return RedirectResponse(f"{client.redirect_uri}?{urlencode(query, safe=';')}", status_code=302)
        else:
            # Data Connect 2026: one PRM per consent, resolved later through subscribed_services.
            state.grant(client.client_id, prms[0], expires)
            autorisation = state.new_autorisation(client.client_id, prms[0], end)
            query = {"autorisation_id": str(autorisation.autorisation_id), "state": state_param}
        return RedirectResponse(f"{client.redirect_uri}?{urlencode(query)}", status_code=302)

    def bind(handler, *args):
        async def endpoint(request: Request) -> Response:
            return await handler(request, *args)
        return endpoint

    for generation in ("v1", "v2"):
        path = f"/dataconnect/{generation}/oauth2/authorize"
        app.add_api_route(path, bind(authorize_get, generation), methods=["GET"], include_in_schema=False)
        app.add_api_route(path, bind(authorize_post, generation), methods=["POST"], include_in_schema=False)

    # --- token ----------------------------------------------------------------------------------------------

    @app.post("/oauth2/v3/token")
    async def token(request: Request) -> Response:
        faults = state.faults
        if faults.outage_until is not None and state.clock.now() < faults.outage_until:
            raise ApiError(503, {"error": "Service Unavailable",
                                 "error_description": "Service unavailable for the moment. Please try later."})
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            raise ApiError(400, {"error": "invalid_request", "error_description":
                                 "Le Content-Type doit être application/x-www-form-urlencoded"})
        form = await request.form()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                client_id = secret = None
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, {"error": "unsupported_grant_type", "error_description":
                                 "The authorization grant type is not supported by the authorization server."})
        client = state.clients.get(str(client_id or ""))
        if client is None or not secrets.compare_digest(client.client_secret, str(secret or "")):
            raise ApiError(401, {"error": "invalid_client", "error_description":
                                 "Client authentication failed (e.g., unknown client, no client authentication "
                                 "included, or unsupported authentication method)."})
        state.counters["tokens_issued"] += 1
        return json_response({"access_token": state.issue_token(client.client_id),
                              "scope": "am_application_scope default", "token_type": "Bearer",
                              "expires_in": state.config.token_ttl_s})

    @app.post("/oauth2/v3/revoke")
    async def revoke(request: Request) -> Response:
        form = await request.form()
        state.revoked_tokens.add(str(form.get("token", "")))
        return json_response({"status_code": 200})

    # --- metering data -------------------------------------------------------------------------------------

    def v5_error(description: str, code: str = "Invalid_request", status: int = 400) -> ApiError:
        return ApiError(status, {"error": code, "error_description": description})

    def v2_error(status: int, message: str) -> ApiError:
        return ApiError(status, {"code": str(status), "message": message})

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

    def check_period(client_id: str, prm: str, start: dt.date, end: dt.date, shape: str, direction: str):
        french = shape == "v2"
        today = state.clock.today()
        if start >= end:
            raise v2_error(400, "La date de début doit être antérieure à la date de fin") if french else \
                v5_error("Start date should be before end date.")
        if end > today:
            raise v2_error(400, "La date de fin doit être antérieure ou égale à la date du jour") if french else \
                v5_error("The end date parameter must be earlier than the current date.")
        limit = state.config.max_daily_span_days
        if limit is not None and (end - start).days > limit:
            raise v2_error(400, f"La période demandée doit être inférieure à {limit} jours") if french else \
                v5_error(f"The requested period must be less than {limit} days.")
        if start < history_deadline(today):
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

    def published_series(meter, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
        last = state.clock.last_published_day()
        return meter.daily_series(start, min(end, last + dt.timedelta(days=1)))

    def no_data(shape: str) -> ApiError:
        if shape == "v2":
            return v2_error(404, "Pas de mesure trouvée pour ce point")
        return v5_error("no measure found for this usage point", "no_data_found", 404)

    async def daily(request: Request, measure: str, shape: str) -> Response:
        client_id = await gateway(request)
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
        meter = check_period(client_id, prm, start, end, shape,
                             "production" if measure == "production" else "consumption")
        series = published_series(meter, start, end)
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
            return finish(body)
        reading_type = ({"unit": "VA", "measurement_kind": "power", "aggregate": "maximum", "measuring_period": "P1D"}
                        if measure == "max_power" else
                        {"unit": "Wh", "measurement_kind": "energy", "aggregate": "sum", "measuring_period": "P1D"})
        return finish({"meter_reading": {
            "usage_point_id": prm, "start": start.isoformat(), "end": end.isoformat(), "quality": "BRUT",
            "reading_type": reading_type, "interval_reading": [{"value": str(v), "date": d} for d, v in points]}})

    routes = {
        "daily_consumption": "consumption", "daily_consumption_max_power": "max_power",
        "daily_production": "production",
    }
    v5_paths = {"daily_consumption": "/metering_data_dc/v5/daily_consumption",
                "daily_consumption_max_power": "/metering_data_dcmp/v5/daily_consumption_max_power",
                "daily_production": "/metering_data_dp/v5/daily_production"}
    for name, measure in routes.items():
        for path in (v5_paths[name], f"/mesure_synchrone_auto/v1/metering_data/{name}"):
            app.add_api_route(path, bind(daily, measure, "v5"), methods=["GET"])
    for name, measure in (("consommation_quotidienne", "consumption"), ("puissance_conso_max_quotidienne", "max_power"),
                          ("production_quotidienne", "production")):
        app.add_api_route(f"/mesure_synchrone_auto/v2/{name}", bind(daily, measure, "v2"), methods=["GET"])

    # --- customers data (v5) and 2026 ITC APIs ----------------------------------------------------------------

    def customer_meter(client_id: str, prm: str | None, shape: str):
        if shape == "v5":
            if not prm:
                raise v5_error("usage_point_id parameter is required.", "invalid_request")
            if not PRM_PATTERN.match(prm):
                raise v5_error("usage_point_id parameter must be 14 digits long.", "invalid_request")
        elif not prm or not PRM_PATTERN.match(prm):
            raise ApiError(500, {"code": "500", "message": "Problème technique dans l'interrogation du SI coeur"})
        meter = state.meters.get(prm)
        if meter is None or not state.consent_valid(client_id, prm):
            if shape == "v5":
                raise v5_error("No consent can be found for this customer and this usage point.", "ADAM-DC-0008", 403)
            raise v2_error(403, "Le client n'est pas autorisé pour le point demandé")
        if meter.direction != "consumption" and shape == "v5":
            raise v5_error("Unknown or unauthorized user", "STM-ERR-0000019", 404)
        return meter

    def usage_point(meter) -> dict[str, Any]:
        return {"usage_point_id": meter.prm, "usage_point_status": "com", "meter_type": "AMM"}

    async def itc_guard(request: Request) -> str:
        client_id = await gateway(request)
        if request.query_params:
            # The 2026 ITC APIs take the PRM in the path; anything outside the Swagger gets a 500.
            raise ApiError(500, {"code": "500", "message": "Problème technique dans l'interrogation du SI coeur"})
        return client_id

    @app.get("/customers_upc/v5/usage_points/contracts")
    async def contracts_v5(request: Request) -> Response:
        client_id = await gateway(request)
        meter = customer_meter(client_id, request.query_params.get("usage_point_id"), "v5")
        c = meter.contract
        contracts = {"segment": "C5", "subscribed_power": f"{c.subscribed_kva} kVA",
                     "last_activation_date": offset_date(meter.activation_date),
                     "distribution_tariff": c.distribution_tariff, "contract_type": "Contrat GRD-F",
                     "contract_status": c.dso_status,
                     "last_distribution_tariff_change_date": offset_date(c.last_change)}
        if c.offpeak_hours:
            contracts["offpeak_hours"] = c.offpeak_hours
        body = {"customer": {"customer_id": f"{mix(meter.seed, 5) % 10**10:010d}",
                             "usage_points": [{"usage_point": usage_point(meter), "contracts": contracts}]}}
        return finish(body, "application/octet-stream" if state.config.contracts_octet_stream else "application/json")

    @app.get("/customers_upa/v5/usage_points/addresses")
    async def addresses_v5(request: Request) -> Response:
        client_id = await gateway(request)
        meter = customer_meter(client_id, request.query_params.get("usage_point_id"), "v5")
        a = meter.address
        addresses = {"street": a.street, "postal_code": a.postal_code, "insee_code": a.insee_code,
                     "city": a.city, "country": a.country}
        if a.locality:
            addresses["locality"] = a.locality
        return finish({"customer": {"customer_id": f"{mix(meter.seed, 5) % 10**10:010d}", "usage_points": [
            {"usage_point": {**usage_point(meter), "usage_point_addresses": addresses}}]}})

    @app.get("/situation_contrat_auto/v1/{prm}")
    async def situation_contractuelle(prm: str, request: Request) -> Response:
        meter = customer_meter(await itc_guard(request), prm, "2026")
        c = meter.contract
        if meter.direction == "production":
            return finish([{"usage_point_id": prm, "contract_start": paris_datetime(
                dt.datetime.combine(c.contract_start, dt.time())), "contract_type": "Contrat GRD-A", "segment": "P4"}])
        return finish([{
            "usage_point_id": prm,
            "contract_start": paris_datetime(dt.datetime.combine(c.contract_start, dt.time())),
            "contract_type": "Contrat GRD-F",
            "contract_status": c.dso_status,
            "distribution_tariff": DISTRIBUTION_TARIFF_LABEL[c.distribution_tariff],
            "subscribed_power": {"unit": "kVA", "value": str(c.subscribed_kva)},
            "segment": "C5",
        }])

    @app.get("/synth_contrat_auto/v1/{prm}")
    async def synthese_contractuelle(prm: str, request: Request) -> Response:
        meter = customer_meter(await itc_guard(request), prm, "2026")
        key = "generation" if meter.direction == "production" else "consumption"
        return finish({"segments": [{"segment": "P4" if key == "generation" else "C5"}],
                       f"{key}_last_activation_date": paris_datetime(
                           dt.datetime.combine(meter.activation_date, dt.time())),
                       "last_subscribed_power_change_date": paris_datetime(
                           dt.datetime.combine(meter.contract.last_change, dt.time())),
                       "services_level": "Communicant (ouvert aux services)"})

    @app.get("/comptage_auto/v1/{prm}")
    async def situation_comptage(prm: str, request: Request) -> Response:
        meter = customer_meter(await itc_guard(request), prm, "2026")
        relais = {"plageHeuresCreuses": meter.contract.offpeak_hours} if meter.contract.offpeak_hours else {}
        return finish({"dispositifComptage": {"typeComptage": {"code": "LINKY", "libelle": "Compteur Linky"},
                                              "compteurs": [{"numeroSerie": f"{mix(meter.seed, 6):012d}",
                                                             "regimePropriete": "PROP"}],
                                              "relais": relais}})

    @app.get("/donnees_generales_auto/v1/{prm}")
    async def donnees_generales(prm: str, request: Request) -> Response:
        meter = customer_meter(await itc_guard(request), prm, "2026")
        a = meter.address
        address = {"number_street_name": a.street, "postal_code_city": f"{a.postal_code} {a.city}",
                   "insee_code": a.insee_code}
        if a.locality:
            address["locality"] = a.locality
        return finish({"address": address})

    async def subscribed_services(request: Request) -> Response:
        client_id = await gateway(request)
        try:
            query = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise ApiError(400, {"code": "400", "message": "Requête invalide"})
        if not isinstance(query, dict) or "comptage" not in query or "autorisationId" not in query:
            raise ApiError(400, {"code": "400", "message": "Les paramètres autorisationId et comptage sont obligatoires"})
        autorisation = state.autorisations.get(int(query["autorisationId"] or 0))
        services = []
        if autorisation is not None and autorisation.client_id == client_id:
            consent = state.consents.get((client_id, autorisation.prm))
            etat = "ACTIF" if consent is not None and consent.valid(state.clock.now()) else "TERMINE"
            wanted = query.get("etatCode") or ["ACTIF", "DEMANDE"]
            meter = state.meters[autorisation.prm]
            if etat in wanted:
                services.append({
                    "id": str(autorisation.autorisation_id), "injection": meter.direction == "production",
                    "soutirage": meter.direction == "consumption", "serviceCode": "ACCES",
                    "dateDebut": autorisation.start.isoformat(), "dateFin": autorisation.end.isoformat(),
                    "etatCode": etat, "etatLibelle": etat.capitalize(), "pointId": autorisation.prm,
                    "mesuresTypeCode": "ENERGIE", "mesuresPas": "P1D", "periodiciteTransmission": "P1D",
                    "mesuresCorrigees": False, "espaceDynamique": False, "publicationDonnees": False,
                    "autorisation": {"autorisationId": autorisation.autorisation_id,
                                     "autorisationLibelle": "Consentement client", "autorisationType": "EXPLICITE"}})
        if query.get("comptage"):
            return finish({"nbTotalServices": len(services)})
        return finish({"nbTotalServices": len(services), "serviceSouscrit": services})

    for path in ("/subscribed_services/v1/", "/subscribed_services/v1"):
        app.add_api_route(path, subscribed_services, methods=["POST"])

    # --- control API ----------------------------------------------------------------------------------------

    def build_customer(spec: CustomerIn, customer_id: str, prms: list[str]) -> Customer:
        if spec.profile is not None and spec.profile not in PROFILES:
            raise ApiError(422, {"error": "unknown_profile", "detail": f"profile must be one of {PROFILES}"})
        contract = spec.contract.model_dump(exclude_none=True) if spec.contract else None
        if contract:
            if contract.get("tariff_option") not in (None, *TARIFF_OPTIONS):
                raise ApiError(422, {"error": "unknown_tariff_option", "detail": f"one of {TARIFF_OPTIONS}"})
            if contract.get("status") not in (None, *CONTRACT_STATUSES):
                raise ApiError(422, {"error": "unknown_contract_status", "detail": f"one of {CONTRACT_STATUSES}"})
            if contract.get("status") == "terminated" and "terminated_on" not in contract:
                contract["terminated_on"] = state.clock.today()
        meters = []
        for prm in prms:
            if not PRM_PATTERN.match(prm):
                raise ApiError(422, {"error": "invalid_prm", "detail": f"{prm} is not 14 digits"})
            meter = with_overrides(default_meter(prm, state.clock.today(), profile=spec.profile),
                                   activation_date=spec.activation_date, hole_rate=spec.hole_rate, contract=contract,
                                   address=spec.address.model_dump(exclude_none=True) if spec.address else None)
            meters.append(meter)
        return Customer(customer_id, meters)

    def fresh_prm() -> str:
        while True:
            prm = f"{secrets.randbelow(10**14):014d}"
            if prm not in state.meters:
                return prm

    def grant_all(prms: list[str], days: int) -> None:
        expires = state.clock.now() + dt.timedelta(days=days)
        for client_id in state.clients:
            for prm in prms:
                state.grant(client_id, prm, expires)

    def describe(customer: Customer) -> dict[str, Any]:
        return {"customer_id": customer.customer_id, "login_hint": customer.customer_id,
                "prms": customer.prms, "meters": [meter_view(m) for m in customer.meters]}

    def meter_view(meter) -> dict[str, Any]:
        contract = asdict(meter.contract)
        contract["distribution_tariff"] = meter.contract.distribution_tariff
        return {"prm": meter.prm, "profile": meter.profile, "direction": meter.direction,
                "activation_date": meter.activation_date, "hole_rate": meter.hole_rate,
                "hole_weekdays": sorted(meter.hole_weekdays), "contract": contract,
                "address": asdict(meter.address)}

    @app.post("/_sandbox/customers", status_code=201, tags=["control"])
    async def create_customer(spec: CustomerIn) -> dict[str, Any]:
        customer_id = spec.customer_id or f"customer-{secrets.token_hex(4)}"
        if customer_id in state.customers:
            raise ApiError(409, {"error": "customer_exists", "detail": customer_id})
        prms = spec.prms or [fresh_prm() for _ in range(spec.count)]
        taken = [p for p in prms if p in state.meters]
        if taken:
            raise ApiError(409, {"error": "prm_taken", "detail": ",".join(taken)})
        customer = build_customer(spec, customer_id, prms)
        state.add_customer(customer)
        if spec.consent:
            grant_all(prms, spec.consent_days)
        return describe(customer)

    @app.post("/_sandbox/customers/bulk", status_code=201, tags=["control"])
    async def create_customers_in_bulk(spec: BulkIn) -> dict[str, Any]:
        """One single-PRM customer per PRM, PRMs derived from the seed so a benchmark can be replayed."""
        prms = []
        for i in range(spec.count):
            prm = f"{(mix(spec.seed, i, 11) * 4294967296 + mix(spec.seed, i, 12)) % 10**14:014d}"
            if prm in state.meters:
                continue
            customer = build_customer(CustomerIn(profile=spec.profile), f"bulk-{spec.seed}-{i}", [prm])
            state.add_customer(customer)
            prms.append(prm)
        if spec.consent:
            grant_all(prms, 1095)
        return {"count": len(prms), "prms": prms}

    @app.get("/_sandbox/customers/{customer_id}", tags=["control"])
    async def read_customer(customer_id: str) -> dict[str, Any]:
        if customer_id not in state.customers:
            raise ApiError(404, {"error": "unknown_customer", "detail": customer_id})
        return describe(state.customers[customer_id])

    @app.get("/_sandbox/meters/{prm}", tags=["control"])
    async def read_meter(prm: str) -> dict[str, Any]:
        if prm not in state.meters:
            raise ApiError(404, {"error": "unknown_prm", "detail": prm})
        consents = {client_id: {"granted_at": c.granted_at, "expires_at": c.expires_at, "revoked_at": c.revoked_at,
                                "valid": c.valid(state.clock.now())}
                    for (client_id, p), c in state.consents.items() if p == prm}
        return {**meter_view(state.meters[prm]), "consents": consents}

    @app.put("/_sandbox/session", tags=["control"])
    async def set_session(body: SessionIn) -> dict[str, Any]:
        if body.customer_id is not None and body.customer_id not in state.customers:
            raise ApiError(404, {"error": "unknown_customer", "detail": body.customer_id})
        state.session_customer = body.customer_id
        return {"customer_id": body.customer_id}

    def consents_for(prm: str, client_id: str | None) -> list:
        found = [c for (cid, p), c in state.consents.items() if p == prm and client_id in (None, cid)]
        if not found:
            raise ApiError(404, {"error": "unknown_consent", "detail": prm})
        return found

    @app.post("/_sandbox/consents/{prm}/revoke", tags=["control"])
    async def revoke_consent(prm: str, body: ConsentIn | None = None) -> dict[str, Any]:
        for consent in consents_for(prm, body.client_id if body else None):
            consent.revoked_at = state.clock.now()
        return {"prm": prm, "state": "revoked"}

    @app.post("/_sandbox/consents/{prm}/expire", tags=["control"])
    async def expire_consent(prm: str, body: ConsentIn | None = None) -> dict[str, Any]:
        for consent in consents_for(prm, body.client_id if body else None):
            consent.expires_at = min(consent.expires_at, state.clock.now())
        return {"prm": prm, "state": "expired"}

    @app.post("/_sandbox/consents/{prm}/grant", tags=["control"])
    async def grant_consent(prm: str, body: ConsentIn | None = None) -> dict[str, Any]:
        if prm not in state.meters:
            raise ApiError(404, {"error": "unknown_prm", "detail": prm})
        clients = [body.client_id] if body and body.client_id else list(state.clients)
        for client_id in clients:
            state.grant(client_id, prm, state.clock.now() + dt.timedelta(days=1095))
        return {"prm": prm, "state": "granted"}

    def faults_view() -> dict[str, Any]:
        return asdict(state.faults)

    @app.put("/_sandbox/faults", tags=["control"])
    async def set_faults(body: FaultsIn) -> dict[str, Any]:
        for name in ("latency_ms", "fail_next_500", "fail_next_429", "truncate_next"):
            value = getattr(body, name)
            if value is not None:
                setattr(state.faults, name, value)
        if body.outage_minutes is not None:
            state.faults.outage_until = (state.clock.now() + dt.timedelta(minutes=body.outage_minutes)
                                         if body.outage_minutes else None)
        return faults_view()

    @app.delete("/_sandbox/faults", tags=["control"])
    async def clear_faults() -> dict[str, Any]:
        state.faults = replace(state.faults, latency_ms=0, fail_next_500=0, fail_next_429=0, truncate_next=0,
                               outage_until=None)
        return faults_view()

    @app.put("/_sandbox/quotas", tags=["control"])
    async def set_quotas(body: QuotasIn) -> dict[str, Any]:
        if body.per_second is not None:
            state.per_second_quota = body.per_second
        if body.per_hour is not None:
            state.hourly_quota = body.per_hour
        state.windows.clear()
        return {"per_second": state.per_second_quota, "per_hour": state.hourly_quota}

    def clock_view() -> dict[str, Any]:
        now = state.clock.now()
        return {"now": now, "frozen": state.clock.fixed is not None, "today": state.clock.today(),
                "last_published_day": state.clock.last_published_day(),
                "history_deadline": history_deadline(state.clock.today())}

    @app.get("/_sandbox/clock", tags=["control"])
    async def read_clock() -> dict[str, Any]:
        return clock_view()

    @app.put("/_sandbox/clock", tags=["control"])
    async def set_clock(body: ClockIn) -> dict[str, Any]:
        if body.now.tzinfo is None:
            raise ApiError(422, {"error": "naive_datetime", "detail": "give an offset, e.g. +01:00 or Z"})
        state.clock.set(body.now.astimezone(dt.UTC), body.frozen)
        return clock_view()

    @app.post("/_sandbox/clock/advance", tags=["control"])
    async def advance_clock(body: AdvanceIn) -> dict[str, Any]:
        state.clock.advance(body.seconds)
        return clock_view()

    @app.delete("/_sandbox/clock", tags=["control"])
    async def real_clock() -> dict[str, Any]:
        state.clock.reset()
        return clock_view()

    @app.get("/_sandbox/ground_truth/{prm}", tags=["control"])
    async def ground_truth(prm: str, start: dt.date | None = None, end: dt.date | None = None,
                           published_only: bool = True) -> dict[str, Any]:
        meter = state.meters.get(prm)
        if meter is None:
            raise ApiError(404, {"error": "unknown_prm", "detail": prm})
        today = state.clock.today()
        start = start or meter.activation_date
        end = min(end or today, today)
        if published_only:
            end = min(end, state.clock.last_published_day() + dt.timedelta(days=1))
        series = meter.daily_series(start, end)
        peaks = [meter.max_power(day, wh) for day, wh in series]
        return {"prm": prm, "unit": "Wh", "start": start, "end": end, "activation_date": meter.activation_date,
                "last_published_day": state.clock.last_published_day(),
                "days": [{"date": day.isoformat(), "value": wh} for day, wh in series],
                "max_power": [{"date": day.isoformat(), "value": va, "at": moment.isoformat()}
                              for (day, _), (va, moment) in zip(series, peaks)]}

    @app.get("/_sandbox/counters", tags=["control"])
    async def counters() -> dict[str, Any]:
        return {name: state.counters[name] for name in ("calls", "served", "throttled", "tokens_issued")} | {
                "status": dict(state.status_counts),
                "peak_calls_in_one_second": state.peak_per_second,
                "quotas": {"per_second": state.per_second_quota, "per_hour": state.hourly_quota}}

    @app.delete("/_sandbox/counters", tags=["control"])
    async def reset_counters() -> dict[str, Any]:
        state.reset_counters()
        return {"reset": True}

    @app.post("/_sandbox/reset", tags=["control"])
    async def reset() -> dict[str, Any]:
        state.reset()
        return {"reset": True}

    @app.get("/_sandbox/health", tags=["control"])
    async def health() -> dict[str, Any]:
        return {"status": "ok", "uptime_s": round(time.monotonic() - started, 1)}

    started = time.monotonic()
    return app
