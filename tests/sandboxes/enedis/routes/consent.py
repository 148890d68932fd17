"""The customer's consent pages (Data Connect v1 and the 2026 v2), GET shows the page, POST is the click."""
from __future__ import annotations

import datetime as dt
import html
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..customers import Customer
from ..dates import add_months
from ..gateway import ApiError, Sandbox
from ..state import PARIS, SandboxState

DURATION_PATTERN = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")

router = APIRouter()


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


def consent_customer(state: SandboxState, state_param: str, login_hint: str | None) -> Customer:
    for candidate in (login_hint, state.session_customer):
        if candidate and candidate in state.customers:
            return state.customers[candidate]
    digit = state_param[-1] if state_param and state_param[-1].isdigit() else "0"
    return state.customers.get(f"sandbox-{digit}", state.customers["sandbox-0"])


def check_authorize(state: SandboxState, params: dict[str, str]) -> tuple[Any, dt.date]:
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


def checked_or_page(state: SandboxState, params: dict[str, str]) -> tuple | Response:
    """The authorize parameters checked; what the API would answer 404 is Enedis' error page here."""
    try:
        return check_authorize(state, params)
    except ApiError as error:
        if error.status == 404:
            return not_found_page()
        raise


async def authorize_get(request: Request, state: SandboxState, generation: str) -> Response:
    params = dict(request.query_params)
    checked = checked_or_page(state, params)
    if isinstance(checked, Response):
        return checked
    client, end = checked
    customer = consent_customer(state, params.get("state", ""), params.get("login_hint"))
    return HTMLResponse(consent_page(generation, params, customer, client, end))


async def authorize_post(request: Request, state: SandboxState, generation: str) -> Response:
    form = await request.form()
    params = {k: str(v) for k, v in form.items()}
    checked = checked_or_page(state, params)
    if isinstance(checked, Response):
        return checked
    client, end = checked
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


def bind(handler, generation: str):
    async def endpoint(request: Request, state: Sandbox) -> Response:
        return await handler(request, state, generation)
    return endpoint


for generation in ("v1", "v2"):
    path = f"/dataconnect/{generation}/oauth2/authorize"
    router.add_api_route(path, bind(authorize_get, generation), methods=["GET"], include_in_schema=False)
    router.add_api_route(path, bind(authorize_post, generation), methods=["POST"], include_in_schema=False)
